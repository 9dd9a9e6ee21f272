//! A server on 127.0.0.1 for tests, and a small blocking HTTP helper.
#![allow(dead_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use server::{Config, Limits};
use uilog::{Event, EventKind};

pub struct TestServer {
    pub addr: SocketAddr,
    /// An admin's API token (empty when the server runs without sign-in).
    pub token: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<server::Result<()>>>,
}

impl TestServer {
    pub fn start(db: &Path) -> TestServer {
        TestServer::start_with(Config::new(db), "127.0.0.1:0".parse().unwrap())
    }

    pub fn start_limits(db: &Path, limits: Limits) -> TestServer {
        let mut config = Config::new(db);
        config.limits = limits;
        TestServer::start_with(config, "127.0.0.1:0".parse().unwrap())
    }

    /// Starts a server on `addr` (loopback only); waits until it listens. When the server needs
    /// sign-in, an admin account `test-admin` with an API token is made first (if missing).
    pub fn start_with(config: Config, addr: SocketAddr) -> TestServer {
        assert!(addr.ip().is_loopback(), "tests listen on loopback only");
        let token = if config.auth == server::AuthMode::Required {
            let store = uilog::Store::open(&config.db).unwrap();
            let c = store.connection();
            if !server::accounts::list(c)
                .unwrap()
                .iter()
                .any(|u| u.name == "test-admin")
            {
                server::accounts::add(c, "test-admin", server::accounts::Role::Admin, PASSWORD)
                    .unwrap();
            }
            server::accounts::new_api_token(c, "test-admin").unwrap()
        } else {
            String::new()
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                // The port of a stopped server may linger briefly; retry for up to 5 s.
                let mut tries = 0;
                let listener = loop {
                    match tokio::net::TcpListener::bind(addr).await {
                        Ok(l) => break l,
                        Err(e) if tries < 50 => {
                            tries += 1;
                            let _ = e;
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        Err(e) => panic!("cannot bind {addr}: {e}"),
                    }
                };
                ready_tx.send(listener.local_addr().unwrap()).unwrap();
                server::serve(listener, config, async {
                    let _ = stopped.await;
                })
                .await
            })
        });
        let addr = ready
            .recv_timeout(Duration::from_secs(10))
            .expect("server did not start");
        TestServer {
            addr,
            token,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// GETs a URL as the test admin (API token).
    pub fn get(&self, url: &str) -> (u16, String) {
        get_as(url, Some(&self.token))
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread").expect("server ran");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

pub fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// POSTs a body; returns the status and the answer's text.
pub fn post(url: &str, token: Option<&str>, body: &[u8], gzip: bool) -> (u16, String) {
    let mut req = http().post(url).header("Content-Type", "application/json");
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let resp = if gzip {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(body).unwrap();
        let z = enc.finish().unwrap();
        req.header("Content-Encoding", "gzip").send(&z[..])
    } else {
        req.send(body)
    }
    .expect("request");
    let status = resp.status().as_u16();
    let text = resp.into_body().read_to_string().unwrap_or_default();
    (status, text)
}

/// The password of the accounts tests make.
pub const PASSWORD: &str = "a test password, long enough";

/// GETs a URL without credentials.
pub fn get(url: &str) -> (u16, String) {
    get_as(url, None)
}

/// GETs a URL, with an API token if given.
pub fn get_as(url: &str, token: Option<&str>) -> (u16, String) {
    let mut req = http().get(url);
    if let Some(t) = token.filter(|t| !t.is_empty()) {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let resp = req.call().expect("request");
    let status = resp.status().as_u16();
    let text = resp
        .into_body()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .unwrap_or_default();
    (status, text)
}

pub fn event(session: &str, user: &str, ts: i64) -> Event {
    let mut e = Event::new(session, user, ts, EventKind::Click);
    e.app = "xterm".into();
    e.window = "Terminal".into();
    e.host = "host-1".into();
    e
}

pub fn batch_json(batch_id: &str, events: &[Event]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "batch_id": batch_id, "events": events })).unwrap()
}

pub fn count_events(db: &Path) -> u64 {
    uilog::Store::open(db).unwrap().stats().unwrap().events
}

/// A simulated team's log (known routines, several users) written into a new store at `db`.
pub fn simulated_store(db: &Path, users: u32, days: u32) -> u64 {
    let cfg = uilog::SimConfig {
        users,
        days,
        routines: 3,
        ..uilog::SimConfig::default()
    };
    let (events, _) = uilog::simulate_to_vec(&cfg).unwrap();
    let mut store = uilog::Store::open(db).unwrap();
    store
        .write_batch(Some("simulated"), "test", |sink| -> uilog::Result<()> {
            for e in &events {
                sink.push(e)?;
            }
            Ok(())
        })
        .unwrap();
    events.len() as u64
}

/// A server whose pages mine again on every request.
pub fn fresh_config(db: &Path) -> Config {
    let mut c = Config::new(db);
    c.remine_after = Duration::ZERO;
    // The tests sign in and send batches far faster than anyone; the limits have their own test.
    c.rate = server::RateLimits {
        login: None,
        ingest: None,
    };
    c
}
