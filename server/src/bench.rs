//! The ingest load measurement: agents sending batches at once over loopback to a server in this
//! process, timed from the first request to the last answer, then checked against the store.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use uilog::Store;

use crate::agents;
use crate::error::{Error, Result};
use crate::state::Config;

#[derive(Debug, Clone)]
pub struct IngestBench {
    pub agents: usize,
    pub events_per_agent: usize,
    pub batch: usize,
    pub gzip: bool,
}

impl Default for IngestBench {
    fn default() -> Self {
        IngestBench {
            agents: 20,
            events_per_agent: 25_000,
            batch: 1_000,
            gzip: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct IngestResult {
    pub events: u64,
    pub batches: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub events_per_s: f64,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    /// Events the store holds afterwards; equal to `events` when nothing was lost or doubled.
    pub stored: u64,
}

/// Runs the measurement with a fresh database in `dir`. Bodies are encoded before the clock starts,
/// so the figure is the server's (parsing, checking, writing), not the load generator's.
pub fn ingest(cfg: &IngestBench, dir: &Path) -> Result<IngestResult> {
    let db = dir.join("ingest-bench.db");
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
    let tokens: Vec<String> = {
        let store = Store::open(&db)?;
        (0..cfg.agents)
            .map(|i| agents::add(&store, &format!("bench-{i}")))
            .collect::<Result<_>>()?
    };
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
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(SocketAddr::from((
            [127, 0, 0, 1],
            0,
        ))))
        .map_err(|e| Error::Server(format!("cannot listen on 127.0.0.1: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Server(e.to_string()))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(crate::serve(listener, Config::new(&db), async {
        let _ = stopped.await;
    }));

    let url = format!("http://{addr}/api/v1/events");
    let bytes = AtomicU64::new(0);
    let failures = AtomicU64::new(0);
    let start = Instant::now();
    let mut latencies: Vec<f64> = std::thread::scope(|s| {
        let handles: Vec<_> = per_agent
            .iter()
            .zip(&tokens)
            .map(|(bodies, token)| {
                let (url, bytes, failures) = (&url, &bytes, &failures);
                s.spawn(move || {
                    let http: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .timeout_global(Some(Duration::from_secs(120)))
                        .build()
                        .into();
                    let mut lat = Vec::with_capacity(bodies.len());
                    for body in bodies {
                        let t = Instant::now();
                        let mut req = http
                            .post(url)
                            .header("Authorization", &format!("Bearer {token}"))
                            .header("Content-Type", "application/json");
                        if cfg.gzip {
                            req = req.header("Content-Encoding", "gzip");
                        }
                        match req.send(&body[..]) {
                            Ok(r) if r.status() == 200 => {
                                let _ = r.into_body().read_to_string();
                            }
                            _ => {
                                failures.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        lat.push(t.elapsed().as_secs_f64() * 1e3);
                        bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
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
    let _ = stop.send(());
    rt.block_on(server)
        .map_err(|e| Error::Server(e.to_string()))??;
    let failed = failures.load(Ordering::Relaxed);
    if failed > 0 {
        return Err(Error::Server(format!("{failed} batches failed")));
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    let stored = Store::open(&db)?.stats()?.events;
    Ok(IngestResult {
        events: total as u64,
        batches: latencies.len() as u64,
        bytes: bytes.load(Ordering::Relaxed),
        seconds,
        events_per_s: total as f64 / seconds,
        latency_p50_ms: pct(0.5),
        latency_p99_ms: pct(0.99),
        stored,
    })
}
