//! The ingest API on a real listener on 127.0.0.1: authentication, malformed and oversized batches,
//! duplicates and concurrent agents, each checked against the store.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use server::Limits;
use support::*;
use uilog::Store;

const T0: i64 = 1_764_000_000_000_000;

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    (dir, db)
}

fn add_agent(db: &std::path::Path, name: &str) -> String {
    server::agents::add(&Store::open(db).unwrap(), name).unwrap()
}

#[test]
fn tokens_are_checked_and_only_their_hash_is_stored() {
    let (_dir, db) = setup();
    let token = add_agent(&db, "desk-1");
    assert!(token.starts_with("tm_") && token.len() == 67);
    let raw = std::fs::read(&db).unwrap();
    let wal = std::fs::read(db.with_extension("db-wal")).unwrap_or_default();
    for bytes in [&raw, &wal] {
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "the token itself must not be on disk"
        );
    }
    let srv = TestServer::start(&db);
    let url = srv.url("/api/v1/events");
    let body = batch_json("b1", &[event("s", "u1", T0)]);

    let (status, text) = post(&url, None, &body, false);
    assert_eq!(status, 401, "{text}");
    let (status, text) = post(&url, Some("tm_not-a-token"), &body, false);
    assert_eq!(status, 401, "{text}");
    let (status, _) = post(&url, Some(&token[..token.len() - 1]), &body, false);
    assert_eq!(status, 401);
    assert_eq!(count_events(&db), 0);

    let (status, text) = post(&url, Some(&token), &body, false);
    assert_eq!(status, 200, "{text}");
    let accepted: server::Accepted = serde_json::from_str(&text).unwrap();
    assert_eq!(accepted.status, "written");
    assert_eq!(accepted.events, 1);
    assert_eq!(count_events(&db), 1);
}

#[test]
fn malformed_batches_name_the_field_and_store_nothing() {
    let (_dir, db) = setup();
    let token = add_agent(&db, "desk-1");
    let srv = TestServer::start(&db);
    let url = srv.url("/api/v1/events");
    let mut events: Vec<serde_json::Value> = (0..5)
        .map(|i| serde_json::to_value(event("s", "u1", T0 + i)).unwrap())
        .collect();
    events[3]["ts"] = serde_json::json!("yesterday");
    let body =
        serde_json::to_vec(&serde_json::json!({"batch_id": "b1", "events": events})).unwrap();
    let (status, text) = post(&url, Some(&token), &body, false);
    assert_eq!(status, 400, "{text}");
    let err: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(err["field"], "events[3].ts", "{text}");

    events[3]["ts"] = serde_json::json!(T0);
    events[1]["kind"] = serde_json::json!("keypress");
    let body =
        serde_json::to_vec(&serde_json::json!({"batch_id": "b1", "events": events})).unwrap();
    let (status, text) = post(&url, Some(&token), &body, false);
    assert_eq!(status, 400, "{text}");
    let err: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(err["field"], "events[1].kind", "{text}");

    events[1]["kind"] = serde_json::json!("click");
    events[4]["session"] = serde_json::json!("");
    let body =
        serde_json::to_vec(&serde_json::json!({"batch_id": "b1", "events": events})).unwrap();
    let (status, text) = post(&url, Some(&token), &body, false);
    assert_eq!(status, 400, "{text}");
    let err: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(err["field"], "events[4].session", "{text}");

    let (status, text) = post(&url, Some(&token), br#"{"events": []}"#, false);
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("batch_id"), "{text}");
    let (status, _) = post(&url, Some(&token), b"{not json", false);
    assert_eq!(status, 400);
    let (status, text) = post(&url, Some(&token), b"\x1f\x8b garbage", true);
    assert_eq!(status, 400, "{text}");
    assert_eq!(
        count_events(&db),
        0,
        "nothing of a rejected batch is stored"
    );

    // The same batch id, fixed, is then accepted: the rejected attempt left no trace.
    events[4]["session"] = serde_json::json!("s");
    let body =
        serde_json::to_vec(&serde_json::json!({"batch_id": "b1", "events": events})).unwrap();
    let (status, text) = post(&url, Some(&token), &body, true);
    assert_eq!(status, 200, "{text}");
    assert_eq!(count_events(&db), 5);
}

#[test]
fn timestamps_outside_the_logs_range_are_refused_by_field() {
    let (_dir, db) = setup();
    let token = add_agent(&db, "desk-1");
    let srv = TestServer::start(&db);
    let url = srv.url("/api/v1/events");
    for (ts, end) in [
        (i64::MAX, "after 9999"),
        (i64::MIN, "before 1970"),
        (-1, "before 1970"),
    ] {
        let body = batch_json("range", &[event("s", "u1", T0), event("s", "u1", ts)]);
        let (status, text) = post(&url, Some(&token), &body, false);
        assert_eq!(status, 400, "{text}");
        assert!(text.contains("\"field\":\"events[1].ts\""), "{text}");
        assert!(text.contains(end), "{text}");
    }
    assert_eq!(count_events(&db), 0, "a refused batch stores nothing");
    let edge = batch_json("edge", &[event("s", "u1", uilog::TS_MAX)]);
    let (status, text) = post(&url, Some(&token), &edge, false);
    assert_eq!(
        status, 200,
        "the last instant of year 9999 is in range: {text}"
    );
    assert_eq!(count_events(&db), 1);
}

#[test]
fn oversized_bodies_and_batches_get_413() {
    let (_dir, db) = setup();
    let token = add_agent(&db, "desk-1");
    let srv = TestServer::start_limits(
        &db,
        Limits {
            max_body_bytes: 64 << 10,
            max_batch_events: 100,
        },
    );
    let url = srv.url("/api/v1/events");
    let big: Vec<_> = (0..90)
        .map(|i| {
            let mut e = event("s", "u1", T0 + i);
            e.window = "w".repeat(1000);
            e
        })
        .collect();
    let body = batch_json("big", &big);
    assert!(body.len() > 64 << 10);
    // Both refusals carry the JSON error body the API documents, not the limit layer's plain text.
    let json_error = |text: &str| {
        let v: serde_json::Value = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("413 body is not JSON ({e}): {text}"));
        assert!(
            v["error"].as_str().is_some_and(|m| m.contains("larger")),
            "{text}"
        );
    };
    let (status, text) = post(&url, Some(&token), &body, false);
    assert_eq!(status, 413, "{text}");
    json_error(&text);
    // Compressed it is small, but the limit counts the bytes after decompression.
    let (status, text) = post(&url, Some(&token), &body, true);
    assert_eq!(status, 413, "{text}");
    json_error(&text);

    let many: Vec<_> = (0..101).map(|i| event("s", "u1", T0 + i)).collect();
    let (status, text) = post(&url, Some(&token), &batch_json("many", &many), false);
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("\"field\":\"events\""), "{text}");
    assert_eq!(count_events(&db), 0);

    let (status, text) = post(&url, Some(&token), &batch_json("ok", &many[..100]), false);
    assert_eq!(status, 200, "{text}");
    assert_eq!(count_events(&db), 100);
}

#[test]
fn a_repeated_batch_id_is_written_once_per_agent() {
    let (_dir, db) = setup();
    let a = add_agent(&db, "desk-a");
    let b = add_agent(&db, "desk-b");
    let srv = TestServer::start(&db);
    let url = srv.url("/api/v1/events");
    let events: Vec<_> = (0..10).map(|i| event("s", "u1", T0 + i)).collect();
    let body = batch_json("batch-7", &events);
    let (status, text) = post(&url, Some(&a), &body, false);
    assert_eq!(
        (status, text.contains("\"written\"")),
        (200, true),
        "{text}"
    );
    for _ in 0..3 {
        let (status, text) = post(&url, Some(&a), &body, true);
        assert_eq!(status, 200, "{text}");
        let acc: server::Accepted = serde_json::from_str(&text).unwrap();
        assert_eq!((acc.status.as_str(), acc.events), ("duplicate", 0));
    }
    assert_eq!(count_events(&db), 10);
    // Batch ids are scoped by agent: another agent's batch-7 is a different batch.
    let other: Vec<_> = (0..4).map(|i| event("t", "u2", T0 + i)).collect();
    let (status, text) = post(&url, Some(&b), &batch_json("batch-7", &other), false);
    assert_eq!(status, 200, "{text}");
    assert_eq!(count_events(&db), 14);
}

#[test]
fn twenty_agents_send_200000_events_concurrently_and_none_is_lost_or_doubled() {
    let (_dir, db) = setup();
    let agents: Vec<String> = (0..20)
        .map(|i| add_agent(&db, &format!("desk-{i}")))
        .collect();
    let srv = TestServer::start(&db);
    let url = srv.url("/api/v1/events");
    const PER_AGENT: i64 = 10_000;
    const BATCH: i64 = 1_000;
    let start = Instant::now();
    std::thread::scope(|s| {
        for (i, token) in agents.iter().enumerate() {
            let url = &url;
            s.spawn(move || {
                for b in 0..PER_AGENT / BATCH {
                    let events: Vec<_> = (0..BATCH)
                        .map(|j| {
                            event(
                                &format!("agent-{i}"),
                                &format!("user-{i}"),
                                T0 + b * BATCH + j,
                            )
                        })
                        .collect();
                    let body = batch_json(&format!("b{b}"), &events);
                    let (status, text) = post(url, Some(token), &body, b % 2 == 0);
                    assert_eq!(status, 200, "agent {i} batch {b}: {text}");
                    // Every third batch is retried, as after a lost answer.
                    if b % 3 == 0 {
                        let (status, text) = post(url, Some(token), &body, false);
                        assert!(status == 200 && text.contains("duplicate"), "{text}");
                    }
                    assert!(start.elapsed() < Duration::from_secs(300), "too slow");
                }
            });
        }
    });
    let store = Store::open(&db).unwrap();
    assert_eq!(store.stats().unwrap().events, 200_000);
    let mut per_session: std::collections::BTreeMap<String, BTreeSet<i64>> = Default::default();
    for e in store.events().unwrap() {
        assert_eq!(e.user, e.session.replace("agent", "user"));
        assert!(
            per_session
                .entry(e.session.clone())
                .or_default()
                .insert(e.ts),
            "doubled: {e:?}"
        );
    }
    assert_eq!(per_session.len(), 20);
    let expected: BTreeSet<i64> = (0..PER_AGENT).map(|k| T0 + k).collect();
    for (session, ts) in &per_session {
        assert_eq!(ts, &expected, "events of {session}");
    }
    let origins: i64 = store
        .connection()
        .query_row(
            "SELECT count(DISTINCT origin) FROM batches WHERE origin LIKE 'agent:desk-%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(origins, 20);
}

#[test]
fn the_load_measurement_checks_its_own_count() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = server::bench::IngestBench {
        agents: 3,
        events_per_agent: 700,
        batch: 200,
        gzip: true,
        ..Default::default()
    };
    let r = server::bench::ingest(&cfg, dir.path()).unwrap();
    assert_eq!(r.events, 2_100);
    assert_eq!(r.stored, 2_100);
    assert_eq!(r.batches, 3 * 4);
    assert!(r.events_per_s > 0.0 && r.latency_p99_ms >= r.latency_p50_ms);
}
