//! `taskmine mine`: mine the UI log into ranked automation candidates and keep the result.

use std::path::PathBuf;

use anyhow::Context;
use std::io::Write;

use clap::Args;

use super::DbArg;
use super::MineOpts;
use crate::ui::Bars;
use crate::Ui;

#[derive(Args)]
pub struct MineArgs {
    /// Mine these files (any format `import` reads, detected as it does) in memory, without a
    /// database: a first look at a log. Nothing is stored, and `--db` is not read.
    files: Vec<PathBuf>,
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
    /// Mine even when a result stored for this very log and these options could be read back.
    #[arg(long)]
    fresh: bool,
    /// Also write the dashboard's views (overview, candidates, routines with variants, task graph,
    /// durations, bot drafts, privacy with k) as one self-contained HTML file.
    #[arg(long)]
    report: Option<PathBuf>,
    #[command(flatten)]
    opts: MineOpts,
}

/// Whether a new mining result is stored for the next command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Not stored (`mine --no-store`).
    No,
    /// Stored; a failure is said and the result used all the same (`bots`, which only reads).
    Try,
    /// Stored; a failure is an error (`mine`, whose job is keeping the result).
    Must,
}

/// A mining result for the log as it is now.
pub struct Obtained {
    pub log: miner::Log,
    pub mining: miner::Mining,
    /// The stored run this is: read back, or stored just now.
    pub run: Option<i64>,
    /// Read back from a stored run rather than mined now.
    pub read_back: bool,
}

/// The result `mine` and `bots` work from: the stored run mined from this very state of the log
/// with these options, found by the rule the server uses ([`miner::results::load_fitting`]),
/// unless `fresh`; otherwise the log mined now, stored as `keep` says (with the log's version and
/// the spans, so that later `bots`, `mine` and `serve` read it back). Says which on stderr, in one
/// line: a user waiting 10 s for mining, or wondering why a change of the log does not show,
/// should see why.
pub fn mine_or_read<S>(
    store: &S,
    opts: &miner::Options,
    fresh: bool,
    keep: Keep,
    ui: &Ui,
) -> anyhow::Result<Obtained>
where
    S: uilog::LogRead,
    for<'a> uilog::Conn<'a>: From<&'a S>,
{
    opts.validate()?;
    // The run is kept in the log's own database, SQLite file or PostgreSQL.
    let conn = uilog::Conn::from(store);
    // The version before the log is read: events written meanwhile make the stored run look
    // older than it is (mined again next time), never newer.
    let version = store.version()?;
    let mut bars = Bars::new(ui);
    let t = std::time::Instant::now();
    let log = miner::Log::load(store, &opts.abstraction, &mut bars)?;
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let why = if fresh {
        "--fresh".to_owned()
    } else {
        match miner::results::load_fitting(conn, version, opts, &log) {
            Ok(Some((run, mining))) => {
                let ago = miner::results::run_created_at(conn, run)?
                    .map(|at| {
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.as_micros() as i64);
                        format!(", mined {} ago", age((now - at).max(0) as f64 / 1e6))
                    })
                    .unwrap_or_default();
                eprintln!(
                    "read back mining run {run} (stored for this log and these options{ago}; --fresh mines again)"
                );
                return Ok(Obtained {
                    log,
                    mining,
                    run: Some(run),
                    read_back: true,
                });
            }
            Ok(None) => "no stored run for this log and these options".to_owned(),
            // A stored run that cannot be read is no reason not to mine.
            Err(e) => format!("the stored run could not be read: {e}"),
        }
    };
    let mut mining = miner::mine_log(&log, opts, &mut bars);
    mining.timings_ms.insert(0, ("load".into(), load_ms));
    let stored = match keep {
        Keep::No => Err("not stored".to_owned()),
        _ => miner::results::save_for_log(conn, &mining, version).map_err(|e| e.to_string()),
    };
    let secs = mining.timings_ms.iter().map(|(_, ms)| ms).sum::<f64>() / 1e3;
    match &stored {
        Ok(run) => eprintln!("mined the log in {secs:.1} s ({why}); stored as mining run {run}"),
        Err(e) if keep == Keep::Must => {
            anyhow::bail!("cannot store the mining result in {}: {e}", conn.location())
        }
        Err(e) => eprintln!("mined the log in {secs:.1} s ({why}); {e}"),
    }
    // The business objects of the instances are not stored here: extracting them reads the whole
    // log again with the identifier patterns (on 10M events longer than mining, and 1 GB more).
    // `link` and the OCEL export extract them when a run has none and keep them with the run, and
    // the server stores them in the background after it has published a result.
    Ok(Obtained {
        log,
        mining,
        run: stored.ok(),
        read_back: false,
    })
}

/// A duration for a person: "40 s", "12 min", "3.5 h", "2.0 days".
fn age(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.0} s")
    } else if s < 3600.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 48.0 * 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86400.0)
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
    if !args.files.is_empty() {
        return mine_files(&args, &opts, ui);
    }
    let store = args.db.open_log_existing()?;
    let keep = if args.no_store { Keep::No } else { Keep::Must };
    let got = mine_or_read(&store, &opts, args.fresh, keep, ui)?;
    let m = got.mining;
    if let Some(path) = &args.report {
        let privacy = server::Privacy::k_only(opts.min_users, "taskmine mine --min-users");
        let stats = uilog::LogRead::stats(&store)?;
        let a = server::Analysis::from_log_store(&store, stats, got.log, m.clone(), privacy);
        let html = server::report::render(&a)?;
        std::fs::write(path, html)
            .with_context(|| format!("cannot write the report to {}", path.display()))?;
        eprintln!("report written to {}", path.display());
    }
    // Names analysts gave (`taskmine name`) go with their routine's pattern from run to run.
    let names = super::name::names((&store).into(), &m)?;
    let shown = match got.run {
        Some(run) if got.read_back => Shown::ReadBack(run),
        Some(_) => Shown::Stored,
        None => Shown::Mined,
    };
    print(&args, &m, &names, shown)
}

/// `taskmine mine FILE…`: the files imported into an in-memory log, as `import` would store them
/// (so the result is the one `import` then `mine --no-store` gives), then mined.
///
/// The log is a [`uilog::import::MemoryLog`], which pays for no SQL; only `--report` imports
/// into an in-memory SQLite store instead, since the report's bot drafts read a `Store`.
fn mine_files(args: &MineArgs, opts: &miner::Options, ui: &Ui) -> anyhow::Result<()> {
    if let Some(path) = &args.report {
        let mut store = uilog::Store::open_in_memory()?;
        import_files(&mut store, &args.files, ui)?;
        let (log, m) = mine_memory(&store, args.files.len(), opts, ui)?;
        let privacy = server::Privacy::k_only(opts.min_users, "taskmine mine --min-users");
        let a = server::Analysis::from_mining(&store, store.stats()?, log, m.clone(), privacy);
        let html = server::report::render(&a)?;
        std::fs::write(path, html)
            .with_context(|| format!("cannot write the report to {}", path.display()))?;
        eprintln!("report written to {}", path.display());
        let names = miner::naming::routine_names(&m);
        return print(args, &m, &names, Shown::Mined);
    }
    // Only what mining reads: other attributes are most of a recorder log's distinct strings.
    let mut memory = uilog::import::MemoryLog::new().keeping_attrs(miner::Log::ATTRIBUTES_READ);
    import_files(&mut memory, &args.files, ui)?;
    opts.validate()?;
    let mut bars = Bars::new(ui);
    let t = std::time::Instant::now();
    let loaded = miner::Log::load(&memory, &opts.abstraction, &mut bars)?;
    // The loaded log is all mining reads: the imported rows go before mining allocates (a third
    // of the peak memory of a 1.1M-row file).
    drop(memory);
    let m = miner::mine_log(&loaded, opts, &mut bars);
    say_mined(&loaded, args.files.len(), t);
    let names = miner::naming::routine_names(&m);
    print(args, &m, &names, Shown::Mined)
}

/// Imports `files` into `log`, one batch each, saying how many events each gave.
fn import_files(log: &mut impl uilog::LogWrite, files: &[PathBuf], ui: &Ui) -> anyhow::Result<()> {
    let import = uilog::ImportOptions::default();
    for file in files {
        let size = std::fs::metadata(file)
            .with_context(|| format!("{}", file.display()))?
            .len();
        let bar = ui.bar(size, "read", "bytes");
        let summary = uilog::import_file(log, file, &import, &mut |read| bar.set_position(read))?;
        bar.finish_and_clear();
        if let uilog::BatchOutcome::Written { events } = summary.outcome {
            eprintln!("{}: {events} events ({})", file.display(), summary.format);
        }
    }
    Ok(())
}

/// Mines the log of `files` files held in memory.
fn mine_memory(
    log: &dyn uilog::LogRead,
    files: usize,
    opts: &miner::Options,
    ui: &Ui,
) -> anyhow::Result<(miner::Log, miner::Mining)> {
    opts.validate()?;
    let mut bars = Bars::new(ui);
    let t = std::time::Instant::now();
    let loaded = miner::Log::load(log, &opts.abstraction, &mut bars)?;
    let m = miner::mine_log(&loaded, opts, &mut bars);
    say_mined(&loaded, files, t);
    Ok((loaded, m))
}

fn say_mined(log: &miner::Log, files: usize, since: std::time::Instant) {
    eprintln!(
        "mined {} events of {files} files in {:.1} s, in memory (nothing stored)",
        log.events.len(),
        since.elapsed().as_secs_f64()
    );
}

/// Where the printed result came from, for its first and last lines.
#[derive(Clone, Copy)]
enum Shown {
    Mined,
    /// Mined now and stored.
    Stored,
    /// Read back from this stored run.
    ReadBack(i64),
}

/// Prints the result: JSON, or the table of candidates.
fn print(args: &MineArgs, m: &miner::Mining, names: &[String], shown: Shown) -> anyhow::Result<()> {
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
    // A result read back took no mining time: it says which run it is instead.
    let head = match shown {
        Shown::ReadBack(run) => format!(
            "{} events of {} users, read back from mining run {run}",
            s.events, s.users
        ),
        _ => format!(
            "mined {} events of {} users in {secs:.2} s ({:.0} events/s)",
            s.events,
            s.users,
            s.events as f64 / secs.max(1e-9)
        ),
    };
    writeln!(
        out,
        "{head}: {} actions, {} segments (idle gap {:.0} s), {} routines{}",
        s.actions,
        s.segments,
        s.idle_gap_secs,
        m.routines.len(),
        if m.withheld > 0 {
            format!(
                ", {} withheld (seen by fewer than {} users)",
                m.withheld, m.options.min_users
            )
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
    if let Shown::Stored = shown {
        writeln!(out, "result stored in {}", args.db.shown())?;
    }
    Ok(())
}
