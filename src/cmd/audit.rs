//! `taskmine audit`: the server's audit trail (sign-ins, reads of routine details, bot downloads,
//! exports, account and agent changes, erasures).

use std::io::Write;

use clap::Args;

use super::DbArg;
use crate::Ui;

#[derive(Args)]
pub struct AuditArgs {
    #[command(flatten)]
    db: DbArg,
    /// Print JSON (one array, newest first) instead of tab-separated lines.
    #[arg(long)]
    json: bool,
    /// Most entries to print, newest first.
    #[arg(long, default_value_t = 1000)]
    limit: usize,
}

pub fn run(args: AuditArgs, _ui: &Ui) -> anyhow::Result<()> {
    if !args.db.is_postgres() {
        args.db.open_existing()?;
    }
    let db = server::db::Db::open(&args.db.db.to_string_lossy(), &Default::default())?;
    let entries = server::audit::list(&db, args.limit)?;
    // writeln! rather than println!, so `taskmine audit | head` ends quietly on the closed pipe.
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &entries)?;
        writeln!(out)?;
    } else {
        for e in entries {
            writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}",
                uilog::format_ts(e.ts),
                e.actor,
                e.action,
                e.detail,
                e.remote
            )?;
        }
    }
    Ok(())
}
