//! `taskmine bench store|ingest|dashboard`: the figures the README promises, measured on this
//! machine.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use uilog::simulate::{self, Config};
use uilog::{ImportOptions, LogStore, Store};

use crate::Ui;

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    what: BenchWhat,
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Insert simulated events, measure bytes per event on disk, import a CSV of them.
    Store {
        /// How many events (about; the simulator rounds to whole users).
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        /// Events per batch (transaction) when inserting.
        #[arg(long, default_value_t = 50_000)]
        batch: usize,
        /// Insert into this database instead of a temporary SQLite file: a postgres:// URL
        /// (an empty database, so that its size is the log's) measures the PostgreSQL backend.
        #[arg(long)]
        db: Option<String>,
    },
    /// Sustained ingest over loopback: agents sending batches to a server at once (target ≥ 50,000
    /// events/s with 20 agents).
    Ingest {
        /// Concurrent agents.
        #[arg(long, default_value_t = 20)]
        agents: usize,
        /// Events each agent sends.
        #[arg(long, default_value_t = 25_000)]
        events_per_agent: usize,
        /// Events per batch (request).
        #[arg(long, default_value_t = 1_000)]
        batch: usize,
        /// Send gzip-compressed bodies.
        #[arg(long)]
        gzip: bool,
        /// Servers to run in this process, on ports of their own; more than one needs a shared
        /// PostgreSQL --db. Agents spread batches over them, retry a failed one on the next, and
        /// send every tenth batch to a second server too (it must answer duplicate).
        #[arg(long, default_value_t = 1)]
        servers: usize,
        /// The servers' database: a postgres:// URL (default: a temporary SQLite file).
        #[arg(long)]
        db: Option<String>,
        /// Writer connections per server on PostgreSQL.
        #[arg(long, default_value_t = 4)]
        db_pool: usize,
    },
    /// A fleet-sized log behind `taskmine serve`: time to the first mining result, latency of
    /// every dashboard page and read-API route (p50/p95), and the server's peak memory.
    Dashboard {
        /// Simulated events (about; the simulator rounds to whole users).
        #[arg(long, default_value_t = 10_000_000)]
        events: u64,
        /// Requests per route.
        #[arg(long, default_value_t = 20)]
        requests: usize,
        /// Use this existing database instead of simulating one.
        #[arg(long)]
        db: Option<std::path::PathBuf>,
    },
}

pub fn run(args: BenchArgs, ui: &Ui) -> anyhow::Result<()> {
    match args.what {
        BenchWhat::Dashboard {
            events,
            requests,
            db,
        } => bench_dashboard(events, requests.max(1), db, ui),
        BenchWhat::Store { events, batch, db } => bench_store(events, batch.max(1), db, ui),
        BenchWhat::Ingest {
            agents,
            events_per_agent,
            batch,
            gzip,
            servers,
            db,
            db_pool,
        } => bench_ingest(
            server::bench::IngestBench {
                agents: agents.max(1),
                events_per_agent: events_per_agent.max(1),
                batch: batch.max(1),
                gzip,
                db,
                servers: servers.max(1),
                pool: db_pool.max(1),
            },
            ui,
        ),
    }
}

fn bench_ingest(cfg: server::bench::IngestBench, ui: &Ui) -> anyhow::Result<()> {
    anyhow::ensure!(
        cfg.servers == 1 || cfg.db.as_deref().is_some_and(uilog::is_postgres_url),
        "--servers {} needs a PostgreSQL --db they share",
        cfg.servers
    );
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    println!(
        "ingest benchmark: {} agents × {} events in batches of {}{} over 127.0.0.1 to {} server(s) on {}",
        cfg.agents,
        cfg.events_per_agent,
        cfg.batch,
        if cfg.gzip { ", gzip" } else { "" },
        cfg.servers,
        cfg.db
            .as_deref()
            .map_or_else(|| "a temporary SQLite file".to_owned(), uilog::redact_url)
    );
    let spinner = ui.spinner("simulating and sending");
    let r = server::bench::ingest(&cfg, dir.path())?;
    spinner.finish_and_clear();
    println!(
        "sent {} events in {} batches ({:.1} MB) in {:.2} s: {:.0} events/s sustained",
        r.events,
        r.batches,
        r.bytes as f64 / 1e6,
        r.seconds,
        r.events_per_s
    );
    println!(
        "request latency: p50 {:.1} ms, p99 {:.1} ms; the store gained {} events; {} batches resent to another server, {} retried",
        r.latency_p50_ms, r.latency_p99_ms, r.stored, r.resent, r.retried
    );
    println!(
        "lost: {} events, duplicated: {} events",
        r.lost, r.duplicated
    );
    anyhow::ensure!(
        r.stored == r.events && r.lost == 0 && r.duplicated == 0,
        "the store gained {} events, {} were sent ({} lost, {} duplicated)",
        r.stored,
        r.events,
        r.lost,
        r.duplicated
    );
    Ok(())
}

fn bench_store(target: u64, batch: usize, into: Option<String>, ui: &Ui) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let cfg = Config {
        events_target: Some(target),
        noise: 0.05,
        ..Config::default()
    };
    let spinner = ui.spinner("simulating");
    let (mut events, truth) = simulate::simulate_to_vec(&cfg)?;
    spinner.finish_and_clear();
    // The recorder's CSV (Action Logger columns) keeps typed text, as a recorder writes it.
    let recorder_csv = dir.path().join("recorder.csv");
    let recorder_rows = {
        let mut w = BufWriter::new(File::create(&recorder_csv)?);
        simulate::write_recorder_csv(&events, &truth, &mut w, &recorder_csv)?
    };
    // The size target is for logs without typed text (the default policy keeps a hash, not the text).
    for e in &mut events {
        e.text = None;
    }
    let n = events.len() as u64;
    println!("store benchmark: {n} simulated events, batches of {batch}");

    let db = dir.path().join("bench.db");
    let mut store = match &into {
        Some(url) => LogStore::open(url)?,
        None => LogStore::Sqlite(Store::open(&db)?),
    };
    let (insert_target, size_target) = match store.backend() {
        "postgres" => ("150000", "none"),
        _ => ("250000", "<= 120 bytes/event"),
    };
    let before = store.size_bytes()?;
    let bar = ui.bar(n, "insert", "events");
    let cpu = cpu_secs();
    let start = Instant::now();
    for chunk in events.chunks(batch) {
        store.write_batch(None, "bench", |sink| -> uilog::Result<()> {
            chunk.iter().try_for_each(|e| sink.push(e))
        })?;
        bar.inc(chunk.len() as u64);
    }
    let insert = start.elapsed().as_secs_f64();
    let insert_cpu = cpu_since(cpu);
    bar.finish_and_clear();
    let bytes = store.size_bytes()?.saturating_sub(before);
    println!(
        "insert    {:>12.0} events/s   ({n} events into {} in {insert:.2} s, {insert_cpu} in taskmine; target >= {insert_target} events/s)",
        n as f64 / insert,
        store.backend()
    );
    println!(
        "on disk   {:>12.1} bytes/event ({bytes} bytes, no typed text, indexes included; target {size_target})",
        bytes as f64 / n as f64
    );
    drop(store);
    if let Some(url) = &into {
        println!(
            "import figures are measured on SQLite; {} keeps the {n} events",
            uilog::redact_url(url)
        );
        return Ok(());
    }

    let csv = dir.path().join("bench.csv");
    let file = File::create(&csv)?;
    uilog::export::write_csv(&Store::open(&db)?, &mut BufWriter::new(file))?;
    let csv_bytes = std::fs::metadata(&csv)?.len();
    let mut fresh = Store::open(dir.path().join("import.db"))?;
    let bar = ui.bar(csv_bytes, "import", "bytes");
    let cpu = cpu_secs();
    let start = Instant::now();
    uilog::import_file(&mut fresh, &csv, &ImportOptions::default(), &mut |b| {
        bar.set_position(b)
    })?;
    let import = start.elapsed().as_secs_f64();
    let import_cpu = cpu_since(cpu);
    bar.finish_and_clear();
    println!(
        "import    {:>12.0} rows/s     ({n} rows of taskmine CSV, {:.0} MB, in {import:.2} s, {import_cpu}; target >= 700000 rows/s)",
        n as f64 / import,
        csv_bytes as f64 / 1e6
    );
    let same = fresh.stats()?.events == n;
    anyhow::ensure!(same, "the imported CSV does not hold all {n} events");
    drop(fresh);

    let csv_bytes = std::fs::metadata(&recorder_csv)?.len();
    let mut fresh = Store::open(dir.path().join("import-recorder.db"))?;
    let bar = ui.bar(csv_bytes, "import", "bytes");
    let cpu = cpu_secs();
    let start = Instant::now();
    uilog::import_file(
        &mut fresh,
        &recorder_csv,
        &ImportOptions::default(),
        &mut |b| bar.set_position(b),
    )?;
    let import = start.elapsed().as_secs_f64();
    let import_cpu = cpu_since(cpu);
    bar.finish_and_clear();
    println!(
        "import    {:>12.0} rows/s     ({recorder_rows} rows of Action Logger CSV, {:.0} MB, in {import:.2} s, {import_cpu}; target >= 600000 rows/s)",
        recorder_rows as f64 / import,
        csv_bytes as f64 / 1e6
    );
    let same = fresh.stats()?.events == recorder_rows;
    anyhow::ensure!(
        same,
        "the imported recorder CSV does not hold all {recorder_rows} rows"
    );
    Ok(())
}

/// CPU time of this process so far (user + system, all threads), from `/proc/self/stat`. Printed
/// beside wall times because on a shared machine the wall time says more about the neighbours.
fn cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on every Linux architecture taskmine builds for.
    Some(ticks / 100.0)
}

/// "N.NN s CPU" since `start`, or "CPU time unknown".
fn cpu_since(start: Option<f64>) -> String {
    match (start, cpu_secs()) {
        (Some(a), Some(b)) => format!("{:.2} s CPU", b - a),
        _ => "CPU time unknown".to_owned(),
    }
}

/// Simulates a log of about `target` events straight into a store (streamed, one batch).
fn simulate_into(db: &Path, target: u64) -> anyhow::Result<u64> {
    let cfg = Config {
        events_target: Some(target),
        noise: 0.05,
        ..Config::default()
    };
    let mut store = Store::open(db)?;
    let mut n = 0u64;
    store.write_batch(None, "bench", |sink| -> uilog::Result<()> {
        simulate::simulate(&cfg, |e: &uilog::Event| {
            n += 1;
            sink.push(e)
        })?;
        Ok(())
    })?;
    Ok(n)
}

fn bench_dashboard(
    target: u64,
    requests: usize,
    db: Option<std::path::PathBuf>,
    ui: &Ui,
) -> anyhow::Result<()> {
    use std::process::{Command, Stdio};
    use std::time::Duration;

    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let db = match db {
        Some(db) => db,
        None => {
            let db = dir.path().join("fleet.db");
            let spinner = ui.spinner("simulating");
            let start = Instant::now();
            let n = simulate_into(&db, target)?;
            spinner.finish_and_clear();
            println!(
                "simulated {n} events in {:.1} s",
                start.elapsed().as_secs_f64()
            );
            db
        }
    };
    let events = Store::open(&db)?.stats()?.events;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr = format!("127.0.0.1:{port}");
    // The server runs as its own process, so its peak memory is its own and not this one's.
    let exe = std::env::current_exe().context("cannot find the taskmine binary")?;
    let start = Instant::now();
    let child = Command::new(exe)
        .args([
            "serve",
            "--quiet",
            "--remine-after-secs",
            "3600",
            "--addr",
            &addr,
        ])
        .arg("--db")
        .arg(&db)
        .arg("--bots")
        .arg(dir.path().join("bots"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start taskmine serve")?;
    let server = ChildGuard(child);
    let spinner = ui.spinner("waiting for the first mining result");
    let deadline = start + Duration::from_secs(1800);
    let first = loop {
        match http_get(&addr, "/api/v1/summary") {
            Ok((200, _)) => break start.elapsed(),
            _ if Instant::now() > deadline => anyhow::bail!("no mining result after 30 min"),
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    spinner.finish_and_clear();
    println!(
        "{events} events: first mining result after {:.1} s (target < 30 s at 10M)",
        first.as_secs_f64()
    );

    let (_, list) = http_get(&addr, "/api/v1/routines")?;
    let id = list
        .split("\"id\":")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .unwrap_or("1")
        .to_owned();
    let mut paths: Vec<String> = server::api::api_routes()
        .into_iter()
        .filter(|(method, _)| method.eq_ignore_ascii_case("get"))
        .map(|(_, p)| p.to_owned())
        .chain(
            [
                "/",
                "/candidates",
                "/routines/{id}",
                "/privacy",
                "/report.html",
            ]
            .iter()
            .map(|p| p.to_string()),
        )
        .map(|p| p.replace("{id}", &id))
        .collect();
    paths.dedup();
    println!(
        "{:<32} {:>9} {:>9} {:>7}",
        "route", "p50 ms", "p95 ms", "status"
    );
    let mut worst = 0f64;
    for path in &paths {
        let mut times = Vec::with_capacity(requests);
        let mut status = 0;
        for _ in 0..requests {
            let t = Instant::now();
            status = http_get(&addr, path)?.0;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        worst = worst.max(pick(0.95));
        println!(
            "{path:<32} {:>9.1} {:>9.1} {status:>7}",
            pick(0.5),
            pick(0.95)
        );
    }
    let peak = peak_rss_kib(server.0.id()).unwrap_or(0);
    println!(
        "slowest route p95 {worst:.1} ms (target < 1000 ms); server peak memory {:.0} MiB (target < 2048)",
        peak as f64 / 1024.0
    );
    Ok(())
}

/// Kills the server by PID when the benchmark ends, also on an error.
struct ChildGuard(std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A minimal HTTP/1.1 GET on loopback: the status and the body. The benchmark measures the
/// server, so the client is as plain as can be.
fn http_get(addr: &str, path: &str) -> anyhow::Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr)?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Ok((status, body.to_owned()))
}

/// The peak resident memory of a process (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}
