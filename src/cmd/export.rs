use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use uilog::export::{self, TraceBy};

use super::DbArg;
use crate::Ui;

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    /// taskmine CSV (reads back with `taskmine import` exactly).
    Csv,
    /// One JSON event per line.
    Jsonl,
    /// IEEE 1849 XES, for PM4Py, ProM, Disco and the like.
    Xes,
}

#[derive(Clone, Copy, ValueEnum)]
enum Traces {
    /// One trace per recording session.
    Session,
    /// One trace per known case (labelled task instance).
    Case,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    db: DbArg,
    #[arg(long, value_enum, default_value = "csv")]
    format: ExportFormat,
    /// With XES: what a trace is.
    #[arg(long, value_enum, default_value = "session")]
    traces: Traces,
    /// The file to write (default: standard output).
    #[arg(long, short)]
    out: Option<PathBuf>,
}

pub fn run(args: ExportArgs, ui: &Ui) -> anyhow::Result<()> {
    let store = args.db.open()?;
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("{}: cannot create", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let spinner = ui.spinner("exporting");
    let n = match args.format {
        ExportFormat::Csv => export::write_csv(&store, &mut out)?,
        ExportFormat::Jsonl => export::write_jsonl(&store, &mut out)?,
        ExportFormat::Xes => {
            let by = match args.traces {
                Traces::Session => TraceBy::Session,
                Traces::Case => TraceBy::Case,
            };
            export::write_xes(&store, &mut out, by)?
        }
    };
    out.flush()?;
    spinner.finish_and_clear();
    if let Some(path) = &args.out {
        eprintln!("{}: wrote {n} events", path.display());
    }
    Ok(())
}
