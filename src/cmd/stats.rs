use clap::Args;
use serde_json::json;

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
    if !args.db.db.exists() {
        anyhow::bail!(
            "{}: no such database (create one with `taskmine simulate` or `taskmine import`)",
            args.db.db.display()
        );
    }
    let store = args.db.open()?;
    let s = store.stats()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json!(s))?);
        return Ok(());
    }
    println!("database   {}", args.db.db.display());
    println!("events     {}", s.events);
    println!("users      {}", s.users);
    println!("hosts      {}", s.hosts);
    println!("sessions   {}", s.sessions);
    println!("apps       {}", s.apps);
    println!("windows    {}", s.windows);
    match (s.first_ts, s.last_ts) {
        (Some(first), Some(last)) => {
            let days = (last - first) as f64 / 86_400e6;
            println!("from       {}", uilog::format_ts(first));
            println!("to         {}", uilog::format_ts(last));
            println!("span       {days:.1} days");
        }
        _ => println!("span       (empty log)"),
    }
    println!("by kind");
    let mut kinds: Vec<_> = s.by_kind.iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (kind, n) in kinds {
        let share = 100.0 * *n as f64 / s.events.max(1) as f64;
        println!("  {kind:<12} {n:>10} events  {share:5.1} %");
    }
    Ok(())
}
