//! `taskmine mine`: mine the UI log into ranked automation candidates and keep the result.

use std::path::PathBuf;

use anyhow::Context;
use std::io::Write;

use clap::Args;
use indicatif::ProgressBar;

use super::DbArg;
use crate::Ui;

/// Options of the miner shared by `mine`, `graph` and `eval`.
#[derive(Args, Debug, Clone)]
pub struct MineOpts {
    /// Minimum number of segments a routine must occur in (default: 1 % of the segments, at least 3).
    #[arg(long)]
    pub min_support: Option<u64>,
    /// Minimum number of steps of a routine.
    #[arg(long, default_value_t = 3)]
    pub min_len: usize,
    /// A pause longer than this many seconds ends a segment (default: learned from the log).
    #[arg(long)]
    pub idle_gap: Option<f64>,
    /// Withhold routines seen by fewer than this many users (privacy: k).
    #[arg(long, default_value_t = 1)]
    pub min_users: u64,
    /// A YAML file of title rules (see the miner's `Rules`).
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

impl MineOpts {
    pub fn options(&self) -> anyhow::Result<miner::Options> {
        let mut o = miner::Options::default();
        if let Some(path) = &self.rules {
            o.abstraction.rules = miner::Rules::from_file(path)?;
        }
        if self.min_support == Some(0) {
            anyhow::bail!("--min-support must be at least 1");
        }
        if self.min_len == 0 {
            anyhow::bail!("--min-len must be at least 1");
        }
        if let Some(g) = self.idle_gap {
            if !(g.is_finite() && g > 0.0) {
                anyhow::bail!("--idle-gap must be a positive number of seconds, not {g}");
            }
        }
        o.discovery.min_support = self.min_support;
        o.discovery.min_len = self.min_len;
        o.segment.idle_gap_secs = self.idle_gap;
        o.min_users = self.min_users;
        Ok(o)
    }
}

#[derive(Args)]
pub struct MineArgs {
    #[command(flatten)]
    db: DbArg,
    /// Show only the best N candidates.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Print the whole result (every figure, instances and variants) as JSON.
    #[arg(long)]
    json: bool,
    /// Do not store the result in the database.
    #[arg(long)]
    no_store: bool,
    /// Also write the dashboard's views (overview, candidates, routines with variants, task graph,
    /// durations, bot drafts, privacy with k) as one self-contained HTML file.
    #[arg(long)]
    report: Option<PathBuf>,
    #[command(flatten)]
    opts: MineOpts,
}

/// Draws one bar per mining stage.
pub struct Bars<'a> {
    ui: &'a Ui,
    bar: Option<ProgressBar>,
}

impl<'a> Bars<'a> {
    pub fn new(ui: &'a Ui) -> Self {
        Bars { ui, bar: None }
    }
}

impl miner::Progress for Bars<'_> {
    fn stage(&mut self, name: &str, total: u64) {
        let unit = match name {
            "discover" => "segments",
            "score" => "routines",
            _ => "events",
        };
        self.bar = Some(self.ui.bar(total, name, unit));
    }
    fn advance(&mut self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }
    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

fn minutes(s: f64) -> String {
    if s >= 60.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{s:.0} s")
    }
}

pub fn run(args: MineArgs, ui: &Ui) -> anyhow::Result<()> {
    let opts = args.opts.options()?;
    let log_store = args.db.open_log_existing()?;
    let Some(store) = log_store.as_sqlite() else {
        // The log streams from PostgreSQL like from SQLite; the report and the stored result
        // need tables that are SQLite-only so far.
        anyhow::ensure!(
            args.report.is_none(),
            "{}: --report is not yet supported on PostgreSQL (it reads SQLite-only tables)",
            args.db.shown()
        );
        opts.validate()?;
        let mut bars = Bars::new(ui);
        let log = miner::Log::load(&log_store, &opts.abstraction, &mut bars)?;
        let m = miner::mine_log(&log, &opts, &mut bars);
        if !args.no_store {
            eprintln!(
                "note: the result is not stored: storing mining results in PostgreSQL is not yet supported"
            );
        }
        let names = miner::routine_names(&m);
        return print(&args, &m, &names, false);
    };
    let (log, m) = miner::mine(store, &opts, &mut Bars::new(ui))?;
    if let Some(path) = &args.report {
        let privacy = server::Privacy::k_only(opts.min_users, "taskmine mine --min-users");
        let a = server::Analysis::from_mining(store, store.stats()?, log, m.clone(), privacy);
        let html = server::report::render(&a)?;
        std::fs::write(path, html)
            .with_context(|| format!("cannot write the report to {}", path.display()))?;
        eprintln!("report written to {}", path.display());
    }
    if !args.no_store {
        miner::results::save(store.connection(), store.path(), &m).with_context(|| {
            format!("cannot store the mining result in {}", args.db.db.display())
        })?;
    }
    // Names analysts gave (`taskmine name`) go with their routine's pattern from run to run.
    let names = super::name::names(store, &m)?;
    print(&args, &m, &names, !args.no_store)
}

/// Prints the result: JSON, or the table of candidates.
fn print(args: &MineArgs, m: &miner::Mining, names: &[String], stored: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut shown = m.clone();
        shown.routines.truncate(args.top);
        // Each routine carries the name the table shows, beside its evidence.
        let mut value = serde_json::to_value(&shown)?;
        if let Some(rs) = value["routines"].as_array_mut() {
            for (r, name) in rs.iter_mut().zip(names) {
                r["name"] = name.clone().into();
            }
        }
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    let s = &m.summary;
    let secs: f64 = m.timings_ms.iter().map(|(_, ms)| ms).sum::<f64>() / 1e3;
    writeln!(
        out,
        "mined {} events of {} users in {:.2} s ({:.0} events/s): {} actions, {} segments (idle gap {:.0} s), {} routines{}",
        s.events,
        s.users,
        secs,
        s.events as f64 / secs.max(1e-9),
        s.actions,
        s.segments,
        s.idle_gap_secs,
        m.routines.len(),
        if m.withheld > 0 {
            format!(", {} withheld (seen by fewer than {} users)", m.withheld, m.options.min_users)
        } else {
            String::new()
        }
    )?;
    for w in &s.warnings {
        writeln!(out, "warning: thin evidence: {w}")?;
    }
    if m.routines.is_empty() {
        writeln!(
            out,
            "no routine found; a longer log, or a lower --min-support, may show some"
        )?;
        return Ok(());
    }
    // The miner's names (the dashboard and report show the same), at most 60 characters; the
    // column is as wide as the longest one shown.
    let w = names
        .iter()
        .take(args.top)
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max("routine".len());
    writeln!(out)?;
    writeln!(
        out,
        "{:>3}  {:<w$} {:>5} {:>11} {:>9} {:>6} {:>5} {:>11}",
        "#",
        "routine",
        "steps",
        "inst/week",
        "median",
        "std",
        "users",
        "saved h/mo",
        w = w
    )?;
    for (r, name) in m.routines.iter().zip(names).take(args.top) {
        let sc = &r.score;
        writeln!(
            out,
            "{:>3}  {:<w$} {:>5} {:>11.1} {:>9} {:>5.0}% {:>5} {:>11.1}",
            r.id,
            name,
            r.steps.len(),
            sc.instances_per_week,
            minutes(sc.median_duration_s),
            sc.standardization * 100.0,
            sc.users,
            sc.hours_saved_per_month
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "steps: actions of the routine's pattern; inst/week: instances per week; median: median duration;\n\
         std: standardization (0–100 %); saved h/mo: hours a month that automating it would save.\n\
         `taskmine mine --json` prints every figure with the instances and variants."
    )?;
    if stored {
        writeln!(out, "result stored in {}", args.db.db.display())?;
    }
    Ok(())
}
