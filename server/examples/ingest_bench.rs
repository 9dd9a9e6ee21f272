//! Sustained ingest over loopback: `cargo run -p server --release --example ingest_bench -- [agents]
//! [events per agent] [batch] [gzip]`. The same measurement as `taskmine bench ingest`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, d: usize| -> Result<usize, Box<dyn std::error::Error>> {
        Ok(args.get(i).map(|s| s.parse()).transpose()?.unwrap_or(d))
    };
    let cfg = server::bench::IngestBench {
        agents: num(0, 20)?.max(1),
        events_per_agent: num(1, 25_000)?.max(1),
        batch: num(2, 1_000)?.max(1),
        gzip: args.get(3).is_some_and(|s| s == "gzip"),
        ..Default::default()
    };
    let dir = tempfile::tempdir()?;
    let r = server::bench::ingest(&cfg, dir.path())?;
    println!(
        "{} agents, batches of {}{}: {} events in {:.2} s = {:.0} events/s; p50 {:.1} ms, p99 {:.1} ms; stored {}",
        cfg.agents,
        cfg.batch,
        if cfg.gzip { " (gzip)" } else { "" },
        r.events,
        r.seconds,
        r.events_per_s,
        r.latency_p50_ms,
        r.latency_p99_ms,
        r.stored
    );
    if r.stored != r.events {
        return Err(format!("stored {} of {} events", r.stored, r.events).into());
    }
    Ok(())
}
