//! Several servers on one PostgreSQL database: the same agents, accounts and sessions on each,
//! every batch stored once whichever server it reached and however often it was sent, the same
//! figures on every dashboard; and a connection lost in the middle of a batch, which leaves
//! nothing behind and is made good by the uploader's retry. Against a real PostgreSQL that the
//! test starts (see `uilog/tests/support/pg.rs`).

#[path = "../../uilog/tests/support/pg.rs"]
mod pg;
mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use server::accounts::Role;
use server::client::{Uploader, UploaderConfig};
use server::db::Db;
use server::{AuthMode, Config};
use support::{batch_json, get_as, post, PASSWORD};
use uilog::{Event, LogRead, LogStore};

/// A server on 127.0.0.1 (a port of its own) in a thread of its own.
struct Srv {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<server::Result<()>>>,
}

impl Srv {
    fn start(config: Config) -> Srv {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                ready_tx.send(listener.local_addr().unwrap()).unwrap();
                server::serve(listener, config, async {
                    let _ = stopped.await;
                })
                .await
            })
        });
        let addr = ready
            .recv_timeout(Duration::from_secs(30))
            .expect("the server did not start");
        let srv = Srv {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        };
        // The port listens before the state is made (migrations, connections); a first answer
        // means the server is up.
        let _ = get_as(&srv.url("/signin"), None);
        srv
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Srv {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let ran = t.join().expect("server thread");
            if !std::thread::panicking() {
                ran.expect("the server ran");
            }
        }
    }
}

fn config(url: &str) -> Config {
    let mut c = Config::new(url);
    c.auth = AuthMode::Required;
    c.remine_after = Duration::ZERO;
    c.recheck = Duration::from_millis(300);
    c.rate = server::RateLimits {
        login: None,
        ingest: None,
    };
    c.db_settings.pool = 2;
    c
}

/// A simulated team's events, several users and known routines, cut into `n` slices.
fn team_events(n: usize) -> Vec<Vec<Event>> {
    let cfg = uilog::SimConfig {
        users: 6,
        days: 3,
        routines: 3,
        ..uilog::SimConfig::default()
    };
    sliced(&cfg, n)
}

fn sliced(cfg: &uilog::SimConfig, n: usize) -> Vec<Vec<Event>> {
    let (events, _) = uilog::simulate_to_vec(cfg).unwrap();
    let per = events.len().div_ceil(n);
    events.chunks(per).map(<[Event]>::to_vec).collect()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A client that shows redirects instead of following them (sign-in answers 303 with a cookie).
fn no_redirects() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// Signs in through the form; returns the session cookie's value.
fn sign_in(srv: &Srv, name: &str, password: &str) -> Option<String> {
    let csrf = "ab".repeat(32);
    let resp = no_redirects()
        .post(&srv.url("/signin"))
        .header("Cookie", &format!("tm_signin={csrf}"))
        .send_form([
            ("name", name),
            ("password", password),
            ("csrf", csrf.as_str()),
            ("next", "/"),
        ])
        .expect("sign-in request");
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("tm_session="))
        .map(|c| c.split(';').next().unwrap_or("").to_owned())
        .filter(|c| !c.is_empty())
}

fn get_with_cookie(url: &str, session: &str) -> (u16, String) {
    let resp = no_redirects()
        .get(url)
        .header("Cookie", &format!("tm_session={session}"))
        .call()
        .expect("request");
    let status = resp.status().as_u16();
    (
        status,
        resp.into_body().read_to_string().unwrap_or_default(),
    )
}

/// Waits until the server's summary counts `events` events (its mining job caught up with the
/// batches the other server wrote), and returns it.
fn summary_when(srv: &Srv, token: &str, events: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, text) = get_as(&srv.url("/api/v1/summary"), Some(token));
        assert_eq!(status, 200, "{text}");
        let v = json(&text);
        if v["stats"]["events"].as_u64() == Some(events) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{} still shows {} of {events} events",
            srv.addr,
            v["stats"]["events"]
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn two_servers_on_one_database_store_every_batch_once_and_show_the_same_figures() {
    let url = pg::server().fresh_db("fleet");
    // Accounts and agents are made once, in the shared database (as `taskmine user/agent add
    // --db postgres://…` does), before either server runs.
    let (admin_token, agent_tokens) = {
        let db = Db::open(&url, &Default::default()).unwrap();
        server::accounts::add(&db, "adm", Role::Admin, PASSWORD).unwrap();
        let token = server::accounts::new_api_token(&db, "adm").unwrap();
        let agents: Vec<String> = (0..4)
            .map(|i| server::agents::add(&db, &format!("desk-{i}")).unwrap())
            .collect();
        (token, agents)
    };
    let a = Srv::start(config(&url));
    let b = Srv::start(config(&url));
    let servers = [&a, &b];

    // Each agent's events in batches of 400; agent i sends to server i % 2 first.
    let slices = team_events(agent_tokens.len());
    let total: u64 = slices.iter().map(|s| s.len() as u64).sum();
    let mut batches = 0u64;
    let mut resent = 0u64;
    let spools = tempfile::tempdir().unwrap();
    for (i, (events, token)) in slices.iter().zip(&agent_tokens).enumerate() {
        let home = servers[i % 2];
        let other = servers[(i + 1) % 2];
        let spool = spools.path().join(format!("agent-{i}"));
        // The first two agents' own server is down when they send (a port nobody listens on):
        // their uploader finds it unreachable and the spool goes to the other server.
        let first_choice = if i < 2 {
            let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = dead.local_addr().unwrap();
            drop(dead);
            format!("http://{addr}")
        } else {
            home.url("")
        };
        let mut up = Uploader::open(UploaderConfig::new(&first_choice, token, &spool)).unwrap();
        for (n, chunk) in events.chunks(400).enumerate() {
            up.spool_batch(&format!("b{n:04}"), chunk).unwrap();
            batches += 1;
        }
        let f = up.flush().unwrap();
        let mut written = f.events_written;
        if i < 2 {
            assert!(f.unreachable.is_some() && f.pending > 0, "{f:?}");
            let mut fallback =
                Uploader::open(UploaderConfig::new(&other.url(""), token, &spool)).unwrap();
            let f = fallback.flush().unwrap();
            assert!(f.unreachable.is_none(), "{f:?}");
            written += f.events_written;
        } else {
            assert!(f.unreachable.is_none(), "{f:?}");
        }
        assert_eq!(written, events.len() as u64, "agent {i}");
        // Every third batch again, to the server that did not take it: an agent whose answer
        // was lost sends again, maybe through another server of the load balancer.
        for (n, chunk) in events.chunks(400).enumerate().filter(|(n, _)| n % 3 == 0) {
            for srv in servers {
                let (status, text) = post(
                    &srv.url("/api/v1/events"),
                    Some(token),
                    &batch_json(&format!("b{n:04}"), chunk),
                    n % 2 == 0,
                );
                assert_eq!(status, 200, "{text}");
                let acc = json(&text);
                assert_eq!(acc["status"], "duplicate", "{text}");
                assert_eq!(acc["events"], 0);
                resent += 1;
            }
        }
    }
    assert!(resent >= 8 && batches >= 8, "{resent} resent of {batches}");

    // Stored once: as many events as were sent, one key per batch.
    let log = LogStore::open(&url).unwrap();
    assert_eq!(log.event_count().unwrap(), total);
    let keys = log.batch_keys("agent/").unwrap();
    assert_eq!(keys.len() as u64, batches, "one batch key per batch");
    let unique: std::collections::BTreeSet<_> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len());

    // The admin's API token, made in the database, works on both; so does a session made by
    // signing in on A, on B; a wrong password on B counts against the account A checks.
    for srv in servers {
        let (status, text) = get_as(&srv.url("/api/v1/status"), Some(&admin_token));
        assert_eq!(status, 200, "{text}");
    }
    let session = sign_in(&a, "adm", PASSWORD).expect("signed in on A");
    let (status, text) = get_with_cookie(&b.url("/api/v1/audit?limit=50"), &session);
    assert_eq!(status, 200, "the session from A opens B: {text}");
    let audit = json(&text);
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"signin") && actions.contains(&"agent.add"),
        "B's audit trail shows A's sign-in and the CLI's agents: {actions:?}"
    );
    assert!(sign_in(&b, "adm", "not the password at all").is_none());
    assert!(sign_in(&a, "nobody", PASSWORD).is_none());
    // An agent added while both run works on both at once; one removed stops working on both
    // (after the token cache's 10 s).
    let db = Db::open(&url, &Default::default()).unwrap();
    let late = server::agents::add(&db, "desk-late").unwrap();
    for (n, srv) in servers.iter().enumerate() {
        let (status, text) = post(
            &srv.url("/api/v1/events"),
            Some(&late),
            &batch_json("late", &slices[0][..1]),
            false,
        );
        assert_eq!(status, 200, "{text}");
        let expect = if n == 0 { "written" } else { "duplicate" };
        assert_eq!(json(&text)["status"], expect, "{text}");
    }
    let total = total + 1;
    server::agents::remove(&db, "desk-3").unwrap();
    std::thread::sleep(Duration::from_secs(11));
    for srv in servers {
        let (status, text) = post(
            &srv.url("/api/v1/events"),
            Some(&agent_tokens[3]),
            &batch_json("gone", &slices[3][..1]),
            false,
        );
        assert_eq!(
            status, 401,
            "a removed agent is refused by {}: {text}",
            srv.addr
        );
    }

    // Both dashboards show the same figures, once each has mined the whole log.
    let sa = summary_when(&a, &admin_token, total);
    let sb = summary_when(&b, &admin_token, total);
    assert_eq!(sa, sb, "the same summary on both servers");
    assert!(
        sa["overview"]["routines"].as_u64().unwrap() > 0,
        "the simulated routines are found: {sa}"
    );
    let (_, ra) = get_as(&a.url("/api/v1/routines"), Some(&admin_token));
    let (_, rb) = get_as(&b.url("/api/v1/routines"), Some(&admin_token));
    assert_eq!(json(&ra), json(&rb), "the same routines on both servers");
}

/// Waits for the server's writer to be blocked on the lock the test holds; returns its pid.
fn blocked_writer(c: &mut postgres::Client) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let row = c
            .query_opt(
                "SELECT pid FROM pg_stat_activity
                 WHERE application_name = 'taskmine-writer' AND wait_event_type = 'Lock'
                   AND datname = current_database()",
                &[],
            )
            .unwrap();
        if let Some(r) = row {
            return r.get(0);
        }
        assert!(
            Instant::now() < deadline,
            "the writer never reached the lock"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_connection_lost_in_the_middle_of_a_batch_leaves_nothing_and_the_retry_writes_it_once() {
    let url = pg::server().fresh_db("lost");
    let token = {
        let db = Db::open(&url, &Default::default()).unwrap();
        server::agents::add(&db, "desk").unwrap()
    };
    let mut cfg = config(&url);
    cfg.db_settings.pool = 1;
    let srv = Srv::start(cfg);
    let sim = uilog::SimConfig {
        events_target: Some(20_000),
        ..uilog::SimConfig::default()
    };
    let events: Vec<Event> = sliced(&sim, 1).remove(0).into_iter().take(15_000).collect();
    assert_eq!(events.len(), 15_000);

    // Another session holds the events table, so the batch stops at its COPY: after it claimed
    // its key and interned its strings, in its transaction. Then its connection is killed.
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut locker = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut lock = locker.transaction().unwrap();
    lock.batch_execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let spool = tempfile::tempdir().unwrap();
    let mut up = Uploader::open(UploaderConfig {
        max_batch_events: 20_000,
        ..UploaderConfig::new(&srv.url(""), &token, spool.path())
    })
    .unwrap();
    up.spool_batch("big", &events).unwrap();
    let sending = std::thread::spawn(move || {
        let f = up.flush().unwrap();
        (up, f)
    });
    let pid = blocked_writer(&mut admin);
    let killed: bool = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap()
        .get(0);
    assert!(killed);
    lock.rollback().unwrap();
    let (mut up, first) = sending.join().unwrap();
    assert_eq!(first.events_written, 0, "{first:?}");
    assert!(
        first
            .unreachable
            .as_deref()
            .is_some_and(|m| m.contains("500")),
        "the agent is told to send again: {first:?}"
    );
    assert_eq!(first.pending, 1, "the batch stays in the spool");

    // Nothing of it is left: no key, no events, none of its strings.
    let mut count = |sql: &str| -> i64 { admin.query_one(sql, &[]).unwrap().get(0) };
    assert_eq!(count("SELECT count(*) FROM batches"), 0);
    assert_eq!(count("SELECT count(*) FROM events"), 0);
    assert_eq!(count("SELECT count(*) FROM users"), 0);
    assert_eq!(count("SELECT count(*) FROM windows"), 0);

    // The uploader's retry goes to the same server, whose writer reconnected: written once.
    let second = up.flush().unwrap();
    assert!(second.unreachable.is_none(), "{second:?}");
    assert_eq!(second.events_written, 15_000);
    assert_eq!(second.pending, 0);
    let (status, text) = post(
        &srv.url("/api/v1/events"),
        Some(&token),
        &batch_json("big", &events),
        true,
    );
    assert_eq!(status, 200, "{text}");
    assert_eq!(json(&text)["status"], "duplicate");
    assert_eq!(count("SELECT count(*) FROM events"), 15_000);
    assert_eq!(count("SELECT count(*) FROM batches"), 1);
}

#[test]
fn a_statement_over_the_timeout_is_cancelled_and_the_batch_sent_again() {
    let url = pg::server().fresh_db("timeout");
    let token = {
        let db = Db::open(&url, &Default::default()).unwrap();
        server::agents::add(&db, "desk").unwrap()
    };
    let mut cfg = config(&url);
    cfg.db_settings.pool = 1;
    cfg.db_settings.statement_timeout = Some(Duration::from_millis(500));
    let srv = Srv::start(cfg);
    let events: Vec<Event> = team_events(1).remove(0).into_iter().take(2_000).collect();
    let mut locker = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut lock = locker.transaction().unwrap();
    lock.batch_execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let started = Instant::now();
    let (status, text) = post(
        &srv.url("/api/v1/events"),
        Some(&token),
        &batch_json("slow", &events),
        false,
    );
    assert_eq!(status, 500, "{text}");
    assert!(text.contains("statement timeout"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(20));
    lock.rollback().unwrap();
    let (status, text) = post(
        &srv.url("/api/v1/events"),
        Some(&token),
        &batch_json("slow", &events),
        false,
    );
    assert_eq!(status, 200, "{text}");
    assert_eq!(json(&text)["events"], 2_000);
    assert_eq!(LogStore::open(&url).unwrap().event_count().unwrap(), 2_000);
}

#[test]
fn the_load_measurement_with_two_servers_finds_nothing_lost_or_doubled() {
    let url = pg::server().fresh_db("bench");
    let dir = tempfile::tempdir().unwrap();
    let cfg = server::bench::IngestBench {
        agents: 4,
        events_per_agent: 2_000,
        batch: 100,
        gzip: false,
        db: Some(url.clone()),
        servers: 2,
        pool: 2,
    };
    let r = server::bench::ingest(&cfg, dir.path()).unwrap();
    assert_eq!(r.events, 8_000);
    assert_eq!(r.stored, 8_000);
    assert_eq!((r.lost, r.duplicated), (0, 0));
    // Every tenth batch of each agent went to the second server as well.
    assert_eq!(r.resent, 4 * 2);
    assert_eq!(r.batches, 4 * 20 + r.resent + r.retried);
    let keys = LogStore::open(&url).unwrap().batch_keys("agent/").unwrap();
    assert_eq!(keys.len(), 4 * 20);
}

/// A simulated team's log written into the PostgreSQL database at `url`, in one batch; the event
/// count.
fn simulated_log(url: &str) -> u64 {
    let events: Vec<Event> = team_events(1).remove(0);
    let mut log = LogStore::open(url).unwrap();
    log.write_batch(Some("simulated"), "test", |sink| -> uilog::Result<()> {
        for e in &events {
            sink.push(e)?;
        }
        Ok(())
    })
    .unwrap();
    events.len() as u64
}

/// The mining job's state once it has published a result: `/api/v1/status`.
fn status_when_published(srv: &Srv, token: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let (status, text) = get_as(&srv.url("/api/v1/status"), Some(token));
        assert_eq!(status, 200, "{text}");
        let v = json(&text);
        if !v["result"].is_null() {
            return v;
        }
        assert!(Instant::now() < deadline, "no result published: {v}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn count(c: &mut postgres::Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).unwrap().get(0)
}

/// Waits until `sql` counts more than nothing (rows the mining job writes after publishing).
fn some_rows(c: &mut postgres::Client, sql: &str) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let n = count(c, sql);
        if n > 0 {
            return n;
        }
        assert!(Instant::now() < deadline, "none of: {sql}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Signs a person in through `/me/signin` with a code; returns the status and the session cookie.
fn person_sign_in(srv: &Srv, pseudonym: &str, code: &str) -> (u16, Option<String>) {
    let csrf = "cd".repeat(32);
    let resp = no_redirects()
        .post(&srv.url("/me/signin"))
        .header("Cookie", &format!("tm_me_signin={csrf}"))
        .send_form([
            ("pseudonym", pseudonym),
            ("code", code),
            ("csrf", csrf.as_str()),
        ])
        .expect("sign-in request");
    let status = resp.status().as_u16();
    let sid = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("tm_person="))
        .map(|c| c.split(';').next().unwrap_or("").to_owned())
        .filter(|c| !c.is_empty());
    (status, sid)
}

#[test]
fn a_server_on_postgresql_stores_its_run_and_drafts_and_a_restarted_one_reads_them_back() {
    let url = pg::server().fresh_db("stored_run");
    let events = simulated_log(&url);
    let token = {
        let db = Db::open(&url, &Default::default()).unwrap();
        server::accounts::add(&db, "adm", Role::Admin, PASSWORD).unwrap();
        server::accounts::new_api_token(&db, "adm").unwrap()
    };
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();

    let first = Srv::start(config(&url));
    let s = status_when_published(&first, &token);
    assert_eq!(s["result"]["origin"], "mined", "{s}");
    let run = s["result"]["run"]
        .as_i64()
        .expect("the mined result was stored");
    assert_eq!(s["mined"], 1);
    let (_, summary) = get_as(&first.url("/api/v1/summary"), Some(&token));
    let summary = json(&summary);
    assert_eq!(summary["stats"]["events"].as_u64(), Some(events));
    assert!(
        summary["overview"]["routines"].as_u64().unwrap() > 0,
        "{summary}"
    );
    let (_, routines_first) = get_as(&first.url("/api/v1/routines"), Some(&token));
    let (_, bots_first) = get_as(&first.url("/api/v1/bots"), Some(&token));
    // The run, its instances, and the bot drafts beside it are rows of the shared database.
    assert_eq!(
        count(
            &mut c,
            &format!("SELECT count(*) FROM mining_runs WHERE id = {run}")
        ),
        1
    );
    assert!(
        count(
            &mut c,
            &format!("SELECT count(*) FROM mining_instances WHERE run_id = {run}")
        ) > 0
    );
    let drafts = count(
        &mut c,
        &format!("SELECT count(*) FROM server_bot_drafts WHERE run_id = {run}"),
    );
    assert!(drafts > 0, "bot drafts stored with run {run}");
    assert_eq!(
        count(
            &mut c,
            &format!("SELECT count(*) FROM server_drafted_runs WHERE run_id = {run}")
        ),
        1
    );
    // The business objects follow once the result is served.
    some_rows(
        &mut c,
        &format!("SELECT count(*) FROM mining_object_runs WHERE run_id = {run}"),
    );
    drop(first);

    // A new server on the unchanged log reads the run back instead of mining.
    let second = Srv::start(config(&url));
    let s = status_when_published(&second, &token);
    assert_eq!(s["result"]["origin"], "stored", "{s}");
    assert_eq!(s["result"]["run"].as_i64(), Some(run), "{s}");
    assert_eq!(
        (s["mined"].as_u64(), s["read_from_store"].as_u64()),
        (Some(0), Some(1))
    );
    let (_, routines_second) = get_as(&second.url("/api/v1/routines"), Some(&token));
    assert_eq!(
        json(&routines_second),
        json(&routines_first),
        "the same routines"
    );
    let (status, bots) = get_as(&second.url("/api/v1/bots"), Some(&token));
    assert_eq!(status, 200, "{bots}");
    assert_eq!(json(&bots), json(&bots_first), "the drafts read back");
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM mining_runs"),
        1,
        "nothing mined or stored again"
    );

    // A person's access code, issued in the shared database, opens their own page on PostgreSQL.
    let db = Db::open(&url, &Default::default()).unwrap();
    let person = "user-01";
    let code = server::people::issue_code(&db, person).unwrap();
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM server_people WHERE pseudonym = 'user-01' AND code_hash LIKE '$argon2id$%'"
        ),
        1
    );
    let (status, _) = person_sign_in(&second, person, "AAAAA-BBBBB-CCCCC-DDDDD");
    assert_eq!(status, 401, "a wrong code opens nothing");
    let (status, sid) = person_sign_in(&second, person, &code);
    assert_eq!(status, 303);
    let sid = sid.expect("a person's session");
    let resp = no_redirects()
        .get(&second.url("/me"))
        .header("Cookie", &format!("tm_person={sid}"))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let page = resp.into_body().read_to_string().unwrap();
    assert!(page.contains(person), "the page is the person's own");
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM server_person_sessions WHERE pseudonym = 'user-01'"
        ),
        1
    );
}

#[test]
fn erasure_on_postgresql_leaves_no_mining_link_or_code_rows_of_the_person() {
    let url = pg::server().fresh_db("erase");
    simulated_log(&url);
    let token = {
        let db = Db::open(&url, &Default::default()).unwrap();
        server::accounts::add(&db, "adm", Role::Admin, PASSWORD).unwrap();
        server::accounts::new_api_token(&db, "adm").unwrap()
    };
    // A server's stored run with its bot drafts, as serving leaves them.
    {
        let srv = Srv::start(config(&url));
        let s = status_when_published(&srv, &token);
        assert!(s["result"]["run"].is_i64(), "{s}");
    }
    let person = "user-01";
    let log = LogStore::open(&url).unwrap();
    let conn = uilog::Conn::from(&log);
    // A run of `taskmine mine` and a link report from it, both counting the person.
    let (_, m) = {
        let opts = miner::Options::default();
        let l = miner::Log::load(&log, &opts.abstraction, &mut miner::NoProgress).unwrap();
        let m = miner::mine_log(&l, &opts, &mut miner::NoProgress);
        (l, m)
    };
    assert!(m
        .routines
        .iter()
        .any(|r| r.instances.iter().any(|i| i.user == person)));
    let run = miner::results::save(conn, &m).unwrap();
    let report = miner::link::LinkReport {
        process_log: "cases.csv".into(),
        id_field: "invoice".into(),
        cases: 1,
        cases_linked: 0,
        instances: 1,
        instances_linked: 0,
        links: Vec::new(),
        activities: Vec::new(),
    };
    let names = miner::naming::routine_names(&m);
    miner::link::stored::save(conn, &report, &m, &names, Some(run)).unwrap();
    let db = Db::open(&url, &Default::default()).unwrap();
    server::people::issue_code(&db, person).unwrap();
    let v = server::people::verifier(person, "0123-4567-89AB-CDEF-GHJK-MNPQ").unwrap();
    server::people::register_verifier(&db, person, &v, "desk").unwrap();
    server::people::create_session(&db, person).unwrap();
    server::people::issue_code(&db, "user-02").unwrap();

    // The process page reads the link report from PostgreSQL.
    {
        let srv = Srv::start(config(&url));
        let (status, page) = get_as(&srv.url("/process"), Some(&token));
        assert_eq!(status, 200, "{page}");
        assert!(
            page.contains("cases.csv") && page.contains("invoice"),
            "{page}"
        );
    }
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let of_person = [
        r#"SELECT count(*) FROM mining_instances WHERE "user" = 'user-01'"#,
        r#"SELECT count(*) FROM mining_link_users WHERE "user" = 'user-01'"#,
        "SELECT count(*) FROM server_people WHERE pseudonym = 'user-01'",
        "SELECT count(*) FROM server_person_verifiers WHERE pseudonym = 'user-01'",
        "SELECT count(*) FROM server_person_sessions WHERE pseudonym = 'user-01'",
    ];
    for sql in of_person {
        assert!(count(&mut c, sql) > 0, "before the erasure: {sql}");
    }
    assert_eq!(count(&mut c, "SELECT count(*) FROM mining_runs"), 2);
    assert!(count(&mut c, "SELECT count(*) FROM server_bot_drafts") > 0);
    assert_eq!(count(&mut c, "SELECT count(*) FROM mining_links"), 1);

    let e =
        server::erasure::erase_postgres(&url, &Default::default(), person, "adm", "local").unwrap();
    assert!(e.events > 0);
    assert_eq!(
        e.runs, 2,
        "the CLI's run that counted them and the server's"
    );
    for sql in of_person {
        assert_eq!(count(&mut c, sql), 0, "after the erasure: {sql}");
    }
    for table in [
        "mining_runs",
        "mining_routines",
        "mining_instances",
        "mining_run_logs",
        "mining_instance_objects",
        "mining_instance_words",
        "mining_links",
        "server_bot_drafts",
        "server_drafted_runs",
    ] {
        assert_eq!(
            count(&mut c, &format!("SELECT count(*) FROM {table}")),
            0,
            "{table} after the erasure"
        );
    }
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM server_people"),
        1,
        "another person's code stays"
    );
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM users WHERE name = 'user-01'"),
        0
    );
    let audit = count(
        &mut c,
        "SELECT count(*) FROM server_audit WHERE action = 'erase' AND detail NOT LIKE '%user-01%'",
    );
    assert_eq!(audit, 1);
    // The person is gone: a second erasure finds nobody.
    assert!(matches!(
        server::erasure::erase_postgres(&url, &Default::default(), person, "adm", "local"),
        Err(server::Error::NoPerson(_))
    ));
}
