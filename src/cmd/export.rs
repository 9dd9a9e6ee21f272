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
    /// OCEL 2.0 JSON: routine instances as events, users, applications and the business objects
    /// found in them as objects (`--ocel-events ui`: every UI event instead).
    OcelJson,
    /// OCEL 2.0 SQLite, the same log as `ocel-json` in the standard's relational layout (needs `--out`).
    OcelSqlite,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OcelEvents {
    /// One event per routine instance (from the latest stored mining result, or mined now).
    Instances,
    /// One event per UI event, with users, sessions, applications and cases as objects.
    Ui,
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
    /// With OCEL: what an event is.
    #[arg(long, value_enum, default_value = "instances")]
    ocel_events: OcelEvents,
    /// With OCEL: identifier patterns for business objects (YAML, see `taskmine link --help`).
    #[arg(long)]
    objects: Option<PathBuf>,
    /// With OCEL of instances: each instance's UI events too, as events related to the instance.
    #[arg(long)]
    ocel_steps: bool,
}

pub fn run(args: ExportArgs, ui: &Ui) -> anyhow::Result<()> {
    if matches!(
        args.format,
        ExportFormat::OcelJson | ExportFormat::OcelSqlite
    ) && args.ocel_events == OcelEvents::Instances
    {
        return ocel_instances(&args, ui);
    }
    if matches!(args.format, ExportFormat::OcelSqlite) {
        anyhow::bail!(
            "--format ocel-sqlite writes routine instances; --ocel-events ui is JSON only"
        );
    }
    let store = args.db.open_log()?;
    if matches!(args.format, ExportFormat::OcelJson) && store.as_sqlite().is_none() {
        anyhow::bail!(
            "{}: OCEL export of UI events (--ocel-events ui) is not yet supported on PostgreSQL; export routine instances (the default), csv, jsonl or xes",
            args.db.shown()
        );
    }
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
        ExportFormat::OcelJson => match store.as_sqlite() {
            Some(sqlite) => export::write_ocel(sqlite, &mut out)?,
            None => unreachable!("refused above"),
        },
        ExportFormat::OcelSqlite => unreachable!("refused above"),
    };
    out.flush()?;
    spinner.finish_and_clear();
    if let Some(path) = &args.out {
        eprintln!("{}: wrote {n} events", path.display());
    }
    Ok(())
}

/// Routine instances as OCEL 2.0: everything is computed before the output is created, so a
/// failure leaves no file behind.
fn ocel_instances(args: &ExportArgs, ui: &Ui) -> anyhow::Result<()> {
    let matcher = super::link::rules(args.objects.as_deref())?;
    // The log and the stored result on either backend.
    let store = args.db.open_log_existing()?;
    let (run, mining) = super::link::mining_of(&store, ui)?;
    let spinner = ui.spinner("exporting");
    // Steps are not stored with the objects: with them, everything is read from the log.
    let objects = if args.ocel_steps {
        miner::objects::extract_with_steps(&store, &mining, &matcher, true)?
    } else {
        miner::objects::stored_or_extract(&store, (&store).into(), run, &mining, &matcher)?.0
    };
    let log = miner::link::ocel::build(&mining, &objects);
    match args.format {
        ExportFormat::OcelSqlite => {
            let Some(path) = &args.out else {
                anyhow::bail!("--format ocel-sqlite needs --out FILE.sqlite");
            };
            miner::link::ocel::write_sqlite(&log, path)?;
        }
        _ => match &args.out {
            Some(path) => {
                let mut f = File::create(path)
                    .with_context(|| format!("{}: cannot create", path.display()))?;
                miner::link::ocel::write_json(&log, &mut f)?;
            }
            None => miner::link::ocel::write_json(&log, &mut std::io::stdout().lock())?,
        },
    }
    spinner.finish_and_clear();
    if let Some(path) = &args.out {
        eprintln!(
            "{}: wrote {} routine instances and {} objects",
            path.display(),
            log.events.len(),
            log.objects.len()
        );
    }
    Ok(())
}
