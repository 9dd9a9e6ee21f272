//! Writes a simulated log as an Action Logger style CSV (the recorder CSV of
//! [`uilog::simulate::write_recorder_csv`]), for import benchmarks and for the comparison with
//! PM4Py (`scripts/bench-vs-pm4py.sh`).
//!
//! ```text
//! cargo run --release -p uilog --example recorder_csv -- OUT.csv [ROWS] [USERS] [ROUTINES] [NOISE]
//! ```
//!
//! Defaults: 1,100,000 rows (about; whole days), 3 users, 3 routines, 10 % noise. The number of
//! days is chosen from a short run so that the log has about ROWS rows with that many users.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use uilog::simulate::{simulate_to_vec, write_recorder_csv, Config};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = PathBuf::from(
        args.first()
            .ok_or("usage: recorder_csv OUT.csv [ROWS] [USERS] [ROUTINES] [NOISE]")?,
    );
    let num = |i: usize, default: f64| -> Result<f64, String> {
        args.get(i)
            .map(|s| {
                s.parse::<f64>()
                    .map_err(|e| format!("argument {i}: {s:?}: {e}"))
            })
            .unwrap_or(Ok(default))
    };
    let rows = num(1, 1_100_000.0)? as u64;
    let mut cfg = Config {
        users: num(2, 3.0)? as u32,
        routines: num(3, 3.0)? as usize,
        noise: num(4, 0.1)?,
        days: 10,
        ..Config::default()
    };
    cfg.validate()?;
    // Rows per day from ten days, then enough days for the target.
    let (probe, _) = simulate_to_vec(&cfg)?;
    let per_day = (probe.len() as f64 / 10.0).max(1.0);
    cfg.days = ((rows as f64 / per_day).ceil() as u32).max(1);
    let (events, truth) = simulate_to_vec(&cfg)?;
    let mut w = BufWriter::new(File::create(&out)?);
    let n = write_recorder_csv(&events, &truth, &mut w, &out)?;
    drop(w);
    eprintln!(
        "{}: {n} rows ({} users, {} days, {} routines, noise {})",
        out.display(),
        cfg.users,
        cfg.days,
        cfg.routines,
        cfg.noise
    );
    Ok(())
}
