//! `taskmine pdd`: the process definition document of a mined routine, as HTML with its steps and
//! snapshots inline, and as PDF through headless Chromium.

mod cli_support;

use cli_support::{p, taskmine};

use recorder::snapshot::Grey;
use uilog::store::NewSnapshot;
use uilog::{EventKind, Store};

/// A small grey image with a stripe whose place depends on `n`, as PNG.
fn png(n: usize) -> Vec<u8> {
    let (w, h) = (48u32, 16u32);
    let pixels = (0..w * h)
        .map(|i| {
            if (i % w) as usize % 12 == n % 12 {
                0
            } else {
                255
            }
        })
        .collect();
    Grey {
        width: w,
        height: h,
        pixels,
    }
    .to_png()
    .unwrap()
}

#[test]
fn pdd_has_the_steps_with_their_snapshots_and_prints_to_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    let out = taskmine(&[
        "simulate",
        "--users",
        "3",
        "--days",
        "2",
        "--seed",
        "7",
        "--db",
        p(&db),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Snapshots as the recorder would attach them: to every click and typed run.
    let mut store = Store::open(&db).unwrap();
    let events = store.events().unwrap();
    let kinds = [EventKind::Click, EventKind::Type];
    let images: Vec<(String, i64, Vec<u8>)> = events
        .iter()
        .filter(|e| kinds.contains(&e.kind))
        .enumerate()
        .map(|(n, e)| (e.session.clone(), e.ts, png(n)))
        .collect();
    assert!(images.len() > 20, "the simulated log has clicks and typing");
    for (session, ts, bytes) in &images {
        let found = store
            .attach_snapshots(
                session,
                &[NewSnapshot {
                    ts: *ts,
                    kinds: &kinds,
                    png: bytes,
                    width: 48,
                    height: 16,
                }],
            )
            .unwrap();
        assert_eq!(found, [true]);
    }
    drop(store);

    let html = dir.path().join("routine.html");
    let pdf = dir.path().join("routine.pdf");
    let out = taskmine(&[
        "pdd",
        "1",
        "--db",
        p(&db),
        "--out",
        p(&html),
        "--pdf",
        p(&pdf),
    ]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&html).unwrap();
    let steps = text.matches("<div class=\"step\"").count();
    assert!(steps >= 3, "{steps} steps in {said}");
    assert!(text.contains("<h3>Step 1: ") && text.contains(&format!("<h3>Step {steps}: ")));
    let images = text.matches("<img class=\"snapshot\"").count();
    let inline = text
        .matches("src=\"data:image/png;base64,iVBORw0KGgo")
        .count();
    assert!(images >= 1, "no snapshot in {said}");
    assert_eq!(images, inline, "every image is an inline PNG");
    assert!(
        said.contains(&format!("{steps} steps ({images} with a snapshot)")),
        "{said}"
    );
    for part in [
        "Evidence",
        "Variants",
        "Data flows",
        "Hours saved per month",
    ] {
        assert!(text.contains(part), "{part} missing");
    }
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"), "not a PDF");

    let out = taskmine(&["pdd", "99", "--db", p(&db), "--out", p(&html)]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no routine 99"));
}
