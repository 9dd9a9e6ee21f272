use std::fmt::Write as _;
use std::io::Write as _;

use clap::Args;
use serde_json::json;
use uilog::LogRead;

use super::DbArg;
use crate::Ui;

#[derive(Args)]
pub struct StatsArgs {
    #[command(flatten)]
    db: DbArg,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: StatsArgs, _ui: &Ui) -> anyhow::Result<()> {
    let store = args.db.open_log_existing()?;
    let s = store.stats()?;
    // Written in one piece, so that a closed pipe (`taskmine stats | head`) is an error the binary
    // treats as the normal end it is, not a panic.
    let mut out = String::new();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&json!(s))?)?;
        std::io::stdout().lock().write_all(out.as_bytes())?;
        return Ok(());
    }
    writeln!(out, "database   {}", args.db.shown())?;
    writeln!(out, "events     {}", s.events)?;
    writeln!(out, "users      {}", s.users)?;
    writeln!(out, "hosts      {}", s.hosts)?;
    writeln!(out, "sessions   {}", s.sessions)?;
    writeln!(out, "apps       {}", s.apps)?;
    writeln!(out, "windows    {}", s.windows)?;
    match (s.first_ts, s.last_ts) {
        (Some(first), Some(last)) => {
            let days = (last - first) as f64 / 86_400e6;
            writeln!(out, "from       {}", uilog::format_ts(first))?;
            writeln!(out, "to         {}", uilog::format_ts(last))?;
            writeln!(out, "span       {days:.1} days")?;
        }
        _ => writeln!(out, "span       (empty log)")?,
    }
    writeln!(out, "by kind")?;
    let mut kinds: Vec<_> = s.by_kind.iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (kind, n) in kinds {
        let share = 100.0 * *n as f64 / s.events.max(1) as f64;
        writeln!(out, "  {kind:<12} {n:>10} events  {share:5.1} %")?;
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(())
}
