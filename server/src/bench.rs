//! The ingest load measurement: agents sending batches at once over loopback to one server, or to
//! several servers in this process that share one PostgreSQL database, timed from the first
//! request to the last answer, then checked against the store: nothing lost, nothing doubled.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use uilog::{LogRead, LogStore};

use crate::agents;
use crate::db::{Db, DbSettings};
use crate::error::{Error, Result};
use crate::state::Config;
use crate::wire::Accepted;

#[derive(Debug, Clone)]
pub struct IngestBench {
    pub agents: usize,
    pub events_per_agent: usize,
    pub batch: usize,
    pub gzip: bool,
    /// The database the servers write: a `postgres://` URL, or `None` for a fresh SQLite file.
    pub db: Option<String>,
    /// Servers on the database, each on its own port. Agents spread their batches over them, send
    /// a batch that fails to the next one, and send every tenth batch a second time to another
    /// server (as an agent does whose answer was lost), which must answer `duplicate`.
    pub servers: usize,
    /// Writer connections per server on PostgreSQL.
    pub pool: usize,
}

impl Default for IngestBench {
    fn default() -> Self {
        IngestBench {
            agents: 20,
            events_per_agent: 25_000,
            batch: 1_000,
            gzip: false,
            db: None,
            servers: 1,
            pool: DbSettings::default().pool,
        }
    }
}

#[derive(Debug, Clone)]
pub struct IngestResult {
    pub events: u64,
    /// Requests answered, resends and retries included.
    pub batches: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub events_per_s: f64,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    /// Events the store gained; equal to `events` when nothing was lost or doubled.
    pub stored: u64,
    /// Batches sent to a second server after the first answered (each must be a duplicate), and
    /// batches sent again after a failed request.
    pub resent: u64,
    pub retried: u64,
    /// Events sent that the store does not hold (batches no server accepted, or fewer stored).
    pub lost: u64,
    /// Events stored more than once (a resend answered `written`, or more stored than sent).
    pub duplicated: u64,
}

/// How often an agent tries the servers in turn before it gives a batch up as lost.
const ATTEMPTS: usize = 6;

/// Runs the measurement with a fresh SQLite database in `dir`, or with the PostgreSQL database
/// `cfg.db` (which may hold a log already: agents get new names, and the store's growth is
/// counted). Bodies are encoded before the clock starts, so the figure is the servers' (parsing,
/// checking, writing), not the load generator's.
pub fn ingest(cfg: &IngestBench, dir: &Path) -> Result<IngestResult> {
    let db = match &cfg.db {
        Some(url) => url.clone(),
        None => dir.join("ingest-bench.db").to_string_lossy().into_owned(),
    };
    let servers = cfg.servers.max(1);
    let total = cfg.agents * cfg.events_per_agent;
    let sim = uilog::SimConfig {
        // The simulator rounds to whole users; ask for a little more and cut.
        events_target: Some((total + total / 10 + 1_000) as u64),
        ..uilog::SimConfig::default()
    };
    let (mut events, _) = uilog::simulate_to_vec(&sim)?;
    events.truncate(total);
    if events.len() < total {
        return Err(Error::Server(format!(
            "the simulator made {} events, fewer than {total}",
            events.len()
        )));
    }
    let run: u32 = rand::random();
    let tokens: Vec<String> = {
        let conn = Db::open(&db, &Default::default())?;
        (0..cfg.agents)
            .map(|i| agents::add(&conn, &format!("bench-{run:08x}-{i}")))
            .collect::<Result<_>>()?
    };
    let before = LogStore::open(&db)?.event_count()?;
    // Each agent gets its own slice of the log, encoded as batches up front.
    let per_agent: Vec<Vec<Vec<u8>>> = events
        .chunks(cfg.events_per_agent)
        .map(|mine| {
            mine.chunks(cfg.batch.max(1))
                .enumerate()
                .map(|(b, chunk)| {
                    let body = serde_json::to_vec(&serde_json::json!({
                        "batch_id": format!("b{b}"),
                        "events": chunk,
                    }))
                    .expect("events encode");
                    if cfg.gzip {
                        use std::io::Write;
                        let mut enc =
                            flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                        enc.write_all(&body).expect("in-memory gzip");
                        enc.finish().expect("in-memory gzip")
                    } else {
                        body
                    }
                })
                .collect()
        })
        .collect();
    drop(events);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Server(format!("cannot start the runtime: {e}")))?;
    let mut urls = Vec::new();
    let mut running = Vec::new();
    for _ in 0..servers {
        let listener = rt
            .block_on(tokio::net::TcpListener::bind(SocketAddr::from((
                [127, 0, 0, 1],
                0,
            ))))
            .map_err(|e| Error::Server(format!("cannot listen on 127.0.0.1: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Server(e.to_string()))?;
        let mut config = Config::new(&db);
        config.db_settings.pool = cfg.pool.max(1);
        // Every agent here comes from 127.0.0.1, unlike a fleet; the limiter is not measured.
        config.rate.ingest = None;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        running.push((
            stop,
            rt.spawn(crate::serve(listener, config, async {
                let _ = stopped.await;
            })),
        ));
        urls.push(format!("http://{addr}/api/v1/events"));
    }

    let counters = Counters::default();
    let start = Instant::now();
    let mut latencies: Vec<f64> = std::thread::scope(|s| {
        let handles: Vec<_> = per_agent
            .iter()
            .zip(&tokens)
            .enumerate()
            .map(|(i, (bodies, token))| {
                let (urls, counters) = (&urls, &counters);
                s.spawn(move || {
                    let http: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .timeout_global(Some(Duration::from_secs(120)))
                        .build()
                        .into();
                    let mut lat = Vec::with_capacity(bodies.len());
                    for (b, body) in bodies.iter().enumerate() {
                        let first = (i + b) % urls.len();
                        let sent = send(
                            &http, urls, first, token, body, cfg.gzip, counters, &mut lat,
                        );
                        match sent {
                            Some((server, acc)) if acc.status == "written" => {
                                if urls.len() > 1 && b % 10 == 9 {
                                    counters.resent.fetch_add(1, Ordering::Relaxed);
                                    let other = (server + 1) % urls.len();
                                    if let Some((_, again)) = send(
                                        &http, urls, other, token, body, cfg.gzip, counters,
                                        &mut lat,
                                    ) {
                                        if again.status == "written" {
                                            counters
                                                .duplicated
                                                .fetch_add(again.events, Ordering::Relaxed);
                                        }
                                    }
                                }
                            }
                            Some(_) => {
                                // `duplicate` at the first answer: an earlier failed attempt
                                // was written after all, which is what the key is for.
                            }
                            None => {
                                counters.lost_batches.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    lat
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("agent thread"))
            .collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    for (stop, server) in running {
        let _ = stop.send(());
        rt.block_on(server)
            .map_err(|e| Error::Server(e.to_string()))??;
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    let stored = LogStore::open(&db)?.event_count()? - before;
    let sent = total as u64;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let lost_batches = load(&counters.lost_batches);
    if lost_batches > 0 {
        tracing::warn!("{lost_batches} batches were not accepted by any server");
    }
    Ok(IngestResult {
        events: sent,
        batches: latencies.len() as u64,
        bytes: load(&counters.bytes),
        seconds,
        events_per_s: sent as f64 / seconds,
        latency_p50_ms: pct(0.5),
        latency_p99_ms: pct(0.99),
        stored,
        resent: load(&counters.resent),
        retried: load(&counters.retried),
        lost: sent.saturating_sub(stored),
        duplicated: load(&counters.duplicated).max(stored.saturating_sub(sent)),
    })
}

#[derive(Default)]
struct Counters {
    bytes: AtomicU64,
    resent: AtomicU64,
    retried: AtomicU64,
    duplicated: AtomicU64,
    lost_batches: AtomicU64,
}

/// Sends one batch, starting with server `first` and going on to the next after a failure, up to
/// [`ATTEMPTS`] requests. Returns the server that answered 200 and its answer.
#[allow(clippy::too_many_arguments)]
fn send(
    http: &ureq::Agent,
    urls: &[String],
    first: usize,
    token: &str,
    body: &[u8],
    gzip: bool,
    counters: &Counters,
    lat: &mut Vec<f64>,
) -> Option<(usize, Accepted)> {
    for attempt in 0..ATTEMPTS {
        let server = (first + attempt) % urls.len();
        if attempt > 0 {
            counters.retried.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(50 * attempt as u64));
        }
        let t = Instant::now();
        let mut req = http
            .post(&urls[server])
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/json");
        if gzip {
            req = req.header("Content-Encoding", "gzip");
        }
        let answer = req.send(body).ok().and_then(|r| {
            let ok = r.status() == 200;
            let text = r.into_body().read_to_string().ok()?;
            ok.then(|| serde_json::from_str::<Accepted>(&text).ok())
                .flatten()
        });
        lat.push(t.elapsed().as_secs_f64() * 1e3);
        counters
            .bytes
            .fetch_add(body.len() as u64, Ordering::Relaxed);
        if let Some(acc) = answer {
            return Some((server, acc));
        }
    }
    None
}
