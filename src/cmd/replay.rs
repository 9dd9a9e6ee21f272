use std::path::PathBuf;

use clap::Args;
use codegen::{params, Bot};

use crate::Ui;

/// Runs a bot once per parameter row, checking before every step that its window has focus and
/// finding each step's element by its selector (AT-SPI); proves every step (the click landed on the
/// element, the typed value reads back), records the replay and reports per run and step whether
/// it did what the routine does.
#[derive(Args)]
pub struct ReplayArgs {
    /// The bot file (bot.yaml from `taskmine bots`).
    bot: PathBuf,
    /// A CSV with a column per input and a row per run. Default: one run with the bot's samples.
    #[arg(long)]
    params: Option<PathBuf>,
    /// Print the steps with parameters filled in; touch nothing.
    #[arg(long)]
    dry_run: bool,
    /// Divide the bot's declared waits and the pace by this.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// The least time from one step's start to the next's, in milliseconds: apps (and the recorder
    /// checking the replay) read pointer and focus as events arrive and must keep up.
    #[arg(long, default_value_t = codegen::DEFAULT_PACE_MS)]
    pace: u64,
    /// The JSON report. Default: replay-report.json beside the bot file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Do not record the replay, so its trace is not compared with the routine.
    #[arg(long)]
    no_record: bool,
}

pub fn run(args: ReplayArgs, _ui: &Ui) -> anyhow::Result<()> {
    if !(args.speed > 0.0 && args.speed.is_finite()) {
        anyhow::bail!("--speed must be a positive number, not {}", args.speed);
    }
    let bot = Bot::load(&args.bot)?;
    let rows = match &args.params {
        Some(p) => params::read(p, &bot)?,
        None => vec![bot.sample_params()],
    };
    if args.dry_run {
        use std::io::Write;
        // Written with `?` so that `| head` ending the pipe early is no panic.
        let mut out = std::io::stdout().lock();
        for (i, row) in rows.iter().enumerate() {
            let filled = codegen::replay::fill_steps(&bot, row)?;
            writeln!(out, "run {} of {} ({}):", i + 1, rows.len(), bot.name)?;
            for note in codegen::replay::required_notes(&bot, row) {
                writeln!(out, "  note: {note}")?;
            }
            for line in codegen::replay::describe(&filled) {
                writeln!(out, "{line}")?;
            }
        }
        return Ok(());
    }
    // A required input (its samples masked by the policy) must come from the parameter file:
    // refused before anything is typed.
    params::check_required(&bot, &rows, args.params.as_deref())?;
    replay(&args, &bot, &rows)
}

#[cfg(feature = "x11")]
fn replay(args: &ReplayArgs, bot: &Bot, rows: &[codegen::Params]) -> anyhow::Result<()> {
    use codegen::replay::{replay_all, Desktop, ReplayOptions};
    use codegen::validate::TraceRecorder;

    let mut desk = Desktop::connect(None)?;
    let scratch = tempfile::tempdir()?;
    let recorder = if args.no_record {
        None
    } else {
        // Plain text mode: the trace stays in a temporary folder and is compared, not kept.
        let policy = scratch.path().join("policy.yaml");
        std::fs::write(&policy, "text: plain\n")?;
        let db = scratch.path().join("replay.db");
        let mut cmd = std::process::Command::new(std::env::current_exe()?);
        cmd.arg("--quiet")
            .arg("record")
            .arg("--db")
            .arg(&db)
            .arg("--policy")
            .arg(&policy)
            .args(["--session", "replay"]);
        Some(TraceRecorder::start(cmd, &db)?)
    };
    let report = replay_all(
        &mut desk,
        bot,
        rows,
        &ReplayOptions {
            speed: args.speed,
            pace_ms: args.pace,
        },
        recorder,
    )?;
    for r in &report.runs {
        println!("{}", r.verdict_line());
    }
    let path = args.report.clone().unwrap_or_else(|| {
        args.bot
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join("replay-report.json")
    });
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    println!("report: {}", path.display());
    if !report.passed {
        let failed = report.runs.iter().filter(|r| !r.passed).count();
        let skipped = rows.len() - report.runs.len();
        anyhow::bail!(
            "{failed} of {} runs of {} failed{}",
            rows.len(),
            bot.name,
            if skipped > 0 {
                format!(", {skipped} not run after the failure")
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

#[cfg(not(feature = "x11"))]
fn replay(_args: &ReplayArgs, _bot: &Bot, _rows: &[codegen::Params]) -> anyhow::Result<()> {
    anyhow::bail!(
        "this taskmine was built without the `x11` feature, so it cannot replay (--dry-run works)"
    )
}
