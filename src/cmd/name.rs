//! `taskmine name`: the analyst's own name for a routine, kept in the mining tables and shown by
//! `mine` (and the dashboard) instead of the name the miner makes, for every later run that finds
//! the same routine.

use std::io::Write;

use anyhow::Context;
use clap::Args;

use crate::cmd::DbArg;
use crate::Ui;

#[derive(Args)]
pub struct NameArgs {
    #[command(flatten)]
    db: DbArg,
    /// The routine, by its number in the latest stored result (`taskmine mine` lists them).
    routine: u32,
    /// Its name: one line of at most 60 characters; "" gives back the name the miner makes.
    name: String,
}

pub fn run(args: NameArgs, _ui: &Ui) -> anyhow::Result<()> {
    // The mining tables are in the log's database, a SQLite file or PostgreSQL.
    let store = args.db.open_log_existing()?;
    let conn = uilog::Conn::from(&store);
    let m = miner::results::load_latest(conn)?.with_context(|| {
        format!(
            "{}: no stored mining result to name a routine of; run `taskmine mine` first",
            args.db.shown()
        )
    })?;
    let Some(r) = m.routines.iter().find(|r| r.id == args.routine) else {
        anyhow::bail!(
            "{}: the latest stored result has no routine {} (it has {})",
            args.db.shown(),
            args.routine,
            match m.routines.len() {
                0 => "none".to_owned(),
                n => format!("1 to {n}"),
            }
        );
    };
    let before = names(conn, &m)?;
    miner::results::set_routine_name(conn, r, &args.name)
        .with_context(|| format!("cannot name routine {}", r.id))?;
    let after = names(conn, &m)?;
    let i = m
        .routines
        .iter()
        .position(|x| x.id == r.id)
        .expect("found above");
    writeln!(
        std::io::stdout().lock(),
        "routine {}: {:?} (was {:?})",
        r.id,
        after[i],
        before[i]
    )?;
    Ok(())
}

/// The names `mine` shows for a result: the analysts' where given, else the miner's.
pub fn names(conn: uilog::Conn<'_>, m: &miner::Mining) -> anyhow::Result<Vec<String>> {
    let given = miner::results::given_names(conn, m)?;
    Ok(miner::naming::routine_names_given(m, &given))
}
