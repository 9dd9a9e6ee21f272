//! The recorder against a real X desktop: Xvfb, openbox, xterm and xmessage, driven with enigo.

mod support;

use std::time::{Duration, SystemTime};

use enigo::Key;
use support::{assert_absent, ClipboardOwner, Desktop, Recording};
use uilog::{Event, EventKind, Store};

fn events(db: &std::path::Path) -> Vec<Event> {
    Store::open(db)
        .expect("open the recorded database")
        .events()
        .expect("read events")
}

/// (kind, app, window title, text or keys) of each event, for comparing sequences.
fn summary(events: &[Event]) -> Vec<(EventKind, String, String, String)> {
    events
        .iter()
        .map(|e| {
            let detail = match e.kind {
                EventKind::Shortcut | EventKind::Copy | EventKind::Paste => {
                    e.attrs.get("keys").cloned().unwrap_or_default()
                }
                _ => e.text.clone().unwrap_or_default(),
            };
            (e.kind, e.app.clone(), e.window.clone(), detail)
        })
        .collect()
}

fn row(
    kind: EventKind,
    app: &str,
    title: &str,
    detail: &str,
) -> (EventKind, String, String, String) {
    (kind, app.to_owned(), title.to_owned(), detail.to_owned())
}

#[test]
fn clicks_typing_shortcuts_and_switches_across_two_apps() {
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start();
    let term = desk.xterm("alpha notes", "60x15+20+20", &[]);
    let memo = desk.xmessage("Memo board", "400x200+600+400", "Remember the report");
    desk.activate(&memo);
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, "text: plain\n").unwrap();
    let db = dir.path().join("log.db");
    let mut rec = Recording::start(&desk, dir.path(), &db, Some(&policy));

    desk.click(150, 100);
    desk.type_text("hello there");
    desk.key(Key::Return);
    desk.ctrl('l');
    desk.click(700, 450);
    desk.type_text("abc");
    desk.key(Key::Tab);
    desk.activate(&term);
    desk.type_text("bye");
    desk.key(Key::Return);
    // A title change is not a switch: later events carry the new title.
    let renamed = desk
        .cmd("xdotool")
        .args(["set_window", "--name", "alpha renamed", &term])
        .status()
        .unwrap();
    assert!(renamed.success());
    desk.settle();
    desk.type_text("z");
    desk.key(Key::Return);
    std::thread::sleep(Duration::from_millis(300));
    rec.stop();

    let all = events(&db);
    let first_click = all
        .iter()
        .position(|e| e.kind == EventKind::Click)
        .expect("a click was recorded");
    // The recording starts with the focus it found (the memo); from the first click on, the log
    // must be exactly what was done.
    assert_eq!(
        summary(&all[..first_click])
            .last()
            .map(|r| (r.0, r.1.clone())),
        Some((EventKind::Focus, "xterm".to_owned())),
        "clicking into the terminal switches to it first: {:#?}",
        summary(&all)
    );
    assert_eq!(
        summary(&all[first_click..]),
        vec![
            row(EventKind::Click, "xterm", "alpha notes", ""),
            row(EventKind::Type, "xterm", "alpha notes", "hello there"),
            row(EventKind::Shortcut, "xterm", "alpha notes", "enter"),
            row(EventKind::Shortcut, "xterm", "alpha notes", "ctrl+l"),
            row(EventKind::Focus, "xmessage", "Memo board", ""),
            row(EventKind::Click, "xmessage", "Memo board", ""),
            row(EventKind::Type, "xmessage", "Memo board", "abc"),
            row(EventKind::Shortcut, "xmessage", "Memo board", "tab"),
            row(EventKind::Focus, "xterm", "alpha notes", ""),
            row(EventKind::Type, "xterm", "alpha notes", "bye"),
            row(EventKind::Shortcut, "xterm", "alpha notes", "enter"),
            row(EventKind::Type, "xterm", "alpha renamed", "z"),
            row(EventKind::Shortcut, "xterm", "alpha renamed", "enter"),
        ],
        "stderr: {}",
        rec.stderr()
    );
    let click = &all[first_click];
    assert_eq!((click.x, click.y), (Some(150), Some(100)));
    let (wx, wy) = (click.wx.unwrap(), click.wy.unwrap());
    assert!(
        (0..150).contains(&wx) && (0..100).contains(&wy),
        "window-relative ({wx}, {wy})"
    );
    assert!(
        all.windows(2).all(|w| w[0].ts <= w[1].ts),
        "events are in time order"
    );
    assert!(all
        .iter()
        .all(|e| e.session == "test" && e.user.starts_with("user-")));
    assert!(
        dir.path().join("policy.key").exists(),
        "the key lives beside the policy"
    );
}

const CARD: &str = "4111 1111 1111 1111";
const EMAIL: &str = "jane.doe@example.org";
const PASSWORD: &str = "Hunter2-Sup3rS3cret";

#[test]
fn default_policy_leaves_no_card_email_or_password_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start();
    desk.xterm("notes", "60x15+20+20", &[]);
    desk.xterm("Password prompt", "60x15+600+400", &[]);
    let db = dir.path().join("log.db");
    let mut rec = Recording::start(&desk, dir.path(), &db, None);

    desk.click(150, 100);
    desk.type_text(CARD);
    desk.key(Key::Return);
    desk.type_text(EMAIL);
    desk.key(Key::Return);
    desk.click(750, 500);
    desk.type_text(PASSWORD);
    desk.key(Key::Return);
    std::thread::sleep(Duration::from_millis(800));

    let secrets = [
        CARD,
        "4111111111111111",
        EMAIL,
        "jane.doe",
        PASSWORD,
        "Sup3r",
    ];
    // While recording (WAL not yet checkpointed) and after a clean stop.
    assert_absent(&rec.raw_bytes(), &secrets);
    rec.stop();
    assert_absent(&rec.raw_bytes(), &secrets);

    let key_file = dir.path().join(".config/taskmine/recorder.key");
    let key =
        std::fs::read_to_string(&key_file).expect("the default key is created in the config dir");
    assert_absent(&rec.raw_bytes(), &[key.trim(), &key.trim()[..16]]);

    let typed: Vec<Event> = events(&db)
        .into_iter()
        .filter(|e| e.kind == EventKind::Type)
        .collect();
    assert_eq!(
        typed.len(),
        3,
        "three runs were typed: {typed:#?}\n{}",
        rec.stderr()
    );
    assert!(
        typed.iter().all(|e| e.text.is_none()),
        "the default policy keeps no text"
    );
    assert!(typed[0].value_hash.is_some() && typed[1].value_hash.is_some());
    assert_ne!(typed[0].value_hash, typed[1].value_hash);
    assert_eq!(typed[2].window, "Password prompt");
    assert_eq!(
        typed[2].value_hash, None,
        "a password context keeps not even a hash"
    );
}

#[test]
fn plain_mode_replaces_the_email_pauses_on_sigusr1_and_applies_retention() {
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start();
    desk.xterm("mail draft", "60x15+20+20", &[]);
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, "text: plain\nretention_days: 90\n").unwrap();
    let db = dir.path().join("log.db");
    let day: i64 = 86_400_000_000;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    {
        let mut store = Store::open(&db).unwrap();
        let old = Event::new("earlier", "u", now - 200 * day, EventKind::Click);
        let recent = Event::new("earlier", "u", now - day, EventKind::Click);
        store
            .write_batch(None, "test", |sink| -> uilog::Result<()> {
                sink.push(&old)?;
                sink.push(&recent)
            })
            .unwrap();
    }
    let mut rec = Recording::start(&desk, dir.path(), &db, Some(&policy));

    desk.click(150, 100);
    desk.type_text(&format!("write to {EMAIL} today"));
    desk.key(Key::Return);
    rec.signal("USR1");
    desk.type_text("private stuff");
    desk.key(Key::Return);
    rec.signal("USR1");
    desk.type_text("public");
    desk.key(Key::Return);
    std::thread::sleep(Duration::from_millis(800));
    assert_absent(&rec.raw_bytes(), &[EMAIL, "private stuff"]);
    rec.stop();
    assert_absent(&rec.raw_bytes(), &[EMAIL, "private stuff"]);

    let all = events(&db);
    let earlier: Vec<i64> = all
        .iter()
        .filter(|e| e.session == "earlier")
        .map(|e| e.ts)
        .collect();
    assert_eq!(
        earlier,
        vec![now - day],
        "retention deleted only the event older than 90 days"
    );
    let typed: Vec<&str> = all
        .iter()
        .filter(|e| e.kind == EventKind::Type)
        .filter_map(|e| e.text.as_deref())
        .collect();
    assert_eq!(
        typed,
        vec!["write to <email> today", "public"],
        "{}",
        rec.stderr()
    );
    let paused: Vec<EventKind> = all
        .iter()
        .filter(|e| e.attrs.get("reason").is_some_and(|r| r == "paused"))
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        paused,
        vec![EventKind::IdleStart, EventKind::IdleEnd],
        "the pause shows as an idle period"
    );
}

#[test]
fn copy_and_paste_carry_the_filtered_clipboard_and_one_value_hash() {
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start();
    desk.xterm("clip notes", "60x15+20+20", &[]);
    desk.xterm("Password prompt", "60x15+600+400", &[]);
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, "text: plain\n").unwrap();
    let db = dir.path().join("log.db");
    let clipboard = ClipboardOwner::start(&desk.display, &format!("call {EMAIL} now"));
    let mut rec = Recording::start(&desk, dir.path(), &db, Some(&policy));

    desk.click(150, 100);
    desk.ctrl('c');
    desk.ctrl('v');
    desk.click(750, 500);
    desk.ctrl('v');
    std::thread::sleep(Duration::from_millis(500));
    rec.stop();
    drop(clipboard);

    assert_absent(&rec.raw_bytes(), &[EMAIL]);
    let clip: Vec<Event> = events(&db)
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::Copy | EventKind::Paste))
        .collect();
    assert_eq!(
        summary(&clip),
        vec![
            row(EventKind::Copy, "xterm", "clip notes", "ctrl+c"),
            row(EventKind::Paste, "xterm", "clip notes", "ctrl+v"),
            row(EventKind::Paste, "xterm", "Password prompt", "ctrl+v"),
        ],
        "{}",
        rec.stderr()
    );
    assert_eq!(clip[0].text.as_deref(), Some("call <email> now"));
    assert_eq!(clip[1].text, clip[0].text);
    assert!(clip[0].value_hash.is_some());
    assert_eq!(
        clip[0].value_hash, clip[1].value_hash,
        "the value is seen moving from copy to paste"
    );
    assert_eq!(
        (clip[2].text.as_deref(), clip[2].value_hash),
        (None, None),
        "nothing in a password context"
    );
}

#[test]
fn denied_app_leaves_no_title_text_or_coordinates() {
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start();
    let work = desk.xterm("work log", "60x15+20+20", &[]);
    desk.xterm("Top Secret Title", "60x15+600+400", &["-name", "secretapp"]);
    desk.activate(&work);
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, "text: plain\napps:\n  deny: [secretapp]\n").unwrap();
    let db = dir.path().join("log.db");
    // The clipboard holds what the denied app copied; pasting it elsewhere must not reveal it.
    let clipboard =
        ClipboardOwner::start_as(&desk.display, "classified clipboard", Some("secretapp"));
    let mut rec = Recording::start(&desk, dir.path(), &db, Some(&policy));

    desk.click(150, 100);
    desk.type_text("visible");
    desk.key(Key::Return);
    desk.ctrl('v');
    desk.click(750, 500);
    desk.type_text("classified words");
    desk.key(Key::Return);
    desk.ctrl('l');
    desk.scroll(2);
    desk.click(760, 510);
    desk.click(150, 110);
    desk.type_text("more");
    desk.key(Key::Return);
    std::thread::sleep(Duration::from_millis(300));
    rec.stop();
    drop(clipboard);

    assert_absent(&rec.raw_bytes(), &["Top Secret", "classified", "secretapp"]);
    let all = events(&db);
    let other: Vec<&Event> = all
        .iter()
        .filter(|e| e.app == recorder::privacy::OTHER_APP)
        .collect();
    assert_eq!(
        other.len(),
        1,
        "one switch into the denied app: {:#?}",
        summary(&all)
    );
    let e = other[0];
    assert_eq!(e.kind, EventKind::Focus);
    assert!(
        e.window.is_empty() && e.x.is_none() && e.y.is_none() && e.wx.is_none() && e.text.is_none()
    );
    assert!(e.value_hash.is_none() && e.attrs.is_empty());
    let texts: Vec<&str> = all.iter().filter_map(|e| e.text.as_deref()).collect();
    assert_eq!(texts, vec!["visible", "more"]);
    let paste: Vec<&Event> = all.iter().filter(|e| e.kind == EventKind::Paste).collect();
    assert_eq!(paste.len(), 1, "{:#?}", summary(&all));
    assert_eq!(paste[0].app, "xterm");
    assert_eq!(
        (paste[0].text.as_deref(), paste[0].value_hash),
        (None, None),
        "the text was copied in the denied app"
    );
    // The time spent there is what remains: the switch in and the switch back out.
    let back = all
        .iter()
        .position(|x| x.ts > e.ts && x.kind == EventKind::Focus)
        .expect("switch back");
    assert_eq!(all[back].app, "xterm");
    assert!(
        all[back].ts - e.ts > 1_000_000,
        "at least a second in the denied app"
    );
}

#[test]
fn kill_9_keeps_the_database_sound_and_events_older_than_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start();
    desk.xterm("clicks", "100x30+0+0", &[]);
    let db = dir.path().join("log.db");
    let mut rec = Recording::start(&desk, dir.path(), &db, None);

    // Clicks 12 px apart (never a double click), each remembered with the time it was made.
    let mut made = Vec::new();
    for i in 0..30 {
        let x = 40 + 12 * i;
        desk.click(x, 150);
        made.push((x, SystemTime::now()));
    }
    let killed_at = SystemTime::now();
    rec.kill9();

    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    let clicked_x: Vec<i32> = events(&db)
        .iter()
        .filter(|e| e.kind == EventKind::Click)
        .filter_map(|e| e.x)
        .collect();
    let old: Vec<i32> = made
        .iter()
        .filter(|(_, t)| killed_at.duration_since(*t).unwrap() > Duration::from_secs(1))
        .map(|(x, _)| *x)
        .collect();
    assert!(
        old.len() >= 20,
        "the test made enough clicks before the last second"
    );
    for x in &old {
        assert!(
            clicked_x.contains(x),
            "click at x={x} is lost; stored: {clicked_x:?}"
        );
    }
}
