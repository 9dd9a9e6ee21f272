//! Erasing one recorded person (GDPR article 17): the stored mining runs that counted them, their
//! access code and sessions, then their events and every string only they used (through
//! [`uilog::Store::erase_user`]); the file is then compacted so that no freed page keeps a byte of
//! it, and the erasure is appended to the audit trail. `taskmine erase --user` and the admin page
//! both come here.
//!
//! The audit entry names the person by a hash of the pseudonym, not the pseudonym itself: whoever
//! holds the pseudonym can check the entry, and the trail keeps no handle to the person.

use std::time::{Duration, Instant};

use uilog::Store;

use crate::error::{Error, Result};

/// What an erasure did and how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    pub events: u64,
    /// Stored mining runs deleted because they counted the person.
    pub runs: u64,
    /// Deleting the rows (one transaction).
    pub delete: Duration,
    /// `VACUUM` and folding the WAL back into the file (zero when not asked for).
    pub compact: Duration,
}

/// Erases a recorded person from a log in PostgreSQL: what [`erase`] removes from a SQLite file
/// (the stored mining runs and link reports that counted them, every stored run of the servers,
/// orphaned bot drafts, their access code, verifier and sessions), then their events and every
/// string only they used ([`uilog::LogStore::erase_user`]), with the erasure in the shared audit
/// trail. PostgreSQL keeps freed rows' bytes until `VACUUM` reuses them.
pub fn erase_postgres(
    url: &str,
    settings: &uilog::store_pg::PgSettings,
    pseudonym: &str,
    actor: &str,
    remote: &str,
) -> Result<Erased> {
    let start = Instant::now();
    let mut log = uilog::LogStore::open_with(url, settings)?;
    // The server's tables (migrated on opening) and the miner's, on a connection of their own.
    let db = crate::db::Db::open(url, settings)?;
    let runs = forget_stored(db.conn(), pseudonym)?;
    let events = log
        .erase_user(pseudonym)?
        .ok_or_else(|| Error::NoPerson(pseudonym.to_owned()))?;
    // Again: a server on another machine may have stored a run of the log as it was meanwhile.
    let runs = runs + forget_stored(db.conn(), pseudonym)?;
    let delete = start.elapsed();
    crate::audit::append(
        &db,
        actor,
        "erase",
        &format!("{} events={events}", person_ref(pseudonym)),
        remote,
    )?;
    Ok(Erased {
        events,
        runs,
        delete,
        compact: Duration::ZERO,
    })
}

/// What the miner and the server keep about a person beside the log, on either backend: the
/// stored runs that counted them and the link reports that did, the server's stored runs (a cache
/// of the log, whose actions may name titles only the person used), the drafts of runs gone, and
/// their access code, verifier and sessions. Returns how many runs were deleted.
fn forget_stored(conn: crate::db::Conn<'_>, pseudonym: &str) -> Result<u64> {
    let mut runs = miner::results::forget_user(conn, pseudonym)?;
    runs += miner::results::prune_log_runs(conn, 0)?;
    crate::analysis::forget_orphan_drafts(conn)?;
    crate::people::forget(conn, pseudonym)?;
    Ok(runs)
}

/// How the audit trail names an erased person.
pub fn person_ref(pseudonym: &str) -> String {
    let h = blake3::hash(pseudonym.as_bytes()).to_hex();
    format!("person#{}", &h[..16])
}

/// Erases `pseudonym`'s events and what only they used; with `compact`, rewrites the file
/// (`VACUUM`) and truncates the WAL so that no old page survives in either.
pub fn erase(
    store: &mut Store,
    pseudonym: &str,
    actor: &str,
    remote: &str,
    compact: bool,
) -> Result<Erased> {
    let start = Instant::now();
    // The stored runs and the person's code go first: all of it must be gone before compaction,
    // so that compaction takes their bytes too.
    let mut runs = forget_stored((&*store).into(), pseudonym)?;
    let events = store
        .erase_user(pseudonym)?
        .ok_or_else(|| Error::NoPerson(pseudonym.to_owned()))?;
    // Again: a running server may have stored a run of the log as it was meanwhile.
    runs += forget_stored((&*store).into(), pseudonym)?;
    let delete = start.elapsed();
    crate::audit::append(
        store.connection(),
        actor,
        "erase",
        &format!("{} events={events}", person_ref(pseudonym)),
        remote,
    )?;
    let start = Instant::now();
    if compact {
        // Compaction rewrites the file; it changes no row of any table.
        store
            .connection()
            .execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(Error::sqlite(store.path()))?;
    }
    Ok(Erased {
        events,
        runs,
        delete,
        compact: if compact {
            start.elapsed()
        } else {
            Duration::ZERO
        },
    })
}
