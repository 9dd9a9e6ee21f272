//! `taskmine link`: routine instances linked to the cases of a process-mining log, and what that
//! says per process activity (desktop minutes per case, share of cases with desktop work, hours
//! a bot would save per case).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use miner::link::{LinkOptions, LinkReport, ProcessLog};
use miner::objects::{load_value_key, ObjectRules};
use miner::Mining;
use uilog::LogRead;

use crate::cmd::DbArg;
use crate::Ui;

#[derive(Args)]
pub struct LinkArgs {
    #[command(flatten)]
    db: DbArg,
    /// The process log: process-mining CSV, XES, or OCEL 2.0 JSON (.jsonocel).
    #[arg(long)]
    process_log: PathBuf,
    /// The attribute naming each case's business object (a CSV column, an XES event attribute,
    /// an OCEL object type). Default: the case id itself.
    #[arg(long)]
    id_attr: Option<String>,
    /// The recorder's key file, when its policy kept text only as a keyed hash: identifiers are
    /// hashed with the same key to meet the log's value hashes.
    #[arg(long)]
    key: Option<PathBuf>,
    /// Identifier patterns (YAML, `patterns: [{type: invoice, pattern: 'INV-\d+'}]`).
    #[arg(long)]
    objects: Option<PathBuf>,
    /// How far outside a case's span an instance may lie, in seconds.
    #[arg(long, default_value_t = 900.0)]
    slack_secs: f64,
    /// Write the report as an HTML page to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// The latest stored mining result with its run id, or a fresh one with default options (and no
/// run) when there is none. The log and its mining tables on either backend.
pub fn mining_of(store: &uilog::LogStore, ui: &Ui) -> anyhow::Result<(Option<i64>, Mining)> {
    let conn = uilog::Conn::from(store);
    if let Some(m) = miner::results::load_latest(conn)? {
        // load_latest reads the run of the highest id.
        let run = miner::results::run_ids(conn)?.last().copied();
        return Ok((run, m));
    }
    eprintln!(
        "{}: no stored mining result; mining with default options (run `taskmine mine` to keep one)",
        conn.location()
    );
    let bar = ui.spinner("mining");
    let opts = miner::Options::default();
    let log = miner::Log::load(store, &opts.abstraction, &mut miner::NoProgress)?;
    let m = miner::mine_log(&log, &opts, &mut miner::NoProgress);
    bar.finish_and_clear();
    Ok((None, m))
}

pub fn rules(path: Option<&Path>) -> anyhow::Result<miner::objects::IdMatcher> {
    let rules = match path {
        Some(p) => ObjectRules::load(p)?,
        None => ObjectRules::default(),
    };
    Ok(rules.compile()?)
}

pub fn run(args: LinkArgs, ui: &Ui) -> anyhow::Result<()> {
    if !(args.slack_secs.is_finite() && args.slack_secs >= 0.0) {
        anyhow::bail!("--slack-secs must be a number of seconds ≥ 0");
    }
    // Everything that can fail on bad input is read before anything is written.
    let log = ProcessLog::read(&args.process_log, args.id_attr.as_deref())?;
    let matcher = rules(args.objects.as_deref())?;
    let mut opts = LinkOptions {
        slack_s: args.slack_secs,
        ..LinkOptions::default()
    };
    if let Some(k) = &args.key {
        opts.keys.push(load_value_key(k)?);
    }
    let store = args.db.open_log_existing()?;
    let conn = uilog::Conn::from(&store);
    let (run, mining) = mining_of(&store, ui)?;
    let version = store.version()?;
    let (objects, from_store) =
        miner::objects::stored_or_extract(&store, conn, run, &mining, &matcher)?;
    let report = miner::link::link(&mining, &objects, &log, &opts)?;
    let names = super::name::names(conn, &mining)?;
    let db = args.db.shown();
    if let (Some(run), false) = (run, from_store) {
        // Kept with the run (a run saved before objects were stored, or other rules), so that the
        // next link and export read them back.
        miner::objects::store(conn, run, &objects, &matcher, version)?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_report(&mut out, &report)?;
    }
    if let Some(path) = &args.report {
        let by_id: BTreeMap<u32, &str> = mining
            .routines
            .iter()
            .zip(&names)
            .map(|(r, n)| (r.id, n.as_str()))
            .collect();
        std::fs::write(path, html(&report, &by_id))
            .with_context(|| format!("{}: cannot write", path.display()))?;
        eprintln!("{}: report written", path.display());
    }
    // Kept for the dashboard's process page (`taskmine serve`, /process).
    miner::link::stored::save(conn, &report, &mining, &names, run)
        .with_context(|| format!("cannot store the link report in {db}"))?;
    eprintln!("{db}: link report stored; `taskmine serve` shows it at /process");
    Ok(())
}

fn print_report(out: &mut dyn Write, r: &LinkReport) -> anyhow::Result<()> {
    writeln!(
        out,
        "{}: {} of {} cases linked to {} of {} routine instances (by {})",
        r.process_log.display(),
        r.cases_linked,
        r.cases,
        r.instances_linked,
        r.instances,
        r.id_field
    )?;
    writeln!(
        out,
        "{:<32} {:>7} {:>10} {:>12} {:>16} {:>12}  routines",
        "activity", "cases", "w/ desktop", "share", "desktop min/case", "saved h/case"
    )?;
    for a in &r.activities {
        let routines: Vec<String> = a
            .routines
            .iter()
            .map(|x| format!("{} ({:.0} %)", x.routine, x.share * 100.0))
            .collect();
        writeln!(
            out,
            "{:<32} {:>7} {:>10} {:>10.1} % {:>16.2} {:>12.3}  {}",
            a.activity,
            a.cases,
            a.cases_with_desktop_work,
            a.share_with_desktop_work * 100.0,
            a.desktop_minutes_per_case,
            a.hours_saved_per_case,
            routines.join(", ")
        )?;
    }
    Ok(())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A page of its own, styled inline like the server's one-file report, with no script.
fn html(r: &LinkReport, names: &BTreeMap<u32, &str>) -> String {
    let mut rows = String::new();
    for a in &r.activities {
        let routines: Vec<String> = a
            .routines
            .iter()
            .map(|x| {
                let name = names
                    .get(&x.routine)
                    .map_or_else(|| format!("routine {}", x.routine), |n| (*n).to_owned());
                format!("{name} ({:.0} %)", x.share * 100.0)
            })
            .collect();
        rows += &format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1} %</td><td>{:.2} min</td><td>{:.3} h</td><td>{}</td></tr>\n",
            esc(&a.activity),
            a.cases,
            a.cases_with_desktop_work,
            a.share_with_desktop_work * 100.0,
            a.desktop_minutes_per_case,
            a.hours_saved_per_case,
            esc(&routines.join(", "))
        );
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<title>taskmine: desktop work per process activity</title>\
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}\
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}td:first-child,td:last-child,th{{text-align:left}}</style>\
</head><body>\n<h1>Desktop work per process activity</h1>\n\
<p>Process log <code>{}</code>, identifiers from <code>{}</code>: {} of {} cases linked to {} of {} routine instances.</p>\n\
<table><tr><th>activity</th><th>cases</th><th>with desktop work</th><th>share</th><th>desktop time per case</th><th>hours saved per case</th><th>routines</th></tr>\n{rows}</table>\n</body></html>\n",
        esc(&r.process_log.display().to_string()),
        esc(&r.id_field),
        r.cases_linked,
        r.cases,
        r.instances_linked,
        r.instances
    )
}
