//! `taskmine graph`: the task graph of the whole log or of one routine, as DOT or JSON.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::DbArg;
use super::MineOpts;
use crate::ui::Bars;
use crate::Ui;

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Dot,
    Json,
}

#[derive(Args)]
pub struct GraphArgs {
    #[command(flatten)]
    db: DbArg,
    #[arg(long, value_enum, default_value = "dot")]
    format: Format,
    /// The graph of this routine (its rank in `taskmine mine`) instead of the whole log.
    #[arg(long)]
    routine: Option<u32>,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    #[command(flatten)]
    opts: MineOpts,
}

pub fn run(args: GraphArgs, ui: &Ui) -> anyhow::Result<()> {
    let opts = args.opts.options()?;
    let store = args.db.open_log_existing()?;
    let (log, m) = miner::mine(&store, &opts, &mut Bars::new(ui))?;
    let g = match args.routine {
        None => miner::graph::whole_log(&log, m.summary.idle_gap_secs),
        Some(id) => {
            let r = m.routines.iter().find(|r| r.id == id).with_context(|| {
                format!(
                    "no routine {id}: the log has {} (see `taskmine mine`)",
                    m.routines.len()
                )
            })?;
            miner::graph::of_routine(&log, r)
        }
    };
    let text = match args.format {
        Format::Dot => miner::graph::to_dot(&g),
        Format::Json => serde_json::to_string_pretty(&miner::graph::to_json(&g))? + "\n",
    };
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(())
}
