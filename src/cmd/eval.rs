//! `taskmine eval`: how well mining finds the routines and segment boundaries of a ground truth.

use std::path::PathBuf;

use std::io::Write;

use clap::Args;

use super::mine::{Bars, MineOpts};
use super::DbArg;
use crate::Ui;

#[derive(Args)]
pub struct EvalArgs {
    #[command(flatten)]
    db: DbArg,
    /// The ground truth (JSON, as `taskmine simulate --truth` writes it; see docs/ground-truth.md).
    #[arg(long)]
    truth: PathBuf,
    /// Print the evaluation as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    opts: MineOpts,
}

pub fn run(args: EvalArgs, ui: &Ui) -> anyhow::Result<()> {
    let truth = uilog::GroundTruth::read(&args.truth)?;
    let opts = args.opts.options()?;
    let mut out = std::io::stdout().lock();
    let store = args.db.open_existing()?;
    let (log, m) = miner::mine(&store, &opts, &mut Bars::new(ui))?;
    let e = miner::eval::evaluate(&log, &m, &truth);
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&e)?)?;
        return Ok(());
    }
    if e.unknown_truth_events > 0 {
        eprintln!(
            "warning: {} events of the truth are not in {} (a truth for another log?)",
            e.unknown_truth_events,
            args.db.db.display()
        );
    }
    writeln!(
        out,
        "{:<20} {:>6} {:>6} {:>8} {:>10} {:>8} {:>6}",
        "", "found", "true", "correct", "precision", "recall", "F1"
    )?;
    for (name, p) in [
        ("routines", &e.routines),
        ("segment boundaries", &e.boundaries),
        ("event task labels", &e.event_tasks),
    ] {
        writeln!(
            out,
            "{name:<20} {:>6} {:>6} {:>8} {:>10.3} {:>8.3} {:>6.3}",
            p.found, p.truth, p.correct, p.precision, p.recall, p.f1
        )?;
    }
    writeln!(
        out,
        "event task labels: each event gets the true task most events of the routine covering it belong to"
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "matches (Jaccard overlap of events ≥ {}, one to one):",
        miner::eval::MATCH_JACCARD
    )?;
    for x in &e.matches {
        writeln!(
            out,
            "  routine {:>3} = true routine {:>3} ({:.3}): {}",
            x.discovered, x.truth, x.jaccard, x.truth_name
        )?;
    }
    Ok(())
}
