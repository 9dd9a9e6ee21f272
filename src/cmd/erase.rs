//! `taskmine erase --user PSEUDONYM`: erase one recorded person from the log (GDPR article 17).

use clap::Args;

use super::DbArg;
use crate::Ui;

#[derive(Args)]
pub struct EraseArgs {
    #[command(flatten)]
    db: DbArg,
    /// The person's pseudonym as the log holds it (the `user` of their events).
    #[arg(long)]
    user: String,
    /// Skip the compaction (VACUUM) that overwrites every freed page; the erased strings may then
    /// stay readable in the file until SQLite reuses those pages.
    #[arg(long)]
    no_compact: bool,
}

pub fn run(args: EraseArgs, _ui: &Ui) -> anyhow::Result<()> {
    if args.db.is_postgres() {
        return erase_postgres(&args);
    }
    let mut store = args.db.open_existing()?;
    let actor = server::audit::cli_actor();
    // The same path as the server's admin page: stored mining runs that counted the person, their
    // access code, then their events, then compaction.
    let e = server::erasure::erase(&mut store, &args.user, &actor, "local", !args.no_compact)?;
    if e.runs > 0 {
        eprintln!(
            "deleted {} stored mining runs that counted {}",
            e.runs, args.user
        );
    }
    eprintln!(
        "erased {} events of {} and every title, element and value only they used: {:.2} s deleting, {:.2} s compacting; recorded in the audit trail as {}",
        e.events,
        args.user,
        e.delete.as_secs_f64(),
        e.compact.as_secs_f64(),
        server::erasure::person_ref(&args.user)
    );
    eprintln!("a running `taskmine serve` sees the changed log within a minute, mines again and no longer counts them");
    Ok(())
}

/// An erasure on PostgreSQL: the same rows as on SQLite (stored runs, link reports, access code,
/// events), in the database the servers share; no compaction there.
fn erase_postgres(args: &EraseArgs) -> anyhow::Result<()> {
    let url = args.db.db.to_string_lossy();
    let settings = server::db::DbSettings::default().pg("erase");
    let actor = server::audit::cli_actor();
    let e = match server::erasure::erase_postgres(&url, &settings, &args.user, &actor, "local") {
        Err(server::Error::NoPerson(_)) => {
            anyhow::bail!("{}: the log has no user {:?}", args.db.shown(), args.user)
        }
        e => e?,
    };
    if e.runs > 0 {
        eprintln!(
            "deleted {} stored mining runs that counted {}",
            e.runs, args.user
        );
    }
    eprintln!(
        "erased {} events of {} and every title, element and value only they used in {:.2} s; recorded in the audit trail as {}; PostgreSQL keeps the freed rows' bytes until VACUUM",
        e.events,
        args.user,
        e.delete.as_secs_f64(),
        server::erasure::person_ref(&args.user)
    );
    Ok(())
}
