//! `taskmine doctor`: what this desktop gives the recorder, and the fix for what is missing.

use clap::Args;

use crate::Ui;

/// Checks X11 (RECORD, XTEST), the window manager, the accessibility bus and, for each running
/// app, whether it exposes UI elements.
#[derive(Args)]
pub struct DoctorArgs {}

#[cfg(feature = "x11")]
pub fn run(_args: DoctorArgs, _ui: &Ui) -> anyhow::Result<()> {
    let checks = recorder::doctor::check();
    for c in &checks {
        println!(
            "{} {}: {}",
            if c.ok { "ok  " } else { "FAIL" },
            c.what,
            c.detail
        );
        if let Some(fix) = &c.fix {
            println!("     fix: {fix}");
        }
    }
    let failed = checks.iter().filter(|c| !c.ok).count();
    if failed == 0 {
        println!("everything the recorder uses is there");
    } else {
        println!("{failed} of {} checks failed", checks.len());
    }
    Ok(())
}

#[cfg(not(feature = "x11"))]
pub fn run(_args: DoctorArgs, _ui: &Ui) -> anyhow::Result<()> {
    anyhow::bail!("this taskmine was built without the `x11` feature, so it cannot record")
}
