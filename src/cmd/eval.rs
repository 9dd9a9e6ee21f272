//! `taskmine eval`: how well mining finds the routines and segment boundaries of a ground truth.

use std::path::PathBuf;

use std::io::Write;

use clap::Args;

use super::DbArg;
use super::MineOpts;
use crate::ui::Bars;
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
    /// Score instead the links of routine instances to the simulator's process log (precision and
    /// recall of instance ↔ case links); the process log is simulated again from the truth's
    /// configuration, hashed text included.
    #[arg(long)]
    link: bool,
    #[command(flatten)]
    opts: MineOpts,
}

pub fn run(args: EvalArgs, ui: &Ui) -> anyhow::Result<()> {
    let truth = uilog::GroundTruth::read(&args.truth)?;
    let opts = args.opts.options()?;
    let mut out = std::io::stdout().lock();
    let store = args.db.open_log_existing()?;
    let (log, m) = miner::mine(&store, &opts, &mut Bars::new(ui))?;
    if args.link {
        return eval_link(&store, &m, &truth, args.json, &mut out);
    }
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

/// Links the mined instances to the process log the simulator writes for the truth's
/// configuration and scores the links.
fn eval_link(
    store: &dyn uilog::LogRead,
    m: &miner::Mining,
    truth: &uilog::GroundTruth,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let Some(config) = &truth.config else {
        anyhow::bail!(
            "the ground truth has no simulator configuration: --link scores simulated logs only"
        );
    };
    let cfg: uilog::SimConfig = serde_json::from_value(config.clone())
        .map_err(|e| anyhow::anyhow!("the ground truth's simulator configuration: {e}"))?;
    let (_, sim) =
        uilog::simulate::simulate_with_process_log(&cfg, |_| -> uilog::Result<()> { Ok(()) })?;
    let log = miner::link::ProcessLog::from_simulated(
        &sim,
        std::path::Path::new("<simulated process log>"),
    );
    let mut opts = miner::link::LinkOptions::default();
    if let Some(k) = cfg
        .text_key
        .as_deref()
        .and_then(miner::objects::parse_hex_key)
    {
        opts.keys.push(miner::objects::value_key_from_secret(&k));
    }
    let matcher = miner::objects::ObjectRules::default().compile()?;
    let objects = miner::objects::extract(store, m, &matcher)?;
    let report = miner::link::link(m, &objects, &log, &opts)?;
    // Instances whose identifier the simulator drew for two overlapping cases have no truth.
    let score = miner::link::score_links(m, &report, truth, &sim.true_links(), &sim.ambiguous);
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&score)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "links: {} found, {} correct, {} true ({} reachable: their instance was mined), {} recovered",
        score.found, score.correct, score.truth, score.reachable, score.recovered
    )?;
    writeln!(
        out,
        "precision {:.3}, recall {:.3} ({} text, {} ambiguous ids left out)",
        score.precision,
        score.recall,
        if cfg.text_key.is_some() {
            "hashed"
        } else {
            "plain"
        },
        sim.ambiguous.len()
    )?;
    Ok(())
}
