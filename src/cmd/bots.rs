use std::path::PathBuf;

use clap::Args;
use codegen::render::{write_draft, Format, Renderer};

use super::mine::{mine_or_read, Keep};
use super::DbArg;
use super::MineOpts;
use crate::Ui;

/// Mines the log (or reads back the result stored for it) and drafts a bot for each of the top
/// candidates: one folder per bot with the bot file, the same bot as scripts, and its parameter
/// file.
#[derive(Args)]
pub struct BotsArgs {
    #[command(flatten)]
    db: DbArg,
    /// The same mining options as `taskmine mine`, so that both rank the same candidates.
    #[command(flatten)]
    opts: MineOpts,
    /// How many candidates (best first) get a bot.
    #[arg(long, default_value_t = 3)]
    top: usize,
    /// The folder the bot folders are written into.
    #[arg(long, default_value = "bots")]
    out: PathBuf,
    /// Which files to write, comma-separated: yaml, robot, python.
    #[arg(long, value_delimiter = ',', default_value = "yaml,robot,python")]
    format: Vec<String>,
    /// A folder of templates (robot.tera, python.tera) that replace the built-in ones by name.
    #[arg(long)]
    templates: Option<PathBuf>,
    /// Render this (edited) bot file instead of mining: its folder in --out gets the scripts and a
    /// parameter file of its samples.
    #[arg(long, value_name = "BOT.yaml")]
    from: Option<PathBuf>,
    /// Mine even when a result stored for this very log and these options (by `taskmine mine`,
    /// an earlier `bots` or the server) could be read back.
    #[arg(long)]
    fresh: bool,
}

pub fn run(args: BotsArgs, ui: &Ui) -> anyhow::Result<()> {
    let formats = args
        .format
        .iter()
        .map(|f| Format::parse(f))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let renderer = Renderer::new(args.templates.as_deref())?;
    if let Some(path) = &args.from {
        let bot = codegen::Bot::load(path)?;
        let rows = vec![bot.sample_params()];
        let dir = args.out.join(&bot.name);
        let draft = codegen::Draft { bot, rows };
        let files = write_draft(&draft, &dir, &formats, &renderer)?;
        println!("{}: {} files", dir.display(), files.len());
        return Ok(());
    }
    let opts = args.opts.options()?;
    let store = args.db.open_log_existing()?;
    // A result mined now is kept for the next command; bots only reads the log, so a store it
    // cannot write to is said, not an error.
    let got = mine_or_read(&store, &opts, args.fresh, Keep::Try, ui)?;
    let mining = got.mining;
    // Bots and their folders are named after their routines, as `mine` shows them (the
    // analysts' names where given).
    let names = mining
        .routines
        .iter()
        .map(|r| r.id)
        .zip(super::name::names((&store).into(), &mining)?)
        .collect();
    // Screen snapshots (image anchors for clicks) are kept in SQLite files only.
    let drafts = codegen::draft_bots_from(
        store.reader(),
        store.as_sqlite(),
        &got.log,
        &mining,
        &names,
        args.top,
    )?;
    if drafts.is_empty() {
        println!(
            "no candidates in {} ({} events): nothing to draft",
            args.db.db.display(),
            mining.summary.events
        );
        return Ok(());
    }
    for d in &drafts {
        let dir = args.out.join(&d.bot.name);
        let files = write_draft(d, &dir, &formats, &renderer)?;
        let e = &d.bot.source.evidence;
        println!(
            "{}: {} steps, {} inputs; {} instances, {:.2} hours/month; {}",
            dir.display(),
            d.bot.steps.len(),
            d.bot.inputs.len(),
            e.instances,
            e.hours_per_month,
            files
                .iter()
                .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}
