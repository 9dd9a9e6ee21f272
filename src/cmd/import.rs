use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use uilog::import::TruthLabels;
use uilog::{BatchOutcome, Format, ImportOptions, ImportSummary};

use super::DbArg;
use crate::Ui;

#[derive(Args)]
pub struct ImportArgs {
    /// The files to import; each is one all-or-nothing transaction.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    db: DbArg,
    /// auto, taskmine, rpa, process-mining, xes or jsonl.
    #[arg(long, default_value = "auto")]
    format: Format,
    /// A YAML or JSON file mapping the file's column names to the canonical ones.
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// The session name for the imported events (default: the file's own, or its stem).
    #[arg(long)]
    session: Option<String>,
    /// Write the ground truth of a labelled log to this JSON file while importing; the label
    /// columns are kept out of the stored events, so the miner never sees them.
    #[arg(long, value_name = "TRUTH.json", requires = "truth_case")]
    truth_out: Option<PathBuf>,
    /// The column (or XES/JSONL attribute, or `case`) naming each row's task instance.
    #[arg(long, value_name = "COL", requires = "truth_out")]
    truth_case: Option<String>,
    /// The column naming each row's routine (task type); without it, one routine for the file.
    #[arg(long, value_name = "COL", requires = "truth_out")]
    truth_routine: Option<String>,
    /// Keep the file's row order as the instance order: all rows one session, not re-sorted by time.
    #[arg(long, requires = "truth_out")]
    stream: bool,
}

pub fn run(args: ImportArgs, ui: &Ui) -> anyhow::Result<()> {
    if args.truth_out.is_some() && args.files.len() != 1 {
        bail!("--truth-out writes the truth of one file; import one file at a time");
    }
    let mut store = args.db.open_log()?;
    let opts = ImportOptions {
        format: args.format,
        mapping: args.mapping,
        session: args.session,
    };
    let labels = args.truth_case.map(|case| TruthLabels {
        case,
        routine: args.truth_routine,
        stream: args.stream,
    });
    for file in &args.files {
        let size = std::fs::metadata(file)
            .with_context(|| format!("{}", file.display()))?
            .len();
        let bar = ui.bar(size, "import", "bytes");
        let mut progress = |read| bar.set_position(read);
        let summary = match (&labels, &args.truth_out) {
            (Some(labels), Some(out)) => {
                let (summary, truth) = uilog::import::import_with_truth(
                    &mut store,
                    file,
                    &opts,
                    labels,
                    &mut progress,
                )?;
                truth.write(out)?;
                println!(
                    "{}: ground truth of {} instances of {} routines ({} of {} events labelled) written to {}",
                    file.display(),
                    truth.instances.len(),
                    truth.routines.len(),
                    truth.instance_events(),
                    truth.total_events,
                    out.display()
                );
                summary
            }
            _ => uilog::import_file(&mut store, file, &opts, &mut progress)?,
        };
        bar.finish_and_clear();
        report(file, &summary);
    }
    Ok(())
}

fn report(file: &std::path::Path, summary: &ImportSummary) {
    match summary.outcome {
        BatchOutcome::Written { events } => println!(
            "{}: imported {events} events ({})",
            file.display(),
            summary.format
        ),
        BatchOutcome::AlreadyWritten => println!(
            "{}: already imported with these options; nothing added",
            file.display()
        ),
    }
}
