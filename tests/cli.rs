//! The `taskmine` binary end to end: what a user types, what they get back.

mod cli_support;

use std::path::Path;

use cli_support::{ok, p, taskmine, Served};

#[test]
fn simulate_export_import_export_gives_the_same_events() {
    let dir = tempfile::tempdir().unwrap();
    let (db, csv, db2, csv2) = (
        dir.path().join("a.db"),
        dir.path().join("a.csv"),
        dir.path().join("b.db"),
        dir.path().join("b.csv"),
    );
    let truth = dir.path().join("truth.json");
    let said = ok(&[
        "simulate",
        "--users",
        "3",
        "--days",
        "2",
        "--seed",
        "11",
        "--noise",
        "0.1",
        "--db",
        p(&db),
        "--truth",
        p(&truth),
    ]);
    assert!(said.contains("for 3 users over 2 days"), "{said}");
    ok(&[
        "export",
        "--db",
        p(&db),
        "--format",
        "csv",
        "--out",
        p(&csv),
    ]);
    let imported = ok(&["import", p(&csv), "--db", p(&db2)]);
    assert!(imported.contains("imported"), "{imported}");
    ok(&[
        "export",
        "--db",
        p(&db2),
        "--format",
        "csv",
        "--out",
        p(&csv2),
    ]);
    let first = std::fs::read_to_string(&csv).unwrap();
    let second = std::fs::read_to_string(&csv2).unwrap();
    assert!(
        first.lines().count() > 100,
        "the simulated log is too small to mean anything"
    );
    assert_eq!(first, second);
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&truth).unwrap()).unwrap();
    assert_eq!(
        truth["total_events"].as_u64().unwrap() as usize,
        first.lines().count() - 1,
        "the ground truth counts every event of the log"
    );
}

#[test]
fn stats_reports_counts_and_kinds_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    ok(&["simulate", "--users", "2", "--days", "1", "--db", p(&db)]);
    let stats: serde_json::Value =
        serde_json::from_str(&ok(&["stats", "--db", p(&db), "--json"])).unwrap();
    assert_eq!(stats["users"], 2);
    let by_kind: u64 = stats["by_kind"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(by_kind, stats["events"].as_u64().unwrap());
    assert!(stats["first_ts"].as_i64().unwrap() < stats["last_ts"].as_i64().unwrap());
}

#[test]
fn a_bad_row_fails_with_one_line_naming_file_line_and_field_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    ok(&["simulate", "--users", "1", "--days", "1", "--db", p(&db)]);
    let before = ok(&["stats", "--db", p(&db), "--json"]);
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "session,user,host,ts,kind,app\n\
         s,u,h,2026-11-25T10:00:00Z,click,xterm\n\
         s,u,h,yesterday,click,xterm\n",
    )
    .unwrap();
    let out = taskmine(&["import", p(&bad), "--db", p(&db)]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("bad.csv:3") && err.contains("ts"), "{err}");
    assert_eq!(ok(&["stats", "--db", p(&db), "--json"]), before);
}

#[test]
fn importing_the_same_file_twice_adds_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let (db, csv) = (dir.path().join("s.db"), dir.path().join("s.csv"));
    ok(&["simulate", "--users", "1", "--days", "1", "--csv", p(&csv)]);
    let db_s = p(&db);
    ok(&["import", p(&csv), "--db", db_s]);
    let events = |s: &str| {
        serde_json::from_str::<serde_json::Value>(s).unwrap()["events"]
            .as_u64()
            .unwrap()
    };
    let once = events(&ok(&["stats", "--db", db_s, "--json"]));
    let again = ok(&["import", p(&csv), "--db", db_s]);
    assert!(again.contains("already imported"), "{again}");
    assert_eq!(events(&ok(&["stats", "--db", db_s, "--json"])), once);
}

#[test]
fn the_bundled_example_configuration_simulates_a_team_week() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/team-week.yaml");
    let said = ok(&["simulate", "--config", p(&config), "--db", p(&db)]);
    assert!(said.contains("for 10 users over 5 days"), "{said}");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "users: 3\nweeks: 2\n").unwrap();
    let out = taskmine(&["simulate", "--config", p(&bad), "--db", p(&db)]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        !out.status.success() && err.contains("bad.yaml") && err.contains("weeks"),
        "{err}"
    );
}

#[test]
fn a_missing_database_is_an_error_not_an_empty_log() {
    let dir = tempfile::tempdir().unwrap();
    let out = taskmine(&["stats", "--db", p(&dir.path().join("none.db"))]);
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr).unwrap().contains("none.db"));
    assert!(
        !dir.path().join("none.db").exists(),
        "stats must not create a database"
    );
}

/// Events recorded without `--server` and sent later by `agent push` carry the recorded person's
/// access-code verifier as `record --server` does, so that their code opens their own page.
#[test]
fn agent_push_carries_the_verifier_of_the_persons_access_code() {
    let dir = tempfile::tempdir().unwrap();
    let (local, central, policy) = (
        dir.path().join("desk.db"),
        dir.path().join("server.db"),
        dir.path().join("policy.yaml"),
    );
    std::fs::write(&policy, "text: hash\n").unwrap();
    let out = taskmine(&["record", "--access-code", "--policy", p(&policy)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let said = String::from_utf8(out.stderr).unwrap();
    let pseudonym = said
        .split("your pseudonym is ")
        .nth(1)
        .and_then(|r| r.split(|c: char| c == ';' || c.is_whitespace()).next())
        .expect("record names the pseudonym")
        .to_owned();
    // What the recorder would have written for this person, and one event of someone else.
    let csv = dir.path().join("desk.csv");
    std::fs::write(
        &csv,
        format!(
            "session,user,ts,kind,app\n\
             s1,{pseudonym},2026-11-30T09:00:00.000000Z,click,gedit\n\
             s1,{pseudonym},2026-11-30T09:00:01.000000Z,copy,gedit\n\
             s2,someone-else,2026-11-30T09:00:02.000000Z,click,xterm\n"
        ),
    )
    .unwrap();
    ok(&["import", p(&csv), "--db", p(&local)]);
    let token = ok(&["agent", "--db", p(&central), "add", "desk-1"])
        .trim()
        .to_owned();
    let served = Served::start(&central);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_taskmine"))
        .args(["agent", "push", "--db", p(&local), "--policy", p(&policy)])
        .args(["--server", &format!("http://{}", served.addr)])
        .env("TASKMINE_TOKEN", &token)
        .env_remove("TASKMINE_DB")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    served.stop();

    let store = uilog::Store::open(&central).unwrap();
    assert_eq!(store.stats().unwrap().events, 3);
    use server::people::{sign_in, PersonSignIn};
    assert_eq!(
        sign_in(store.connection(), "", &code).unwrap(),
        PersonSignIn::Ok { pseudonym }
    );
    assert_eq!(
        sign_in(store.connection(), "someone-else", &code).unwrap(),
        PersonSignIn::Wrong
    );
}

/// `taskmine mine FILE…` gives the result `import` then `mine` gives, without a database.
#[test]
fn mine_files_in_memory_gives_what_import_and_mine_give() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, db) = (
        dir.path().join("a.csv"),
        dir.path().join("b.csv"),
        dir.path().join("t.db"),
    );
    for (file, seed) in [(&a, "3"), (&b, "4")] {
        ok(&[
            "simulate",
            "--users",
            "2",
            "--days",
            "2",
            "--seed",
            seed,
            "--csv",
            p(file),
        ]);
    }
    // Mining results carry their stage timings, which differ from run to run.
    let without_timings = |json: String| {
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v.as_object_mut().unwrap().remove("timings_ms");
        v
    };
    let in_memory = without_timings(ok(&["mine", p(&a), p(&b), "--json", "--top", "50"]));
    // Nothing was written beside the files (and no taskmine.db in the working directory: `--db`
    // is not read).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    ok(&["import", p(&a), p(&b), "--db", p(&db)]);
    let stored = without_timings(ok(&[
        "mine",
        "--db",
        p(&db),
        "--json",
        "--top",
        "50",
        "--no-store",
    ]));
    assert!(!in_memory["routines"].as_array().unwrap().is_empty());
    assert_eq!(in_memory, stored);
    // A missing file is one line naming it.
    let out = taskmine(&["mine", p(&dir.path().join("none.csv"))]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("none.csv"), "{err}");
}
