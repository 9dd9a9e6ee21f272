//! The read API, the OpenAPI document and the dashboard pages, on a simulated team's log.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use server::Privacy;
use support::*;

fn json(srv: &TestServer, url: &str) -> Value {
    let (status, text) = srv.get(url);
    assert_eq!(status, 200, "{url}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: {e}: {text}"))
}

#[test]
fn read_api_dashboard_and_openapi_agree_with_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    let n = simulated_store(&db, 4, 2);
    let srv = TestServer::start_with(fresh_config(&db), "127.0.0.1:0".parse().unwrap());

    let summary = json(&srv, &srv.url("/api/v1/summary"));
    assert_eq!(summary["overview"]["events"], n);
    assert_eq!(summary["overview"]["users"], 4);
    assert_eq!(summary["privacy"]["k"], 3);

    let cands = json(&srv, &srv.url("/api/v1/candidates"));
    let list = cands["candidates"].as_array().unwrap();
    assert!(!list.is_empty(), "a simulated team has routines: {cands}");
    let hours: Vec<f64> = list
        .iter()
        .map(|c| c["hours_saved_per_month"].as_f64().unwrap())
        .collect();
    assert!(
        hours.windows(2).all(|w| w[0] >= w[1]),
        "ranked by hours: {hours:?}"
    );
    for (i, c) in list.iter().enumerate() {
        assert_eq!(c["rank"], i + 1);
        assert!(
            c["evidence"]["score"]["users"].as_u64().unwrap() >= 3,
            "k withholds: {c}"
        );
    }
    let top = json(&srv, &srv.url("/api/v1/summary"))["overview"]["top_hours_saved_per_month"]
        .as_f64()
        .unwrap();
    let expected: f64 = hours.iter().take(5).sum();
    assert!((top - expected).abs() < 1e-9, "{top} vs {expected}");

    let id = list[0]["routine"].as_u64().unwrap();
    let r = json(&srv, &srv.url(&format!("/api/v1/routines/{id}")));
    let variant_total: u64 = r["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["count"].as_u64().unwrap())
        .sum();
    assert_eq!(
        variant_total,
        r["instances"].as_array().unwrap().len() as u64
    );
    assert_eq!(variant_total, r["score"]["instances"].as_u64().unwrap());
    let graph = json(&srv, &srv.url(&format!("/api/v1/routines/{id}/graph")));
    let nodes: BTreeSet<u64> = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["action"].as_u64().unwrap())
        .collect();
    for s in r["steps"].as_array().unwrap() {
        assert!(
            nodes.contains(&s.as_u64().unwrap()),
            "step {s} in the routine's graph"
        );
    }
    let bots = json(&srv, &srv.url("/api/v1/bots"));
    let bot_routines: Vec<u64> = bots["bots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["routine"].as_u64().unwrap())
        .collect();
    assert!(
        bot_routines.contains(&id),
        "the top routine has a bot draft: {bot_routines:?}"
    );
    let (status, yaml) = srv.get(&srv.url(&format!("/api/v1/bots/{id}")));
    assert_eq!(status, 200);
    assert!(yaml.contains("apiVersion: taskmine/v1"), "{yaml}");
    let whole = json(&srv, &srv.url("/api/v1/graph"));
    assert!(whole["nodes"].as_array().unwrap().len() >= nodes.len());
    let (status, text) = srv.get(&srv.url("/api/v1/routines/9999"));
    assert_eq!(status, 404, "{text}");
    let (status, _) = srv.get(&srv.url("/routines/9999"));
    assert_eq!(status, 404);

    // The OpenAPI document describes exactly the routes the server has, and each GET answers.
    let doc = json(&srv, &srv.url("/api/v1/openapi.json"));
    assert_eq!(doc["openapi"], "3.1.0");
    let described: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), p.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = server::api::api_routes()
        .into_iter()
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
        .collect();
    assert_eq!(described, served);
    for (m, p) in &served {
        if m == "get" {
            let (status, text) = srv.get(&srv.url(&p.replace("{id}", &id.to_string())));
            assert_eq!(status, 200, "{p}: {text}");
        }
    }

    // Dashboard pages.
    let (status, home) = srv.get(&srv.url("/"));
    assert_eq!(status, 200);
    assert!(home.contains(r#"<table id="candidates">"#));
    assert_eq!(
        home.matches(r#"<tr class="candidate""#).count(),
        list.len().min(10)
    );
    assert!(
        home.contains(&format!("<div class=\"value\">{n}</div>")),
        "event count shown"
    );
    let (_, all) = srv.get(&srv.url("/candidates"));
    assert_eq!(all.matches(r#"<tr class="candidate""#).count(), list.len());
    let (status, page) = srv.get(&srv.url(&format!("/routines/{id}")));
    assert_eq!(status, 200);
    assert!(page.contains(r#"<svg class="task-graph""#));
    assert!(page.matches(r#"<g class="node step""#).count() >= 1);
    let steps: BTreeSet<u64> = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_u64().unwrap())
        .collect();
    assert_eq!(page.matches(r#"<g class="node step""#).count(), steps.len());
    assert!(page.contains(r#"<svg class="histogram""#));
    let bars: usize = page.matches(r#"<rect class="bar""#).count();
    assert!(bars >= 1);
    // tera escapes `/` as `&#x2F;`.
    assert!(
        page.contains(r#"<pre class="bot">apiVersion: taskmine&#x2F;v1"#),
        "the bot draft is shown"
    );
    let (_, privacy) = srv.get(&srv.url("/privacy"));
    assert!(privacy.contains("k = 3"), "{privacy}");
    assert!(privacy.contains("built-in default policy"));
}

#[test]
fn pages_follow_new_batches_and_k_withholds_routines() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    let n = simulated_store(&db, 4, 1);
    let token = server::agents::add(&uilog::Store::open(&db).unwrap(), "desk").unwrap();
    let mut config = fresh_config(&db);
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, "text: mask\nmin_users: 5\n").unwrap();
    config.privacy = Privacy::from_file(&policy).unwrap();
    let srv = TestServer::start_with(config, "127.0.0.1:0".parse().unwrap());
    let s = json(&srv, &srv.url("/api/v1/summary"));
    assert_eq!(s["overview"]["events"], n);
    assert_eq!(s["overview"]["routines"], 0, "4 users < k = 5: {s}");
    assert!(s["overview"]["withheld"].as_u64().unwrap() > 0);
    let (_, privacy) = srv.get(&srv.url("/privacy"));
    assert!(
        privacy.contains("k = 5") && privacy.contains("min_users: 5"),
        "{privacy}"
    );
    let (_, home) = srv.get(&srv.url("/"));
    assert!(home.contains("No candidates yet"));

    let events: Vec<_> = (0..7)
        .map(|i| event("late", "user-99", 1_900_000_000_000_000 + i))
        .collect();
    let (status, text) = post(
        &srv.url("/api/v1/events"),
        Some(&token),
        &batch_json("x", &events),
        false,
    );
    assert_eq!(status, 200, "{text}");
    // The background job mines again after a written batch; pages serve the previous result until
    // then, so the new figures appear within a bounded time rather than at once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let s = loop {
        let s = json(&srv, &srv.url("/api/v1/summary"));
        if s["overview"]["events"] == n + 7 || std::time::Instant::now() > deadline {
            break s;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(s["overview"]["events"], n + 7, "{s}");
    assert_eq!(s["overview"]["users"], 5);
}

#[test]
fn a_bad_policy_file_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.yaml");
    std::fs::write(&policy, "min_users: lots\n").unwrap();
    let err = Privacy::from_file(&policy).unwrap_err().to_string();
    assert!(err.contains("p.yaml") && err.contains("min_users"), "{err}");
}

#[test]
fn the_report_is_one_self_contained_file_with_every_routine() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    simulated_store(&db, 4, 1);
    let store = uilog::Store::open(&db).unwrap();
    let a =
        server::Analysis::compute(&store, &miner::Options::default(), Privacy::builtin()).unwrap();
    assert!(!a.mining.routines.is_empty());
    let html = server::report::render(&a).unwrap();
    for r in &a.mining.routines {
        assert!(html.contains(&format!(r#"id="routine-{}""#, r.id)));
        assert!(
            html.contains(&format!(r##"href="#routine-{}""##, r.id))
                || r.score.hours_saved_per_month <= 0.0
        );
    }
    assert_eq!(
        html.matches(r#"<svg class="task-graph""#).count(),
        a.mining.routines.len()
    );
    assert!(html.contains(r#"<table id="candidates">"#));
    assert!(html.contains(r#"id="privacy""#));
    for outside in ["src=\"http", "href=\"http", "href=\"/", "<script", "<link"] {
        assert!(
            !html.contains(outside),
            "the report refers outside itself: {outside}"
        );
    }

    // `taskmine mine --report` knows k but not the recorder's policy.
    let privacy = Privacy::k_only(2, "taskmine mine --min-users");
    let a = server::Analysis::compute(&store, &miner::Options::default(), privacy).unwrap();
    let html = server::report::render(&a).unwrap();
    assert!(html.contains("k = 2") && html.contains("taskmine mine --min-users"));
    assert!(
        !html.contains("retention"),
        "no policy figures without a policy"
    );
}

#[test]
fn replay_reports_under_the_bots_directory_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    simulated_store(&db, 4, 1);
    let bots = dir.path().join("bots");
    for d in ["a", "b", "c"] {
        std::fs::create_dir_all(bots.join(d)).unwrap();
    }
    std::fs::write(
        bots.join("a/replay-report.json"),
        r#"{"bot": "a", "routine": 1, "passed": false, "runs": [{"passed": true}, {"passed": false}]}"#,
    )
    .unwrap();
    std::fs::write(bots.join("b/replay-report.json"), "{\n  \"bot\": ").unwrap();
    let mut config = fresh_config(&db);
    config.bots_dir = Some(bots);
    let srv = TestServer::start_with(config, "127.0.0.1:0".parse().unwrap());
    let list = json(&srv, &srv.url("/api/v1/replays"));
    let list = list["replays"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["bot"], "a");
    assert_eq!(
        (list[0]["runs"].as_u64(), list[0]["runs_passed"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(list[0]["passed"], false);
    let err = list[1]["error"].as_str().unwrap();
    assert!(
        err.contains("b/replay-report.json") && err.contains("line 2"),
        "{err}"
    );
    let (status, page) = srv.get(&srv.url("/routines/1"));
    assert_eq!(status, 200);
    assert_eq!(page.matches(r#"<tr class="replay">"#).count(), 1);
    assert!(page.contains("1 of 2") && page.contains("failed"));
}
