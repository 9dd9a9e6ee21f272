use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use uilog::{BatchOutcome, Format, ImportOptions};

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
}

pub fn run(args: ImportArgs, ui: &Ui) -> anyhow::Result<()> {
    let mut store = args.db.open()?;
    let opts = ImportOptions {
        format: args.format,
        mapping: args.mapping,
        session: args.session,
    };
    for file in &args.files {
        let size = std::fs::metadata(file)
            .with_context(|| format!("{}", file.display()))?
            .len();
        let bar = ui.bar(size, "import", "bytes");
        let summary =
            uilog::import_file(&mut store, file, &opts, &mut |read| bar.set_position(read))?;
        bar.finish_and_clear();
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
    Ok(())
}
