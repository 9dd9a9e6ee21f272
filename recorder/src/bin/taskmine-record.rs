//! The recorder on its own: `taskmine-record --db PATH [--policy FILE] [--session NAME]`.
//!
//! The same loop as `taskmine record`, in a small binary the crate's tests can start, stop with
//! SIGTERM and kill with SIGKILL.

#![forbid(unsafe_code)]

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use recorder::capture::{record, Controls, RecordConfig};

fn main() -> ExitCode {
    let mut config = RecordConfig {
        db: PathBuf::from("taskmine.db"),
        policy: None,
        session: None,
    };
    let mut quiet = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next().unwrap_or_else(|| {
                eprintln!("taskmine-record: {name} needs a value");
                std::process::exit(2);
            })
        };
        match arg.as_str() {
            "--db" => config.db = value("--db").into(),
            "--policy" => config.policy = Some(value("--policy").into()),
            "--session" => config.session = Some(value("--session")),
            "--quiet" | "-q" => quiet = true,
            other => {
                eprintln!("taskmine-record: unknown argument {other:?} (expected --db, --policy, --session, --quiet)");
                return ExitCode::from(2);
            }
        }
    }
    // On a terminal the status line is redrawn in place; elsewhere (a log, a test) a line is
    // printed only when it changes.
    let terminal = std::io::stderr().is_terminal();
    let mut last = String::new();
    let result = Controls::from_signals().and_then(|controls| {
        record(&config, &controls, |s| {
            for n in &s.notices {
                if terminal && !last.is_empty() {
                    eprintln!();
                    last.clear();
                }
                eprintln!("taskmine-record: {n}");
            }
            let state = if s.paused { "paused" } else { "recording" };
            let line = format!("{state}: {} events, app {}", s.events, s.app);
            if quiet || line == last {
                return;
            }
            if terminal {
                eprint!("\r{line}\x1b[K");
            } else {
                eprintln!("{line}");
            }
            last = line;
        })
    });
    if terminal && !quiet {
        eprintln!();
    }
    match result {
        Ok(summary) => {
            if !quiet {
                eprintln!(
                    "taskmine-record: session {}: {} events written",
                    summary.session, summary.events
                );
                let e = summary.elements;
                eprintln!(
                    "taskmine-record: elements on {}/{} clicks and {}/{} typed runs; lookups p50 {:.1} ms, p95 {:.1} ms ({} lookups, {} failed)",
                    e.clicks_with_element, e.clicks, e.runs_with_element, e.runs,
                    summary.lookups.p50_ms, summary.lookups.p95_ms, summary.lookups.count, summary.lookups.failed
                );
                let s = summary.snapshots;
                if s.requested > 0 {
                    eprintln!(
                        "taskmine-record: snapshots: {} stored ({} bytes on average) of {} asked for; {} dropped, {} refused, {} failed",
                        s.stored, s.stored_bytes.checked_div(s.stored).unwrap_or(0), s.requested, s.dropped, s.refused, s.failed
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("taskmine-record: error: {e}");
            ExitCode::FAILURE
        }
    }
}
