//! Fuzzes every importer for a fixed time and prints what happened, so that "0 panics, 0 hangs in
//! a 10-minute run per importer" is a figure a command prints (issue 13).
//!
//! ```text
//! cargo run --release -p uilog --example fuzz -- --secs 600 [--seed 1] [--only xes]
//! ```
//!
//! Per importer: cases run, imported and refused, panics, hangs (a case over `--hang-ms`, default
//! 2,000 ms), rule violations (an error without the file name, over one line or 320 characters, a
//! store changed by a failed import), the largest time per KiB of input and the largest peak of
//! resident memory during a case above what was resident before it (Linux `VmHWM`, reset per case). First it measures the XES nesting case of issue 13 (depth 40,000
//! with a value per level). Cases that panic or break a rule are saved under
//! `target/fuzz-failures/`. Exits non-zero when any importer had a panic, hang or violation.

#[path = "../tests/fuzz_gen/mod.rs"]
mod fuzz_gen;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use fuzz_gen::{inputs, run_case, targets};

struct Args {
    secs: u64,
    seed: u64,
    hang: Duration,
    only: Option<String>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        secs: 10,
        seed: 1,
        hang: Duration::from_millis(2000),
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--secs" => a.secs = value()?.parse().map_err(|e| format!("--secs: {e}"))?,
            "--seed" => a.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--hang-ms" => {
                a.hang =
                    Duration::from_millis(value()?.parse().map_err(|e| format!("--hang-ms: {e}"))?)
            }
            "--only" => a.only = Some(value()?),
            other => {
                return Err(format!(
                    "unknown argument {other:?} (--secs N, --seed S, --hang-ms MS, --only NAME)"
                ))
            }
        }
    }
    Ok(a)
}

/// The process's resident memory in bytes (Linux `/proc/self/statm`), 0 where it cannot be read.
fn rss() -> u64 {
    let page = 4096;
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * page)
}

/// Resets the peak resident memory (`VmHWM`) to the current one (Linux `clear_refs`), so that the
/// next [`peak_rss`] is the peak of what runs in between.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory since the last [`reset_peak`] (`VmHWM`), in bytes.
fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kb| kb * 1024)
}

const MB: f64 = 1024.0 * 1024.0;

fn xes_depth_case(dir: &std::path::Path) {
    let depth = 40_000;
    let mut s = String::from("<?xml version=\"1.0\"?>\n<log>\n<trace>\n<event>\n");
    s.push_str("<string key=\"concept:name\" value=\"click\"/>\n<date key=\"time:timestamp\" value=\"2024-01-02T09:00:00Z\"/>\n");
    for i in 0..depth {
        s.push_str(&format!("<string key=\"k{i}\" value=\"v{i}\">\n"));
    }
    s.push_str(&"</string>\n".repeat(depth));
    s.push_str("</event>\n</trace>\n</log>\n");
    let path = dir.join("deep.xes");
    reset_peak();
    let (rss0, peak0) = (rss(), peak_rss());
    let start = Instant::now();
    let outcome = run_case(&path, s.as_bytes(), uilog::Format::Xes);
    let took = start.elapsed();
    let mut store = fuzz_gen::seeded_store();
    let err = uilog::import_file(&mut store, &path, &Default::default(), &mut |_| {})
        .err()
        .map(|e| e.to_string())
        .unwrap_or_else(|| "imported".into());
    println!(
        "xes nesting depth {depth} ({:.2} MB file): {} in {:.1} ms, resident memory +{:.1} MB (peak +{:.1} MB): {err}",
        s.len() as f64 / MB,
        if outcome.imported { "imported" } else { "refused" },
        took.as_secs_f64() * 1000.0,
        rss().saturating_sub(rss0) as f64 / MB,
        peak_rss().saturating_sub(peak0) as f64 / MB,
    );
}

/// `valid` grown to about `size` bytes by repeating its rows (CSV, JSONL) or traces (XES).
fn scaled(valid: &[u8], ext: &str, size: usize) -> Vec<u8> {
    let text = String::from_utf8_lossy(valid);
    let (head, body, tail) = match ext {
        "xes" => {
            let start = text.find("<trace").unwrap_or(0);
            let end = text.rfind("</log>").unwrap_or(text.len());
            (&text[..start], &text[start..end], &text[end..])
        }
        "jsonl" => ("", &text[..], ""),
        _ => {
            let nl = text.find('\n').map_or(0, |i| i + 1);
            (&text[..nl], &text[nl..], "")
        }
    };
    let mut out = String::with_capacity(size + valid.len());
    out.push_str(head);
    while out.len() < size {
        out.push_str(body);
    }
    out.push_str(tail);
    out.into_bytes()
}

/// Times the import of each valid file grown to 1 and 8 MiB: linear time shows as the same
/// milliseconds per MiB.
fn linearity(dir: &std::path::Path) {
    for t in targets() {
        let mut figures = Vec::new();
        for mib in [1usize, 8] {
            let bytes = scaled(&t.valid, t.ext, mib << 20);
            let path = dir.join(format!("big.{}", t.ext));
            let outcome = run_case(&path, &bytes, t.format);
            assert!(
                outcome.imported,
                "{}: the grown valid file must import",
                t.name
            );
            figures.push(format!(
                "{:.1} MiB in {:.0} ms ({:.0} ms/MiB)",
                bytes.len() as f64 / MB,
                outcome.elapsed.as_secs_f64() * 1000.0,
                outcome.elapsed.as_secs_f64() * 1000.0 / (bytes.len() as f64 / MB)
            ));
        }
        println!("{:<19} linear time: {}", t.name, figures.join(", "));
    }
}

fn main() -> ExitCode {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fuzz: {e}");
            return ExitCode::FAILURE;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let failures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-failures");
    xes_depth_case(dir.path());
    linearity(dir.path());
    // The panics are counted; their messages would drown the figures.
    std::panic::set_hook(Box::new(|_| {}));
    let mut bad_total = 0u64;
    for target in targets() {
        if a.only.as_deref().is_some_and(|o| o != target.name) {
            continue;
        }
        let path = dir.path().join(format!("case.{}", target.ext));
        let strategy = inputs(target.valid.clone());
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&a.seed.to_le_bytes());
        let mut runner = TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
        );
        let (mut cases, mut imported, mut panics, mut hangs, mut violations) =
            (0u64, 0u64, 0u64, 0u64, 0u64);
        let mut max_ms_per_kb = 0f64;
        // Over inputs of 8 KiB or more, where the fixed cost of a case (a store, a file) no
        // longer dominates: the figure that shows time linear in the input.
        let mut max_ms_per_kb_large = 0f64;
        let mut max_growth = 0u64;
        let mut bytes_total = 0u64;
        let until = Instant::now() + Duration::from_secs(a.secs);
        while Instant::now() < until {
            let bytes = strategy.new_tree(&mut runner).unwrap().current();
            reset_peak();
            let base = rss();
            let outcome = run_case(&path, &bytes, target.format);
            max_growth = max_growth.max(peak_rss().saturating_sub(base));
            cases += 1;
            bytes_total += bytes.len() as u64;
            imported += u64::from(outcome.imported);
            let kb = (bytes.len() as f64 / 1024.0).max(1.0);
            let ms_per_kb = outcome.elapsed.as_secs_f64() * 1000.0 / kb;
            max_ms_per_kb = max_ms_per_kb.max(ms_per_kb);
            if bytes.len() >= 8192 {
                max_ms_per_kb_large = max_ms_per_kb_large.max(ms_per_kb);
            }
            let hang = outcome.elapsed > a.hang;
            hangs += u64::from(hang);
            panics += u64::from(outcome.panicked);
            if let Some(v) = &outcome.violation {
                violations += 1;
                eprintln!("{}: case {cases}: {v}", target.name);
            }
            if outcome.panicked || hang || outcome.violation.is_some() {
                let _ = std::fs::create_dir_all(&failures);
                let saved =
                    failures.join(format!("{}-{}-{cases}.{}", target.name, a.seed, target.ext));
                let _ = std::fs::write(&saved, &bytes);
                eprintln!("{}: case {cases} saved to {}", target.name, saved.display());
            }
        }
        bad_total += panics + hangs + violations;
        println!(
            "{:<19} {cases:>8} cases in {} s ({:.0} cases/s, {:.1} MB read): {imported} imported, {} refused; \
             {panics} panics, {hangs} hangs (> {} ms), {violations} rule violations; \
             max {:.2} ms per KiB ({:.3} over inputs ≥ 8 KiB), max peak memory per case {:.1} MB above the resident memory before it",
            target.name,
            a.secs,
            cases as f64 / a.secs.max(1) as f64,
            bytes_total as f64 / MB,
            cases - imported,
            a.hang.as_millis(),
            max_ms_per_kb,
            max_ms_per_kb_large,
            max_growth as f64 / MB,
        );
    }
    if bad_total == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
