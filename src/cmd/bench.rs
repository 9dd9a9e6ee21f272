//! `taskmine bench store`: the figures the foundation promises, measured on this machine.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand};
use uilog::simulate::{self, Config};
use uilog::{ImportOptions, Store};

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
    },
}

pub fn run(args: BenchArgs, ui: &Ui) -> anyhow::Result<()> {
    match args.what {
        BenchWhat::Store { events, batch } => bench_store(events, batch.max(1), ui),
        BenchWhat::Ingest {
            agents,
            events_per_agent,
            batch,
            gzip,
        } => bench_ingest(
            server::bench::IngestBench {
                agents: agents.max(1),
                events_per_agent: events_per_agent.max(1),
                batch: batch.max(1),
                gzip,
            },
            ui,
        ),
    }
}

fn bench_ingest(cfg: server::bench::IngestBench, ui: &Ui) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    println!(
        "ingest benchmark: {} agents × {} events in batches of {}{} over 127.0.0.1",
        cfg.agents,
        cfg.events_per_agent,
        cfg.batch,
        if cfg.gzip { ", gzip" } else { "" }
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
        "request latency: p50 {:.1} ms, p99 {:.1} ms; the store holds {} events ({})",
        r.latency_p50_ms,
        r.latency_p99_ms,
        r.stored,
        if r.stored == r.events {
            "none lost or doubled"
        } else {
            "MISMATCH"
        }
    );
    anyhow::ensure!(
        r.stored == r.events,
        "the store holds {} events, {} were sent",
        r.stored,
        r.events
    );
    Ok(())
}

fn bench_store(target: u64, batch: usize, ui: &Ui) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let cfg = Config {
        events_target: Some(target),
        noise: 0.05,
        ..Config::default()
    };
    let spinner = ui.spinner("simulating");
    let (mut events, _) = simulate::simulate_to_vec(&cfg)?;
    spinner.finish_and_clear();
    // The size target is for logs without typed text (the default policy keeps a hash, not the text).
    for e in &mut events {
        e.text = None;
    }
    let n = events.len() as u64;
    println!("store benchmark: {n} simulated events, batches of {batch}");

    let db = dir.path().join("bench.db");
    let mut store = Store::open(&db)?;
    let bar = ui.bar(n, "insert", "events");
    let start = Instant::now();
    for chunk in events.chunks(batch) {
        store.write_batch(None, "bench", |sink| -> uilog::Result<()> {
            chunk.iter().try_for_each(|e| sink.push(e))
        })?;
        bar.inc(chunk.len() as u64);
    }
    let insert = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let bytes = checkpointed_size(&store, &db)?;
    println!(
        "insert    {:>12.0} events/s   ({n} events in {insert:.2} s; target >= 250000 events/s)",
        n as f64 / insert
    );
    println!(
        "on disk   {:>12.1} bytes/event ({bytes} bytes, no typed text; target <= 120 bytes/event)",
        bytes as f64 / n as f64
    );
    drop(store);

    let csv = dir.path().join("bench.csv");
    let file = File::create(&csv)?;
    uilog::export::write_csv(&Store::open(&db)?, &mut BufWriter::new(file))?;
    let csv_bytes = std::fs::metadata(&csv)?.len();
    let mut fresh = Store::open(dir.path().join("import.db"))?;
    let bar = ui.bar(csv_bytes, "import", "bytes");
    let start = Instant::now();
    uilog::import_file(&mut fresh, &csv, &ImportOptions::default(), &mut |b| {
        bar.set_position(b)
    })?;
    let import = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    println!(
        "import    {:>12.0} rows/s     ({n} CSV rows, {:.0} MB, in {import:.2} s; target 1M rows < 10 s)",
        n as f64 / import,
        csv_bytes as f64 / 1e6
    );
    let same = fresh.stats()?.events == n;
    anyhow::ensure!(same, "the imported CSV does not hold all {n} events");
    Ok(())
}

/// The database's size with the WAL folded back into the main file.
fn checkpointed_size(store: &Store, db: &Path) -> anyhow::Result<u64> {
    store
        .connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    let wal = db.with_extension("db-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    Ok(std::fs::metadata(db)?.len() + wal_len)
}
