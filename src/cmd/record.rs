use std::path::PathBuf;

use clap::Args;

use super::DbArg;
use crate::Ui;

/// Records desktop work until Ctrl-C or SIGTERM; SIGUSR1 or the policy's hotkey pauses and resumes.
#[derive(Args)]
pub struct RecordArgs {
    #[command(flatten)]
    db: DbArg,
    /// The privacy policy (YAML, see examples/policy.yaml); its key is kept beside it. Default: the
    /// built-in safe policy (text hashed, users pseudonymized), key in ~/.config/taskmine.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// The session name. Default: `record-` and the start time (UTC).
    #[arg(long)]
    session: Option<String>,
}

#[cfg(feature = "x11")]
pub fn run(args: RecordArgs, ui: &Ui) -> anyhow::Result<()> {
    use recorder::capture::{record, Controls, RecordConfig};

    let config = RecordConfig {
        db: args.db.db.clone(),
        policy: args.policy,
        session: args.session,
    };
    let controls = Controls::from_signals()?;
    let status = ui.spinner("starting");
    let summary = record(&config, &controls, |s| {
        let state = if s.paused { "paused" } else { "recording" };
        let app = if s.app.is_empty() {
            "-"
        } else {
            s.app.as_str()
        };
        status.set_message(format!("{state} (app {app}) · events"));
        status.set_position(s.events);
    });
    status.finish_and_clear();
    let summary = summary?;
    eprintln!(
        "recorded {} events in session {} into {}{}",
        summary.events,
        summary.session,
        args.db.db.display(),
        if summary.expired > 0 {
            format!(
                " ({} events past the policy's retention deleted)",
                summary.expired
            )
        } else {
            String::new()
        }
    );
    Ok(())
}

#[cfg(not(feature = "x11"))]
pub fn run(_args: RecordArgs, _ui: &Ui) -> anyhow::Result<()> {
    anyhow::bail!("this taskmine was built without the `x11` feature, so it cannot record")
}
