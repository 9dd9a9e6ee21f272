//! Rough edges of the command line found by probing it: options where a user puts them, secrets
//! kept off the command line.

use std::process::{Command, Output};

fn taskmine(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_taskmine"));
    cmd.args(args)
        .env_remove("TASKMINE_DB")
        .env_remove("TASKMINE_TOKEN")
        .env_remove("TASKMINE_SERVER");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("taskmine runs")
}

#[test]
fn agent_commands_take_db_before_or_after_the_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fleet.db");
    let db = db.to_str().unwrap();
    // The form the README shows.
    let out = taskmine(&["agent", "add", "desk-anna", "--db", db], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    assert!(token.trim().starts_with("tm_"), "{token}");
    let out = taskmine(&["agent", "--db", db, "add", "desk-ben"], &[]);
    assert!(out.status.success());
    let out = taskmine(&["agent", "list", "--db", db], &[]);
    let list = String::from_utf8(out.stdout).unwrap();
    assert!(
        list.contains("desk-anna") && list.contains("desk-ben"),
        "{list}"
    );
    assert!(
        !dir.path().join("taskmine.db").exists(),
        "--db after the subcommand must not fall back to the default database"
    );
}

#[test]
fn a_token_on_the_command_line_is_warned_about_and_one_from_the_environment_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("local.db");
    let db = db.to_str().unwrap();
    taskmine(&["agent", "add", "x", "--db", db], &[]);
    // Port 9 on loopback: nothing listens, so the push gives up quickly either way.
    let args = [
        "agent",
        "push",
        "--db",
        db,
        "--server",
        "http://127.0.0.1:9",
        "--wait-secs",
        "0",
    ];
    let with_flag: Vec<&str> = args.iter().copied().chain(["--token", "tm_x"]).collect();
    let out = taskmine(&with_flag, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TASKMINE_TOKEN"), "{err}");
    let out = taskmine(&args, &[("TASKMINE_TOKEN", "tm_x")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("visible to other users"), "{err}");
}

#[test]
fn record_warns_about_a_token_on_the_command_line_before_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rec.db");
    // No display: recording itself fails at once, after the warning.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_taskmine"));
    cmd.args(["record", "--quiet", "--server", "http://127.0.0.1:9"])
        .args(["--token", "tm_x", "--db"])
        .arg(&db)
        .env_remove("DISPLAY")
        .env_remove("TASKMINE_TOKEN");
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("visible to other users") && err.contains("TASKMINE_TOKEN"),
        "{err}"
    );
}

#[test]
fn erasing_a_person_deletes_the_stored_mining_runs_that_counted_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("team.db");
    let db_s = db.to_str().unwrap();
    let ok = |args: &[&str]| {
        let out = taskmine(args, &[]);
        assert!(
            out.status.success(),
            "taskmine {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/team-week.yaml");
    ok(&["simulate", "--quiet", "--config", config, "--db", db_s]);
    ok(&["mine", "--quiet", "--db", db_s]);
    let users_in_runs = |db: &std::path::Path| -> Vec<String> {
        let store = uilog::Store::open(db).unwrap();
        let mut stmt = store
            .connection()
            .prepare("SELECT DISTINCT user FROM mining_instances ORDER BY user")
            .unwrap();
        let users = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        users
    };
    let before = users_in_runs(&db);
    assert!(before.len() > 1, "{before:?}");
    let person = before[0].clone();
    let said = ok(&["erase", "--quiet", "--user", &person, "--db", db_s]);
    assert!(said.contains("stored mining runs"), "{said}");
    assert!(
        !users_in_runs(&db).contains(&person),
        "a stored run still counts {person}"
    );
    let bytes = std::fs::read(&db).unwrap();
    assert!(
        !bytes.windows(person.len()).any(|w| w == person.as_bytes()),
        "the pseudonym is still in the file's bytes"
    );
}
