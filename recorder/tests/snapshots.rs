//! Screen snapshots under the policy, on a private desktop: a Tk form (no accessibility tree)
//! recorded with snapshots on and read back with OCR; the same actions under the default policy
//! store none; and the GTK form with a masked text field and a password field, whose stored
//! images must show neither value.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use desktop::{A11y, Found, WindowQuery};
use recorder::snapshot_ocr::{self, read_words, text_of};
use recorder::Privacy;
use support::{assert_absent, Desktop, Recording};
use uilog::store::Snapshot;
use uilog::{EventKind, Store};

/// Starts the Tk form and returns its widgets' screen boxes (x, y, width, height) by name.
fn tk_form(desk: &mut Desktop, dir: &Path) -> serde_json::Map<String, serde_json::Value> {
    let python = "/usr/bin/python3";
    let ok = std::process::Command::new(python)
        .args(["-c", "import tkinter"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{python} has no tkinter: apt-get install python3-tk (scripts/setup.sh)"
    );
    let geometry = dir.join("tk-geometry.json");
    let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apps/tkform.py");
    desk.spawn(
        python,
        &[
            app.to_str().unwrap(),
            "--geometry",
            geometry.to_str().unwrap(),
        ],
    );
    let id = desk.window("Tk form");
    desk.activate(&id);
    let start = Instant::now();
    while !geometry.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the Tk form wrote no geometry"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    serde_json::from_str(&std::fs::read_to_string(&geometry).unwrap()).unwrap()
}

fn center(geo: &serde_json::Map<String, serde_json::Value>, name: &str) -> (i32, i32) {
    let v: Vec<i32> = geo[name]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_i64().unwrap() as i32)
        .collect();
    (v[0] + v[2] / 2, v[1] + v[3] / 2)
}

fn click(desk: &Desktop, (x, y): (i32, i32)) {
    desk.xdotool(&["mousemove", &x.to_string(), &y.to_string(), "click", "1"]);
    std::thread::sleep(Duration::from_millis(300));
}

fn type_text(desk: &Desktop, s: &str) {
    desk.xdotool(&["type", "--delay", "30", s]);
    std::thread::sleep(Duration::from_millis(300));
}

/// An e-mail address typed into the form: the click after it photographs it, and what OCR reads
/// there must reach the store only through the PII detectors.
const EMAIL: &str = "ann.lee@example.org";

/// The same steps in every recording of the Tk form: two typed fields (the second an e-mail
/// address, clicked again once typed), Clear, Save.
fn tk_steps(desk: &Desktop, geo: &serde_json::Map<String, serde_json::Value>) {
    click(desk, center(geo, "first"));
    type_text(desk, "Ada");
    click(desk, center(geo, "save"));
    click(desk, center(geo, "last"));
    type_text(desk, EMAIL);
    click(desk, center(geo, "last"));
    click(desk, center(geo, "clear"));
    click(desk, center(geo, "save"));
    std::thread::sleep(Duration::from_millis(400));
}

fn privacy(yaml: &str) -> Privacy {
    let policy = recorder::Policy::parse(yaml, Path::new("test.yaml")).unwrap();
    Privacy::new(policy, &[5; 32]).unwrap()
}

#[test]
fn tk_form_snapshots_are_small_read_by_ocr_and_off_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start();
    let geo = tk_form(&mut desk, dir.path());

    // The default policy: no snapshot, and no word of them at start.
    let off_db = dir.path().join("off.db");
    let mut rec = Recording::start(&desk, dir.path(), &off_db, None);
    tk_steps(&desk, &geo);
    rec.stop();
    assert!(!rec.stderr().contains("snapshots:"), "{}", rec.stderr());
    let store = Store::open(&off_db).unwrap();
    assert!(store
        .events()
        .unwrap()
        .iter()
        .any(|e| e.kind == EventKind::Click));
    assert!(
        store.snapshots(false).unwrap().is_empty(),
        "snapshots are off by default"
    );

    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, "screenshots: elements\ntext: plain\n").unwrap();
    let db = dir.path().join("on.db");
    let mut rec = Recording::start(&desk, dir.path(), &db, Some(&policy));
    tk_steps(&desk, &geo);
    rec.stop();
    let err = rec.stderr();
    assert!(err.contains("snapshots: elements"), "{err}");

    let mut store = Store::open(&db).unwrap();
    let snaps = store.snapshots(false).unwrap();
    let events = store.events().unwrap();
    let ids = event_ids(&store);
    let wanted: Vec<i64> = events
        .iter()
        .zip(&ids)
        .filter(|(e, _)| matches!(e.kind, EventKind::Click | EventKind::Type))
        .map(|(_, id)| *id)
        .collect();
    assert_eq!(wanted.len(), 8, "6 clicks and 2 typed runs: {events:#?}");
    let have: Vec<i64> = snaps.iter().map(|s| s.event_id).collect();
    assert_eq!(
        have, wanted,
        "every click and typed run has its snapshot: {err}"
    );
    let bytes: usize = snaps.iter().map(|s| s.png.len()).sum();
    let mean = bytes / snaps.len();
    eprintln!("{} snapshots, {mean} bytes on average", snaps.len());
    assert!(mean <= 8 * 1024, "{mean} bytes per snapshot on average");
    for s in &snaps {
        assert!(s.png.starts_with(b"\x89PNG"));
        assert!(
            s.width <= 400 && s.height <= 200,
            "{}x{}",
            s.width,
            s.height
        );
    }

    // OCR after capture names the buttons, so that mining tells Save from Clear.
    let summary = snapshot_ocr::ocr_pass(&mut store, &privacy("text: plain\n")).unwrap();
    assert_eq!(summary.read, 8, "{summary:?}");
    let events = store.events().unwrap();
    let clicks: Vec<Option<String>> = events
        .iter()
        .filter(|e| e.kind == EventKind::Click)
        .map(|e| e.element.as_ref().and_then(|el| el.name.clone()))
        .collect();
    let named = |n: &str| clicks.iter().filter(|c| c.as_deref() == Some(n)).count();
    assert_eq!(named("text 'Save'"), 2, "{clicks:?}");
    assert_eq!(named("text 'Clear'"), 1, "{clicks:?}");
    assert!(store.snapshots(true).unwrap().is_empty(), "all read");
    // The address was on screen and OCR read it, but only its PII tag was stored.
    let read: Vec<String> = store
        .snapshots(false)
        .unwrap()
        .into_iter()
        .filter_map(|s| s.ocr)
        .collect();
    assert!(read.iter().any(|t| t.contains("<email>")), "{read:?}");
    drop(store);
    let files: Vec<(std::path::PathBuf, Vec<u8>)> = ["", "-wal"]
        .iter()
        .map(|x| std::path::PathBuf::from(format!("{}{x}", db.display())))
        .filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b)))
        .collect();
    assert_absent(&files, &[EMAIL, "example.org"]);
}

/// Event ids in the order `Store::events` returns events (session, time).
fn event_ids(store: &Store) -> Vec<i64> {
    let mut ids = Vec::new();
    store
        .scan(|row| -> uilog::Result<()> {
            ids.push(row.id);
            Ok(())
        })
        .unwrap();
    ids
}

fn form_fields(a11y: &A11y, names: &[&str]) -> Vec<Found> {
    let window = WindowQuery {
        pid: None,
        title: Some("Customer form".into()),
    };
    let start = Instant::now();
    loop {
        let hits = a11y
            .find(
                &window,
                &|e| matches!(e.role.as_deref(), Some("text" | "password text")),
                Duration::from_secs(5),
            )
            .unwrap_or_default();
        let found: Vec<Found> = names
            .iter()
            .filter_map(|n| {
                hits.iter()
                    .find(|h| h.element.name.as_deref() == Some(n) && h.extents.width > 0)
                    .cloned()
            })
            .collect();
        if found.len() == names.len() {
            return found;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "form fields not on the bus: {hits:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn masked_and_password_fields_are_blank_in_stored_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start();
    let bus = desk.start_accessibility();
    desk.gtk_form(&dir.path().join("saved.jsonl"), &["--password"]);
    let a11y = A11y::connect_session(&bus).expect("the test's accessibility bus");
    let fields = form_fields(&a11y, &["First name", "Password", "Last name"]);

    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, "screenshots: on\ntext: mask\n").unwrap();
    let db = dir.path().join("log.db");
    let mut rec = Recording::start(&desk, dir.path(), &db, Some(&policy));
    let secrets = ["Quistberg", "Hunter2secret"];
    click(&desk, fields[0].extents.center());
    type_text(&desk, secrets[0]);
    click(&desk, fields[1].extents.center());
    type_text(&desk, secrets[1]);
    // Both values are on screen now, next to the field clicked and typed in last.
    click(&desk, fields[2].extents.center());
    type_text(&desk, "Zed");
    click(&desk, fields[0].extents.center());
    std::thread::sleep(Duration::from_millis(500));
    rec.stop();
    let err = rec.stderr();
    assert!(
        err.contains("masked text and password fields blanked"),
        "{err}"
    );
    assert_absent(&rec.raw_bytes(), &secrets);

    let store = Store::open(&db).unwrap();
    let snaps: Vec<Snapshot> = store.snapshots(false).unwrap();
    assert!(snaps.len() >= 4, "{} snapshots: {err}", snaps.len());
    let mut labels = 0;
    for s in &snaps {
        let text = text_of(&read_words(&s.png).unwrap());
        for secret in secrets {
            // Also a part of it: OCR may split or misread a letter at the end.
            assert!(
                !text.contains(secret) && !text.contains(&secret[..5]),
                "{secret:?} readable in snapshot of event {}: {text:?}",
                s.event_id
            );
        }
        labels += usize::from(text.contains("Save"));
    }
    // OCR does read these images: the Save button below the blanked fields.
    assert!(
        labels >= 1,
        "no button read in any of {} snapshots",
        snaps.len()
    );
}
