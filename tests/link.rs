//! `taskmine simulate --process-log`, `link`, `export --format ocel-*` and `eval --link` end to end,
//! and the hashed link's key matching the recorder's.

mod cli_support;

use std::path::Path;

use std::process::Command;

use cli_support::{fails, ok, p, Served};

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
    // Nor was a report stored for the dashboard.
    let store = uilog::Store::open(&db).unwrap();
    let stored: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM mining_links", (), |r| r.get(0))
        .unwrap_or(0);
    assert_eq!(stored, 0);
}

/// `taskmine user add NAME --role ROLE` and its API token.
fn account(db: &Path, name: &str, role: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_taskmine"))
        .args(["user", "--db", p(db), "add", name, "--role", role])
        .env_remove("TASKMINE_DB")
        .env("TASKMINE_PASSWORD", "correct horse battery staple")
        .output()
        .expect("taskmine runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ok(&["user", "--db", p(db), "token", name]);
    out.lines().last().expect("a token").trim().to_owned()
}

#[test]
fn the_link_report_is_a_page_of_the_dashboard_with_the_role_rules_and_goes_with_an_erasure() {
    let dir = tempfile::tempdir().unwrap();
    let (db, plog) = (dir.path().join("a.db"), dir.path().join("p2p.csv"));
    ok(&[
        "simulate",
        "--db",
        p(&db),
        "--users",
        "4",
        "--days",
        "2",
        "--process-log",
        p(&plog),
    ]);
    ok(&["mine", "--db", p(&db)]);
    let json = ok(&[
        "link",
        "--db",
        p(&db),
        "--process-log",
        p(&plog),
        "--id-attr",
        "object_id",
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let viewer = account(&db, "vera", "viewer");
    let analyst = account(&db, "anton", "analyst");
    // The objects link found were kept with the run it linked.
    let objects = |db: &Path| -> i64 {
        let store = uilog::Store::open(db).unwrap();
        store
            .connection()
            .query_row("SELECT count(*) FROM mining_instance_objects", (), |r| {
                r.get(0)
            })
            .unwrap_or(0)
    };
    assert!(objects(&db) > 0);

    let srv = Served::start(&db);
    let (status, location, _) = srv.get("/process", None);
    assert_eq!(status, 303, "nobody signed in is sent to sign in");
    assert!(location.starts_with("/signin"), "{location}");

    let (status, _, page) = srv.get("/process", Some(&viewer));
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("p2p.csv") && page.contains("object_id"),
        "{page}"
    );
    // Every activity whose desktop work comes from k = 3 people or more is a row with the
    // figures `link` computed; the others are withheld.
    let mut rows = 0;
    for a in report["activities"].as_array().unwrap() {
        let name = a["activity"].as_str().unwrap();
        let row = format!("<td>{name}</td>");
        if a["users"].as_u64().unwrap() < 3 {
            assert!(!page.contains(&row), "{name} is shown: {page}");
            continue;
        }
        rows += 1;
        let at = page
            .find(&row)
            .unwrap_or_else(|| panic!("no row {name}: {page}"));
        let tr = &page[at..at + page[at..].find("</tr>").unwrap()];
        for figure in [
            format!(
                "{:.1} %",
                a["share_with_desktop_work"].as_f64().unwrap() * 100.0
            ),
            format!("{:.2}", a["desktop_minutes_per_case"].as_f64().unwrap()),
            format!("{:.3}", a["hours_saved_per_case"].as_f64().unwrap()),
            format!(">{}<", a["cases"].as_u64().unwrap()),
        ] {
            assert!(tr.contains(&figure), "{name}: no {figure} in {tr}");
        }
    }
    assert!(rows > 0, "{json}");
    assert!(
        !page.contains("href=\"/process/links\""),
        "a viewer is not offered the links"
    );
    let (status, _, privacy) = srv.get("/privacy", Some(&viewer));
    assert_eq!(status, 200);
    assert!(
        privacy.contains("href=\"/process\""),
        "the navigation links the page"
    );

    // The case-by-case links are for analysts.
    let (status, _, _) = srv.get("/process/links", Some(&viewer));
    assert_eq!(status, 403);
    let (status, _, links) = srv.get("/process/links", Some(&analyst));
    assert_eq!(status, 200, "{links}");
    let case = report["links"][0]["case_id"].as_str().unwrap();
    assert!(
        links.contains(&format!("<td>{case}</td>")),
        "{case}: {links}"
    );
    let (_, _, page) = srv.get("/process", Some(&analyst));
    assert!(page.contains("href=\"/process/links\""));
    drop(srv);

    // Erasing a person the report counted removes it and the objects of their instances.
    ok(&["erase", "--db", p(&db), "--user", "user-01"]);
    assert_eq!(objects(&db), 0);
    let srv = Served::start(&db);
    let (status, _, page) = srv.get("/process", Some(&viewer));
    assert_eq!(status, 200);
    assert!(page.contains("id=\"no-link\""), "{page}");
}
