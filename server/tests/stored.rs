//! Mining results are stored with their instances' spans and the log's version, and reused: a
//! restarted server serves its first page from the stored run without mining, and mines again
//! when the log changed.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

fn json(srv: &TestServer, path: &str) -> Value {
    let (status, text) = srv.get(&srv.url(path));
    assert_eq!(status, 200, "{path}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// Polls the job's state until `done` holds (at most a minute).
fn wait_status(srv: &TestServer, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let s = json(srv, "/api/v1/status");
        if done(&s) {
            return s;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{s}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn server_runs(db: &std::path::Path) -> Vec<(i64, usize)> {
    let store = uilog::Store::open(db).unwrap();
    let mut stmt = store
        .connection()
        .prepare("SELECT run_id, length(spans) FROM mining_run_logs ORDER BY run_id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as usize)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows
}

#[test]
fn a_restarted_server_serves_the_stored_result_without_mining_and_mines_when_the_log_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    simulated_store(&db, 5, 2);
    let agent = {
        let store = uilog::Store::open(&db).unwrap();
        server::agents::add(&store, "desk").unwrap()
    };

    let srv = TestServer::start_with(fresh_config(&db), "127.0.0.1:0".parse().unwrap());
    let candidates = json(&srv, "/api/v1/candidates");
    let id = candidates["candidates"][0]["routine"]
        .as_u64()
        .expect("a candidate");
    let bots = json(&srv, "/api/v1/bots");
    let graph = json(&srv, &format!("/api/v1/routines/{id}/graph"));
    let routine = json(&srv, &format!("/api/v1/routines/{id}"));
    let first = json(&srv, "/api/v1/status");
    assert_eq!(first["mined"], 1, "{first}");
    assert_eq!(first["read_from_store"], 0, "{first}");
    assert_eq!(first["result"]["origin"], "mined", "{first}");
    let run = first["result"]["run"]
        .as_i64()
        .expect("the result was stored");
    srv.stop();

    // The run is in the miner's tables with the log's version and one span per instance.
    let instances: usize = {
        let store = uilog::Store::open(&db).unwrap();
        let m = miner::results::load_latest((&store).into())
            .unwrap()
            .unwrap();
        m.routines.iter().map(|r| r.instances.len()).sum()
    };
    assert!(instances > 0);
    assert_eq!(server_runs(&db), vec![(run, instances * 8)]);

    // Restarted: the first page is served from the stored run; nothing is mined.
    let srv = TestServer::start_with(fresh_config(&db), "127.0.0.1:0".parse().unwrap());
    let (status, page) = srv.get(&srv.url("/"));
    assert_eq!(status, 200, "{page}");
    let s = json(&srv, "/api/v1/status");
    assert_eq!(s["mined"], 0, "{s}");
    assert_eq!(s["read_from_store"], 1, "{s}");
    assert_eq!(s["result"]["origin"], "stored", "{s}");
    assert_eq!(s["result"]["run"], run, "{s}");
    assert_eq!(
        s["result"]["computed_at"], first["result"]["computed_at"],
        "the age shown is the mining run's"
    );
    // The same answers as the run that mined, the routine's graph included (it walks the spans).
    assert_eq!(json(&srv, "/api/v1/candidates"), candidates);
    assert_eq!(json(&srv, "/api/v1/bots"), bots);
    assert_eq!(json(&srv, &format!("/api/v1/routines/{id}/graph")), graph);
    assert_eq!(json(&srv, &format!("/api/v1/routines/{id}")), routine);

    // A batch arrives: the job mines the changed log and stores that run too.
    let (code, text) = post(
        &srv.url("/api/v1/events"),
        Some(&agent),
        &batch_json(
            "late",
            &[event("late-session", "user-01", 1_795_000_000_000_000)],
        ),
        false,
    );
    assert_eq!(code, 200, "{text}");
    let s = wait_status(&srv, |s| s["mined"] == 1);
    assert_eq!(s["result"]["origin"], "mined", "{s}");
    let newer = s["result"]["run"].as_i64().unwrap();
    assert!(newer > run);
    srv.stop();
    assert_eq!(
        server_runs(&db).iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![run, newer],
        "the served run and the one before it are kept"
    );

    // The log changed while no server ran: the next start mines instead of reusing.
    {
        let mut store = uilog::Store::open(&db).unwrap();
        let e = event("offline-session", "user-02", 1_795_000_100_000_000);
        store
            .write_batch(None, "test", |sink| -> uilog::Result<()> { sink.push(&e) })
            .unwrap();
    }
    let srv = TestServer::start_with(fresh_config(&db), "127.0.0.1:0".parse().unwrap());
    json(&srv, "/api/v1/summary");
    let s = json(&srv, "/api/v1/status");
    assert_eq!(
        (s["mined"].as_u64(), s["read_from_store"].as_u64()),
        (Some(1), Some(0)),
        "{s}"
    );
    srv.stop();
    let runs = server_runs(&db);
    assert_eq!(runs.len(), 2, "older runs are pruned: {runs:?}");
    assert!(runs.iter().all(|r| r.0 > run));
}
