//! `taskmine simulate --process-log`, `link`, `export --format ocel-*` and `eval --link` end to end,
//! and the hashed link's key matching the recorder's.

use std::path::Path;
use std::process::{Command, Output};

fn taskmine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taskmine"))
        .args(args)
        .arg("--quiet")
        .env_remove("TASKMINE_DB")
        .output()
        .expect("taskmine runs")
}

fn ok(args: &[&str]) -> String {
    let out = taskmine(args);
    assert!(
        out.status.success(),
        "taskmine {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn fails(args: &[&str]) -> String {
    let out = taskmine(args);
    assert!(!out.status.success(), "taskmine {args:?} succeeded");
    String::from_utf8(out.stderr).expect("UTF-8 output")
}

fn p(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

#[test]
fn the_recorders_value_hash_is_what_the_link_hashes_identifiers_with() {
    let secret = [0x5a; 32];
    let policy = recorder::privacy::Privacy::new(recorder::privacy::Policy::default(), &secret)
        .expect("the default policy compiles");
    let key = miner::objects::value_key_from_secret(&secret);
    assert_eq!(
        policy.value_hash("48213"),
        uilog::ValueHash::keyed(&key, "48213")
    );
}

#[test]
fn simulate_link_report_export_and_eval() {
    let dir = tempfile::tempdir().unwrap();
    let (db, truth, plog, html) = (
        dir.path().join("a.db"),
        dir.path().join("truth.json"),
        dir.path().join("p2p.csv"),
        dir.path().join("link.html"),
    );
    let said = ok(&[
        "simulate",
        "--db",
        p(&db),
        "--users",
        "4",
        "--days",
        "2",
        "--noise",
        "0.1",
        "--truth",
        p(&truth),
        "--process-log",
        p(&plog),
    ]);
    assert!(said.contains("process log of"), "{said}");
    ok(&["mine", "--db", p(&db)]);
    let out = ok(&[
        "link",
        "--db",
        p(&db),
        "--process-log",
        p(&plog),
        "--id-attr",
        "object_id",
        "--report",
        p(&html),
    ]);
    assert!(out.contains("Enter invoice"), "{out}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<table>") && page.contains("Enter invoice"));

    let eval = ok(&[
        "eval",
        "--db",
        p(&db),
        "--truth",
        p(&truth),
        "--link",
        "--json",
    ]);
    let score: serde_json::Value = serde_json::from_str(&eval).unwrap();
    assert!(score["precision"].as_f64().unwrap() >= 0.95, "{eval}");
    assert!(score["recall"].as_f64().unwrap() >= 0.95, "{eval}");

    let json = dir.path().join("out.jsonocel");
    ok(&[
        "export",
        "--db",
        p(&db),
        "--format",
        "ocel-json",
        "--out",
        p(&json),
    ]);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(!doc["events"].as_array().unwrap().is_empty());
    let steps = dir.path().join("steps.jsonocel");
    ok(&[
        "export",
        "--db",
        p(&db),
        "--format",
        "ocel-json",
        "--ocel-steps",
        "--out",
        p(&steps),
    ]);
    let steps: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&steps).unwrap()).unwrap();
    assert!(steps["events"].as_array().unwrap().len() > doc["events"].as_array().unwrap().len());
    let sqlite = dir.path().join("out.sqlite");
    ok(&[
        "export",
        "--db",
        p(&db),
        "--format",
        "ocel-sqlite",
        "--out",
        p(&sqlite),
    ]);
    assert!(sqlite.exists());
    let raw = dir.path().join("raw.jsonocel");
    ok(&[
        "export",
        "--db",
        p(&db),
        "--format",
        "ocel-json",
        "--ocel-events",
        "ui",
        "--out",
        p(&raw),
    ]);
    let raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&raw).unwrap()).unwrap();
    assert!(raw["events"].as_array().unwrap().len() > doc["events"].as_array().unwrap().len());

    // The export of the instances reads back as a process log: OCEL in.
    let back = ok(&[
        "link",
        "--db",
        p(&db),
        "--process-log",
        p(&json),
        "--id-attr",
        "invoice",
    ]);
    assert!(back.contains("cases linked"), "{back}");
}

#[test]
fn bad_process_logs_give_one_line_naming_file_line_and_field_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    ok(&["simulate", "--db", p(&db), "--users", "2", "--days", "1"]);
    ok(&["mine", "--db", p(&db)]);
    let html = dir.path().join("r.html");
    let run = |name: &str, text: &str| -> String {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let e = fails(&[
            "link",
            "--db",
            p(&db),
            "--process-log",
            p(&path),
            "--id-attr",
            "invoice",
            "--report",
            p(&html),
        ]);
        assert!(!html.exists(), "a report was written for {name}");
        assert_eq!(e.trim_end().lines().count(), 1, "{e}");
        e
    };
    let e = run(
        "no-id.csv",
        "case,activity,timestamp\nc1,Enter invoice,2026-11-23T09:00:00Z\n",
    );
    assert!(
        e.contains("no-id.csv:1: field `invoice`: no such column"),
        "{e}"
    );
    let e = run(
        "unknown.csv",
        "case,activity,timestamp,invoice\nc1,Enter invoice,2026-11-23T09:00:00Z,999999999\n",
    );
    assert!(
        e.contains("unknown.csv")
            && e.contains("field `invoice`")
            && e.contains("none of its 1 identifiers"),
        "{e}"
    );
    let e = run(
        "overlap.csv",
        "case,activity,timestamp,invoice\nc1,A,2026-11-23T09:00:00Z,7\nc2,A,2026-11-23T10:00:00Z,7\nc1,B,2026-11-23T11:00:00Z,7\n",
    );
    assert!(
        e.contains("overlap.csv:3: field `invoice`") && e.contains("overlap"),
        "{e}"
    );
}
