//! `taskmine pdd ROUTINE --out FILE.html`: a process definition document of one routine (its
//! steps with snapshots, elements, input placeholders, variants, data flows and evidence), and a
//! PDF beside it through headless Chromium.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::cmd::DbArg;
use crate::cmd::MineOpts;
use crate::ui::Bars;
use crate::Ui;

#[derive(Args)]
pub struct PddArgs {
    /// The routine: its rank in `taskmine mine`.
    routine: u32,
    #[command(flatten)]
    db: DbArg,
    /// The HTML file to write.
    #[arg(long)]
    out: PathBuf,
    /// Also print it to this PDF (headless Chromium).
    #[arg(long)]
    pdf: Option<PathBuf>,
    /// A tera template replacing the built-in templates/pdd.html.tera.
    #[arg(long)]
    template: Option<PathBuf>,
    #[command(flatten)]
    opts: MineOpts,
}

pub fn run(args: PddArgs, ui: &Ui) -> anyhow::Result<()> {
    let opts = args.opts.options()?;
    let store = args.db.open_log_existing()?;
    let (log, mining) = miner::mine(&store, &opts, &mut Bars::new(ui))?;
    let pdd = codegen::pdd::build(
        store.reader(),
        store.as_sqlite(),
        &log,
        &mining,
        args.routine,
    )?;
    let html = codegen::pdd::render_html(&pdd, args.template.as_deref())?;
    std::fs::write(&args.out, html)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let shots = pdd.steps.iter().filter(|s| s.snapshot.is_some()).count();
    println!(
        "{}: routine {}, {} steps ({} with a snapshot), {} variants",
        args.out.display(),
        pdd.routine,
        pdd.steps.len(),
        shots,
        pdd.variants.len()
    );
    if let Some(pdf) = &args.pdf {
        codegen::pdd::print_pdf(&args.out, pdf)?;
        println!("{}", pdf.display());
    }
    Ok(())
}
