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

/// Erases a recorded person from a log in PostgreSQL: their events and every string only they
/// used ([`uilog::LogStore::erase_user`]), with the erasure in the shared audit trail. No mining
/// run or access code is stored there (a server on PostgreSQL mines into memory and finds the
/// change at its next look), so there is nothing else to reach. PostgreSQL keeps freed rows'
/// bytes until `VACUUM` reuses them.
pub fn erase_postgres(
    url: &str,
    settings: &uilog::store_pg::PgSettings,
    pseudonym: &str,
    actor: &str,
    remote: &str,
) -> Result<Erased> {
    let start = Instant::now();
    let mut log = uilog::LogStore::open_with(url, settings)?;
    let events = log
        .erase_user(pseudonym)?
        .ok_or_else(|| Error::NoPerson(pseudonym.to_owned()))?;
    let delete = start.elapsed();
    let db = crate::db::Db::open(url, settings)?;
    crate::audit::append(
        &db,
        actor,
        "erase",
        &format!("{} events={events}", person_ref(pseudonym)),
        remote,
    )?;
    Ok(Erased {
        events,
        runs: 0,
        delete,
        compact: Duration::ZERO,
    })
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
    let mut runs = miner::results::forget_user((&*store).into(), pseudonym)?;
    // The server's stored runs are a cache of the log; their actions name titles the person may
    // have been alone in using even where no instance counts them, so they all go (the next run
    // stores a new one).
    runs += miner::results::prune_log_runs((&*store).into(), 0)?;
    crate::analysis::forget_orphan_drafts(store)?;
    crate::people::forget(store.connection(), pseudonym)?;
    let events = store
        .erase_user(pseudonym)?
        .ok_or_else(|| Error::NoPerson(pseudonym.to_owned()))?;
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
