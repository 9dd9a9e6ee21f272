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
    // Bots drafted from either backend are the same files (this log has no screen snapshots).
    let bots = |db: &str, out: &Path| {
        ok(&["bots", "--db", db, "--top", "2", "--out", p(out)]);
        let mut files = std::collections::BTreeMap::new();
        for bot in std::fs::read_dir(out).unwrap() {
            let bot = bot.unwrap().path();
            for f in std::fs::read_dir(&bot).unwrap() {
                let f = f.unwrap().path();
                let name = f.strip_prefix(out).unwrap().to_string_lossy().into_owned();
                files.insert(name, std::fs::read_to_string(&f).unwrap());
            }
        }
        files
    };
    let bots_sqlite = bots(p(&sqlite), &dir.path().join("bots-sqlite"));
    assert!(
        bots_sqlite.keys().any(|f| f.ends_with("bot.yaml")),
        "{:?}",
        bots_sqlite.keys()
    );
    assert_eq!(bots(&pg_a, &dir.path().join("bots-pg")), bots_sqlite);
    // So are the task graph and the process definition document.
    let graph = |db: &str| ok(&["graph", "--db", db, "--format", "dot"]).0;
    let graph_sqlite = graph(p(&sqlite));
    assert!(graph_sqlite.contains("->"), "{graph_sqlite}");
    assert_eq!(graph(&pg_a), graph_sqlite);
    let pdd = |db: &str, name: &str| {
        let out = dir.path().join(name);
        ok(&["pdd", "1", "--db", db, "--out", p(&out)]);
        std::fs::read_to_string(out).unwrap()
    };
    let pdd_sqlite = pdd(p(&sqlite), "pdd-sqlite.html");
    assert!(pdd_sqlite.contains("<html"), "a document");
    assert_eq!(pdd(&pg_a, "pdd-pg.html"), pdd_sqlite);
    // The simulator writes into either.
    let sim = [
        "simulate", "--users", "2", "--days", "1", "--seed", "3", "--db",
    ];
    let sim_sqlite = dir.path().join("sim.db");
    let pg_sim = server.fresh_db("cli_simulate");
    ok(&[&sim[..], &[p(&sim_sqlite)]].concat());
    let (said, _) = ok(&[&sim[..], &[pg_sim.as_str()]].concat());
    assert!(
        said.contains("simulated") && !said.contains(pg::PASSWORD),
        "{said}"
    );
    assert_eq!(
        ok(&["stats", "--db", &pg_sim, "--json"]).0,
        ok(&["stats", "--db", p(&sim_sqlite), "--json"]).0
    );

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

    // Erasing a person from the PostgreSQL log leaves their events nowhere and says so in the
    // audit trail the servers share, without naming them.
    let (_, said) = ok(&["erase", "--db", &pg_b, "--user", "user-01"]);
    assert!(said.contains("recorded in the audit trail"), "{said}");
    assert!(!said.contains(pg::PASSWORD), "{said}");
    let (exported, _) = ok(&["export", "--db", &pg_b, "--format", "jsonl"]);
    assert!(!exported.is_empty() && !exported.contains("\"user-01\""));
    let (audit, _) = ok(&["audit", "--db", &pg_b]);
    let erasure = audit
        .lines()
        .find(|l| l.contains("erase"))
        .expect("an erase entry");
    assert!(!erasure.contains("user-01"), "{erasure}");
    assert!(fails(&["erase", "--db", &pg_b, "--user", "user-01"]).contains("no user"));
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
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert!(String::from_utf8_lossy(&added.stdout).starts_with("tm_"));
    let listed = taskmine_db(&["agent", "list", "--quiet"]);
    assert!(String::from_utf8_lossy(&listed.stdout).starts_with("desk-1\t"));
    // Person access codes are kept in PostgreSQL too: for a pseudonym the log does not hold, the
    // command says so in one line.
    let out = taskmine_db(&["user", "person-code", "someone", "--quiet"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("no recorded person") && !err.contains(pg::PASSWORD),
        "{err}"
    );
    // What truly needs SQLite (the OCEL export of every UI event) says so in one line.
    let out = taskmine_db(&[
        "export",
        "--format",
        "ocel-json",
        "--ocel-events",
        "ui",
        "--quiet",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("not yet supported on PostgreSQL") && !err.contains(pg::PASSWORD),
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

/// `taskmine serve --db postgres://…` on a free loopback port, killed when dropped.
struct Served {
    child: std::process::Child,
    addr: String,
}

impl Served {
    fn start(url: &str) -> (Served, String) {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_taskmine"))
            .args(["serve", "--addr", "127.0.0.1:0", "--remine-after-secs", "0"])
            .args(["--db", url, "--db-pool", "2"])
            .env_remove("TASKMINE_DB")
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("taskmine serve starts");
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let (addr, said) = loop {
            let line = lines.next().expect("serve said where it listens").unwrap();
            if let Some(rest) = line.split("http://").nth(1) {
                break (rest.split('/').next().unwrap().to_owned(), line);
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        (Served { child, addr }, said)
    }

    /// One HTTP/1.1 request on its own connection: (status, body).
    fn request(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        (
            head.split(' ').nth(1).unwrap().parse().unwrap(),
            body.to_owned(),
        )
    }

    fn batch(&self, token: &str, id: &str, events: &[uilog::Event]) -> String {
        let body = serde_json::json!({ "batch_id": id, "events": events }).to_string();
        let (status, text) = self.request("POST", "/api/v1/events", Some(token), &body);
        assert_eq!(status, 200, "{text}");
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The summary once the server's mining shows `events` events.
    fn summary_when(&self, events: u64) -> serde_json::Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let (status, text) = self.request("GET", "/api/v1/summary", None, "");
            assert_eq!(status, 200, "{text}");
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            if v["stats"]["events"].as_u64() == Some(events) {
                return v;
            }
            assert!(std::time::Instant::now() < deadline, "{v}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn two_serve_processes_on_one_postgresql_database_share_agents_batches_and_figures() {
    let server = pg::server();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("log.csv");
    ok(&[
        "simulate",
        "--users",
        "4",
        "--days",
        "2",
        "--seed",
        "9",
        "--csv",
        p(&csv),
    ]);
    let url = server.fresh_db("cli_two_servers");
    ok(&["import", p(&csv), "--db", &url]);
    let (token, _) = ok(&["agent", "add", "desk-1", "--db", &url]);
    let token = token.trim().to_owned();
    let (stats, _) = ok(&["stats", "--db", &url, "--json"]);
    let imported = serde_json::from_str::<serde_json::Value>(&stats).unwrap()["events"]
        .as_u64()
        .unwrap();

    let (a, said) = Served::start(&url);
    assert!(!said.contains(pg::PASSWORD), "{said}");
    let (b, _) = Served::start(&url);
    let events = |session: &str| -> Vec<uilog::Event> {
        (0..3)
            .map(|i| {
                let mut e = uilog::Event::new(
                    session,
                    "late-user",
                    1_700_000_000_000_000 + i,
                    uilog::EventKind::Click,
                );
                e.app = "xterm".into();
                e.window = "Terminal".into();
                e.host = "desk-1".into();
                e
            })
            .collect()
    };
    // The agent token made by the command line works on both; a batch is written by the first
    // server it reaches and is a duplicate on the other.
    assert_eq!(a.batch(&token, "b1", &events("s1")), "written");
    assert_eq!(b.batch(&token, "b1", &events("s1")), "duplicate");
    // Each server mines again after a batch of its own: B after b2, A after b3, and B again
    // after an empty batch; then both have mined the whole log.
    assert_eq!(b.batch(&token, "b2", &events("s2")), "written");
    b.summary_when(imported + 6);
    assert_eq!(a.batch(&token, "b3", &events("s3")), "written");
    let from_a = a.summary_when(imported + 9);
    assert_eq!(b.batch(&token, "b3", &events("s3")), "duplicate");
    assert_eq!(b.batch(&token, "b4", &[]), "written");
    let from_b = b.summary_when(imported + 9);
    assert_eq!(from_a, from_b, "both servers show the same figures");
    let (keys, _) = ok(&["stats", "--db", &url, "--json"]);
    let stats: serde_json::Value = serde_json::from_str(&keys).unwrap();
    assert_eq!(stats["events"].as_u64(), Some(imported + 9));
}

#[test]
fn mining_results_are_kept_in_postgresql_read_back_named_linked_and_exported() {
    let server = pg::server();
    let dir = tempfile::tempdir().unwrap();
    let (csv, plog) = (dir.path().join("log.csv"), dir.path().join("p2p.csv"));
    ok(&[
        "simulate",
        "--users",
        "4",
        "--days",
        "2",
        "--seed",
        "3",
        "--csv",
        p(&csv),
        "--process-log",
        p(&plog),
    ]);
    let url = server.fresh_db("cli_results");
    ok(&["import", p(&csv), "--db", &url]);

    // The first mine stores its run in PostgreSQL; the second reads that run back.
    let (first, said) = ok(&["mine", "--db", &url]);
    let run: i64 = said
        .split("stored as mining run ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no run stored: {said}"));
    assert!(first.contains("result stored in"), "{first}");
    assert!(!first.contains(pg::PASSWORD) && !said.contains(pg::PASSWORD));
    let (second, said) = ok(&["mine", "--db", &url]);
    assert!(
        said.contains(&format!("read back mining run {run}")),
        "{said}"
    );
    assert!(
        second.contains(&format!("read back from mining run {run}")),
        "{second}"
    );
    // The table of candidates is the same either way (the first and last lines say where from).
    let table = |out: &str| -> Vec<String> {
        out.lines()
            .skip(1)
            .filter(|l| !l.starts_with("result stored in"))
            .map(str::to_owned)
            .collect()
    };
    assert!(table(&first).len() > 3, "{first}");
    assert_eq!(table(&second), table(&first));

    // An analyst's name for routine 1 is kept there too and shown by the next mine.
    let (said, _) = ok(&["name", "--db", &url, "1", "Enter the invoice"]);
    assert!(
        said.starts_with("routine 1: \"Enter the invoice\" (was "),
        "{said}"
    );
    let (named, _) = ok(&["mine", "--db", &url]);
    assert!(named.contains("Enter the invoice"), "{named}");
    // The one-file report works from PostgreSQL too, with the analyst's name.
    let report = dir.path().join("report.html");
    ok(&["mine", "--db", &url, "--report", p(&report)]);
    let page = std::fs::read_to_string(&report).unwrap();
    assert!(
        page.contains("Enter the invoice"),
        "the report names routine 1"
    );
    // bots name the bot and its folder after it.
    let bots = dir.path().join("bots");
    let (drafted, _) = ok(&["bots", "--db", &url, "--top", "1", "--out", p(&bots)]);
    let folder = bots.join("routine-1-enter-the-invoice");
    assert!(drafted.contains(p(&folder)), "{drafted}");
    let yaml = std::fs::read_to_string(folder.join("bot.yaml")).unwrap();
    assert!(
        yaml.contains("Enter the invoice. Drafted from routine 1"),
        "{yaml}"
    );
    let (said, _) = ok(&["name", "--db", &url, "1", ""]);
    assert!(said.contains("(was \"Enter the invoice\")"), "{said}");

    // link stores its report (and the run's business objects) beside the run; the OCEL export
    // reads the objects back.
    let (out, said) = ok(&[
        "link",
        "--db",
        &url,
        "--process-log",
        p(&plog),
        "--id-attr",
        "object_id",
    ]);
    assert!(out.contains("Enter invoice"), "{out}");
    assert!(said.contains("link report stored"), "{said}");
    assert!(!said.contains("no stored mining result"), "{said}");
    let (ocel, _) = ok(&["export", "--db", &url, "--format", "ocel-json"]);
    let doc: serde_json::Value = serde_json::from_str(&ocel).unwrap();
    assert!(!doc["events"].as_array().unwrap().is_empty(), "{ocel}");
    assert!(!doc["objects"].as_array().unwrap().is_empty(), "{ocel}");

    // Erasing a person takes the stored runs and link report that counted them.
    let (_, said) = ok(&["erase", "--db", &url, "--user", "user-01"]);
    assert!(said.contains("deleted 1 stored mining runs"), "{said}");
    let (_, said) = ok(&["mine", "--db", &url, "--no-store"]);
    assert!(said.contains("no stored run"), "{said}");
}
