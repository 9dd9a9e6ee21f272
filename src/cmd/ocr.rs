//! `taskmine ocr`: reads the text in stored snapshots with Tesseract, after capture. The text goes
//! through the policy's redaction and PII detectors; events without a UI element get one named
//! after the text at their target (`text 'Save'`), so that mining tells their actions apart.

use std::path::PathBuf;

use clap::Args;

use crate::cmd::DbArg;
use crate::Ui;

#[derive(Args)]
pub struct OcrArgs {
    #[command(flatten)]
    db: DbArg,
    /// The privacy policy the recording used (its redaction and PII detectors apply to what OCR
    /// reads). Default: the built-in policy.
    #[arg(long)]
    policy: Option<PathBuf>,
}

pub fn run(args: OcrArgs, _ui: &Ui) -> anyhow::Result<()> {
    let mut store = args.db.open_existing()?;
    let privacy = recorder::Privacy::load(args.policy.as_deref())?;
    if !recorder::snapshot_ocr::available() {
        anyhow::bail!(
            "tesseract not found: install tesseract-ocr and tesseract-ocr-eng (scripts/setup.sh)"
        );
    }
    let s = recorder::snapshot_ocr::ocr_pass(&mut store, &privacy)?;
    println!(
        "{}: {} snapshots read, {} events named by their text, {} unreadable",
        args.db.db.display(),
        s.read,
        s.named,
        s.failed
    );
    Ok(())
}
