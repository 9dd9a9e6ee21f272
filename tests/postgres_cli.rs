//! `taskmine … --db postgres://…` end to end against a real PostgreSQL that this test binary
//! starts (uilog/tests/support/pg.rs): import, stats and mine give what they give on SQLite, and
//! `taskmine copy` moves a log both ways, resumably.

#[path = "../uilog/tests/support/pg.rs"]
mod pg;

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

fn ok(args: &[&str]) -> (String, String) {
    let out = taskmine(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "taskmine {args:?} failed: {stderr}");
    (String::from_utf8(out.stdout).expect("UTF-8 output"), stderr)
}

fn fails(args: &[&str]) -> String {
    let out = taskmine(args);
    assert!(!out.status.success(), "taskmine {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

/// `mine --json` without its timings, which differ from run to run.
fn mined(db: &str) -> serde_json::Value {
    let (out, _) = ok(&["mine", "--db", db, "--json", "--no-store", "--top", "1000"]);
    let mut v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v.as_object_mut().unwrap().remove("timings_ms");
    v
}

#[test]
fn a_log_imported_into_postgresql_mines_and_counts_as_in_sqlite_and_copies_both_ways() {
    let server = pg::server();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("log.csv");
    ok(&[
        "simulate",
        "--users",
        "4",
        "--days",
        "3",
        "--seed",
        "5",
        "--csv",
        p(&csv),
    ]);
    let sqlite = dir.path().join("a.db");
    let pg_a = server.fresh_db("cli_import");
    let (said, _) = ok(&["import", p(&csv), "--db", p(&sqlite)]);
    assert!(said.contains("imported"), "{said}");
    let (said_pg, _) = ok(&["import", p(&csv), "--db", &pg_a]);
    assert_eq!(said_pg, said);
    let (again, _) = ok(&["import", p(&csv), "--db", &pg_a]);
    assert!(again.contains("already imported"), "{again}");

    let (stats_sqlite, _) = ok(&["stats", "--db", p(&sqlite), "--json"]);
    let (stats_pg, _) = ok(&["stats", "--db", &pg_a, "--json"]);
    assert_eq!(stats_pg, stats_sqlite);
    let events = serde_json::from_str::<serde_json::Value>(&stats_pg).unwrap()["events"]
        .as_u64()
        .unwrap();
    assert!(events > 1_000, "{events}");
    // The table names the database without its password.
    let (table, _) = ok(&["stats", "--db", &pg_a]);
    assert!(!table.contains(pg::PASSWORD), "{table}");

    let from_sqlite = mined(p(&sqlite));
    assert!(!from_sqlite["routines"].as_array().unwrap().is_empty());
    assert_eq!(mined(&pg_a), from_sqlite);
    let (_, note) = ok(&["mine", "--db", &pg_a, "--json"]);
    assert!(note.contains("not yet supported"), "{note}");

    // SQLite → PostgreSQL → SQLite, then again: the second runs copy nothing.
    let pg_b = server.fresh_db("cli_copy");
    let back = dir.path().join("back.db");
    let (_, said) = ok(&[
        "copy",
        "--from",
        p(&sqlite),
        "--to",
        &pg_b,
        "--chunk",
        "1000",
    ]);
    assert!(said.contains(&format!("copied {events} events")), "{said}");
    assert!(!said.contains(pg::PASSWORD), "{said}");
    let (_, said) = ok(&[
        "copy",
        "--from",
        p(&sqlite),
        "--to",
        &pg_b,
        "--chunk",
        "1000",
    ]);
    assert!(said.contains("copied 0 events"), "{said}");
    let (_, said) = ok(&["copy", "--from", &pg_b, "--to", p(&back)]);
    assert!(said.contains(&format!("copied {events} events")), "{said}");
    let (_, said) = ok(&["copy", "--from", &pg_b, "--to", p(&back)]);
    assert!(said.contains("copied 0 events"), "{said}");
    let export = |db: &str| ok(&["export", "--db", db, "--format", "jsonl"]).0;
    assert_eq!(export(p(&back)), export(p(&sqlite)));
    assert_eq!(export(&pg_b), export(p(&sqlite)));
    assert_eq!(mined(p(&back)), from_sqlite);
    assert_eq!(mined(&pg_b), from_sqlite);

    // A source that grew is copied on from where the last copy stopped.
    let more = dir.path().join("more.csv");
    ok(&[
        "simulate",
        "--users",
        "1",
        "--days",
        "1",
        "--seed",
        "9",
        "--csv",
        p(&more),
    ]);
    ok(&["import", p(&more), "--db", p(&sqlite)]);
    let (_, said) = ok(&["copy", "--from", p(&sqlite), "--to", &pg_b]);
    assert!(said.contains("resumed after source event"), "{said}");
    let (stats_sqlite, _) = ok(&["stats", "--db", p(&sqlite), "--json"]);
    let (stats_pg, _) = ok(&["stats", "--db", &pg_b, "--json"]);
    assert_eq!(stats_pg, stats_sqlite);
}

#[test]
fn postgresql_faults_and_unsupported_commands_are_one_line() {
    let server = pg::server();
    let wrong = format!(
        "postgres://{}:wrong-{}@127.0.0.1:{}/postgres",
        pg::USER,
        pg::PASSWORD,
        server.port
    );
    let err = fails(&["stats", "--db", &wrong]);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(!err.contains(pg::PASSWORD), "{err}");

    // TASKMINE_DB names the log as --db does: agents (server tables) live in PostgreSQL too.
    let url = server.fresh_db("cli_unsupported");
    let taskmine_db = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_taskmine"))
            .args(args)
            .env("TASKMINE_DB", &url)
            .output()
            .unwrap()
    };
    let added = taskmine_db(&["agent", "add", "desk-1", "--quiet"]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert!(String::from_utf8_lossy(&added.stdout).starts_with("tm_"));
    let listed = taskmine_db(&["agent", "list", "--quiet"]);
    assert!(String::from_utf8_lossy(&listed.stdout).starts_with("desk-1\t"));
    // A command whose own tables are SQLite-only (person access codes) says so instead of
    // failing somewhere inside.
    let out = taskmine_db(&["user", "person-code", "someone", "--quiet"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("PostgreSQL is not yet supported") && !err.contains(pg::PASSWORD),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_taskmine"))
        .args(["stats", "--json", "--quiet"])
        .env("TASKMINE_DB", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["events"], 0);
}
