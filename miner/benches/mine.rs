//! End-to-end mining speed: load from SQLite to ranked candidates, at 1M and 10M events.
//!
//! `cargo bench -p miner --bench mine` (sizes from `MINER_BENCH_SIZES`, default `1000000,10000000`).
//! The simulated databases are kept in `target/miner-bench/` so that a second run measures mining
//! only. Prints events/s per size, the time per stage and the peak resident memory of the process.

use std::path::PathBuf;
use std::time::Instant;

use miner::{mine, NoProgress, Options};
use uilog::simulate::{simulate, Config};
use uilog::Store;

fn database(events: u64) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/miner-bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("sim-{events}.db"));
    if path.exists() {
        return Ok(path);
    }
    let tmp = dir.join(format!("sim-{events}.db.partial"));
    let _ = std::fs::remove_file(&tmp);
    eprintln!("simulating {events} events into {} (once)…", path.display());
    let t = Instant::now();
    let mut store = Store::open(&tmp)?;
    let cfg = Config {
        events_target: Some(events),
        noise: 0.1,
        variant_steps: 0.1,
        ..Config::default()
    };
    // One batch per 100k events keeps the memory of the writer small.
    let mut batch: Vec<uilog::Event> = Vec::with_capacity(100_000);
    let flush = |store: &mut Store, batch: &mut Vec<uilog::Event>| -> uilog::Result<()> {
        store.write_batch(None, "bench", |sink| -> uilog::Result<()> {
            batch.iter().try_for_each(|e| sink.push(e))
        })?;
        batch.clear();
        Ok(())
    };
    let mut result: uilog::Result<()> = Ok(());
    simulate(&cfg, |e| -> uilog::Result<()> {
        let mut e = e.clone();
        e.text = None;
        batch.push(e);
        if batch.len() == batch.capacity() {
            result = flush(&mut store, &mut batch);
        }
        Ok(())
    })?;
    result?;
    flush(&mut store, &mut batch)?;
    drop(store);
    std::fs::rename(&tmp, &path)?;
    let _ = std::fs::remove_file(dir.join(format!("sim-{events}.db.partial-wal")));
    let _ = std::fs::remove_file(dir.join(format!("sim-{events}.db.partial-shm")));
    eprintln!("  done in {:.0} s", t.elapsed().as_secs_f64());
    Ok(path)
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo test --benches` runs this with `--bench` absent; only measure when asked to.
    if !std::env::args().any(|a| a == "--bench") {
        return Ok(());
    }
    let sizes: Vec<u64> = std::env::var("MINER_BENCH_SIZES")
        .unwrap_or_else(|_| "1000000,10000000".into())
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    for size in sizes {
        let path = database(size)?;
        let store = Store::open(&path)?;
        let t = Instant::now();
        let (_, m) = mine(&store, &Options::default(), &mut NoProgress)?;
        let secs = t.elapsed().as_secs_f64();
        let n = m.summary.events;
        let stages: Vec<String> = m
            .timings_ms
            .iter()
            .map(|(s, ms)| format!("{s} {:.2} s", ms / 1e3))
            .collect();
        println!(
            "mine {n:>9} events: {secs:6.2} s, {:>10.0} events/s ({}), {} routines, peak RSS {:.0} MiB",
            n as f64 / secs,
            stages.join(", "),
            m.routines.len(),
            peak_rss_mib()
        );
    }
    Ok(())
}
