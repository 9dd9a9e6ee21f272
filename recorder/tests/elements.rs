//! UI elements in recorded events, against real apps on a private desktop with its own session
//! and accessibility bus: the GTK3 test form and the HTML test form in Chromium, driven with
//! xdotool while `taskmine-record` runs.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use desktop::{A11y, Found, WindowQuery};
use support::{assert_absent, Desktop, Recording};
use uilog::{Event, EventKind, Store};

fn events(db: &Path) -> Vec<Event> {
    Store::open(db)
        .expect("open the recorded database")
        .events()
        .expect("read events")
}

/// Waits until the accessibility tree shows every named element under the window titled
/// `title`, and returns them in the order asked.
fn wait_for_elements(a11y: &A11y, title: &str, names: &[&str], timeout: Duration) -> Vec<Found> {
    let window = WindowQuery {
        pid: None,
        title: Some(title.into()),
    };
    let start = Instant::now();
    loop {
        let hits = a11y
            .find(
                &window,
                &|e| {
                    // Labels share their fields' names; the fields and the button are what a user clicks.
                    e.role.as_deref() != Some("label")
                        && e.role.as_deref() != Some("static")
                        && e.name.as_deref().is_some_and(|n| names.contains(&n))
                },
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
            start.elapsed() < timeout,
            "the accessibility tree of {title:?} did not show {names:?} within {timeout:?}; it showed {:?}",
            hits.iter().map(|h| &h.element).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// What a step should have recorded: the element's role, name and (for web content) DOM id.
#[derive(Debug, Clone)]
struct Expect {
    role: &'static str,
    name: &'static str,
    id: Option<&'static str>,
}

fn matches(e: &Event, want: &Expect) -> bool {
    e.element.as_ref().is_some_and(|el| {
        el.role.as_deref() == Some(want.role)
            && el.name.as_deref() == Some(want.name)
            && (want.id.is_none() || el.id.as_deref() == want.id)
            && el.path.is_some()
    })
}

/// Fills the form `rounds` times (click a field, type its value; then Save) while the recorder
/// runs, and checks that ≥ 95 % of clicks and typed runs carry the right element and that no
/// password reached the disk. `silent` is a point in an xterm (no accessibility tree), clicked
/// twice at the end: the recorder must name that app once.
fn record_form(
    desk: &mut Desktop,
    dir: &Path,
    fields: &[Found],
    expect: &[Expect],
    rounds: usize,
    silent: Option<(i32, i32)>,
) -> Vec<Event> {
    let db = dir.join("log.db");
    let policy = dir.join("policy.yaml");
    std::fs::write(&policy, "text: plain\n").unwrap();
    let mut rec = Recording::start(desk, dir, &db, Some(&policy));
    assert!(
        rec.stderr()
            .contains("UI elements: from the accessibility bus"),
        "{}",
        rec.stderr()
    );
    let mut clicked = Vec::new();
    let mut typed = Vec::new();
    for round in 0..rounds {
        for (f, want) in fields.iter().zip(expect) {
            let (x, y) = f.extents.center();
            desk.xdotool(&["mousemove", &x.to_string(), &y.to_string(), "click", "1"]);
            clicked.push(want.clone());
            std::thread::sleep(Duration::from_millis(250));
            if want.role != "push button" {
                let value = value_for(want.name, round);
                desk.xdotool(&["type", "--delay", "25", &value]);
                typed.push(want.clone());
                std::thread::sleep(Duration::from_millis(250));
            } else {
                std::thread::sleep(Duration::from_millis(400));
            }
        }
    }
    if let Some((x, y)) = silent {
        for _ in 0..2 {
            desk.xdotool(&["mousemove", &x.to_string(), &y.to_string(), "click", "1"]);
            std::thread::sleep(Duration::from_millis(400));
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let secrets: Vec<String> = (0..rounds).map(|r| value_for("Password", r)).collect();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_absent(&rec.raw_bytes(), &secrets);
    rec.stop();
    assert_absent(&rec.raw_bytes(), &secrets);

    if silent.is_some() {
        let err = rec.stderr();
        assert_eq!(
            err.matches("no UI elements from xterm").count(),
            1,
            "an app without elements is named once: {err}"
        );
    }
    let ev: Vec<Event> = events(&db)
        .into_iter()
        .filter(|e| e.app != "xterm")
        .collect();
    let clicks: Vec<&Event> = ev.iter().filter(|e| e.kind == EventKind::Click).collect();
    let runs: Vec<&Event> = ev.iter().filter(|e| e.kind == EventKind::Type).collect();
    assert_eq!(
        (clicks.len(), runs.len()),
        (clicked.len(), typed.len()),
        "every click and typed run is an event: {ev:#?}\n{}",
        rec.stderr()
    );
    for (what, got, want) in [("clicks", &clicks, &clicked), ("typed runs", &runs, &typed)] {
        let right = got.iter().zip(want).filter(|(e, w)| matches(e, w)).count();
        let wrong: Vec<_> = got
            .iter()
            .zip(want)
            .filter(|(e, w)| !matches(e, w))
            .map(|(e, w)| (w.name, e.element.clone()))
            .collect();
        assert!(
            right * 100 >= want.len() * 95,
            "{right} of {} {what} carry the right element; wrong: {wrong:#?}\n{}",
            want.len(),
            rec.stderr()
        );
    }
    for (run, want) in runs.iter().zip(&typed) {
        if want.name == "Password" {
            assert_eq!(
                (run.text.as_deref(), run.value_hash),
                (None, None),
                "{run:?}"
            );
        }
    }
    assert!(
        runs.iter()
            .any(|r| r.text.as_deref() == Some(&value_for("First name", 0)[..])),
        "plain text is kept outside password fields"
    );
    ev
}

fn value_for(field: &str, round: usize) -> String {
    match field {
        "First name" => ["Ann", "Bo", "Cleo", "Dag", "Eli", "Finn"][round % 6].to_owned(),
        "Last name" => ["Quist", "Lund", "Berg", "Holm", "Ek", "Dahl"][round % 6].to_owned(),
        "E-mail" => format!("user{round}@example.org"),
        _ => format!("S3cretPw{round}x"),
    }
}

#[test]
fn gtk_form_clicks_and_typed_runs_carry_their_fields() {
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start();
    let bus = desk.start_accessibility();
    let saved = dir.path().join("saved.jsonl");
    desk.gtk_form(&saved, &["--password"]);
    let a11y = A11y::connect_session(&bus).expect("the test's accessibility bus");
    let names = ["First name", "Last name", "E-mail", "Password", "Save"];
    let fields = wait_for_elements(&a11y, "Customer form", &names, Duration::from_secs(20));
    let expect = [
        Expect {
            role: "text",
            name: "First name",
            id: None,
        },
        Expect {
            role: "text",
            name: "Last name",
            id: None,
        },
        Expect {
            role: "text",
            name: "E-mail",
            id: None,
        },
        Expect {
            role: "password text",
            name: "Password",
            id: None,
        },
        Expect {
            role: "push button",
            name: "Save",
            id: None,
        },
    ];
    desk.xterm("plain terminal", "30x6+0+0", &[]);
    let ev = record_form(&mut desk, dir.path(), &fields, &expect, 4, Some((60, 40)));
    let saved = std::fs::read_to_string(&saved).expect("the form saved");
    assert_eq!(saved.lines().count(), 4, "{saved}");
    assert!(saved.contains("\"first_name\": \"Ann\""), "{saved}");
    assert!(
        ev.iter()
            .filter(|e| e.kind == EventKind::Click)
            .all(|e| e.app == "form.py"),
        "the app is the WM_CLASS class, lowercased"
    );
    let path = ev
        .iter()
        .find_map(|e| e.element.as_ref().and_then(|el| el.path.clone()))
        .unwrap();
    assert!(path.starts_with("frame 'Customer form' / "), "{path}");
}

#[test]
fn chromium_form_clicks_and_typed_runs_carry_their_fields_and_dom_ids() {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("Chromium is installed (apt-get install chromium, or scripts/setup.sh)");
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start();
    let bus = desk.start_accessibility();
    let form = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apps/form.html");
    let url = format!("file://{}?password=1", form.display());
    let profile = dir.path().join("chromium-profile");
    let profile_arg = format!("--user-data-dir={}", profile.display());
    desk.spawn_env(
        chromium,
        &[
            "--no-sandbox",
            &profile_arg,
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--password-store=basic",
            "--force-renderer-accessibility",
            "--window-position=0,0",
            "--window-size=1000,900",
            &url,
        ],
        &[("ACCESSIBILITY_ENABLED", "1")],
    );
    let a11y = A11y::connect_session(&bus).expect("the test's accessibility bus");
    let names = ["First name", "Last name", "E-mail", "Password", "Save"];
    let fields = wait_for_elements(&a11y, "Customer form", &names, Duration::from_secs(40));
    let expect = [
        Expect {
            role: "entry",
            name: "First name",
            id: Some("first_name"),
        },
        Expect {
            role: "entry",
            name: "Last name",
            id: Some("last_name"),
        },
        Expect {
            role: "entry",
            name: "E-mail",
            id: Some("email"),
        },
        Expect {
            role: "password text",
            name: "Password",
            id: Some("password"),
        },
        Expect {
            role: "push button",
            name: "Save",
            id: Some("save"),
        },
    ];
    let ev = record_form(&mut desk, dir.path(), &fields, &expect, 4, None);
    let apps: Vec<&str> = ev
        .iter()
        .filter(|e| e.kind == EventKind::Click)
        .map(|e| e.app.as_str())
        .collect();
    assert!(apps.iter().all(|a| *a == "chromium"), "{apps:?}");
    let saved = wait_for_elements(
        &a11y,
        "Customer form",
        &["Saved customers"],
        Duration::from_secs(5),
    );
    assert!(!saved.is_empty());
}
