//! One front for the UI log on either backend: SQLite ([`Store`], one file, the default) or
//! PostgreSQL ([`PgStore`], one database a fleet shares).
//!
//! [`LogStore`] is what the command line opens from `--db` (a path or a `postgres://` URL).
//! Code that only reads the log (the miner, an uploader) takes `&dyn` [`LogRead`]; code that
//! writes batches (the importers) takes a [`LogWrite`]; a batch's events go to an [`EventPush`].
//! These traits and the two store modules are the only places that know uilog's tables.

use crate::error::{Error, Result};
use crate::event::{Event, Micros};
use crate::store::{BatchOutcome, Dictionary, EventRow, EventSink, Stats, Store};
use crate::store_pg::{is_postgres_url, PgStore};

/// Where the events of one batch go, inside its transaction.
pub trait EventPush {
    /// Adds one event to the batch.
    fn push(&mut self, e: &Event) -> Result<()>;
    /// [`EventPush::push`] with the event's attributes already encoded as the stores keep them
    /// (what the store writes for `e.attrs`): an importer encodes them on its reading thread,
    /// which has time to spare, instead of the storing one, which has none.
    fn push_encoded(&mut self, e: &Event, attrs_json: &str) -> Result<()> {
        let _ = attrs_json;
        self.push(e)
    }
    /// How many events the batch has received so far.
    fn count(&self) -> u64;
}

impl EventPush for EventSink<'_> {
    fn push(&mut self, e: &Event) -> Result<()> {
        EventSink::push(self, e)
    }

    fn push_encoded(&mut self, e: &Event, attrs_json: &str) -> Result<()> {
        EventSink::push_encoded(self, e, attrs_json)
    }

    fn count(&self) -> u64 {
        EventSink::count(self)
    }
}

/// Writing batches, on either backend.
pub trait LogWrite {
    /// Writes one batch in one transaction: see [`Store::write_batch`].
    fn write_events<E, F>(
        &mut self,
        key: Option<&str>,
        origin: &str,
        fill: F,
    ) -> Result<BatchOutcome, E>
    where
        E: From<Error>,
        F: FnOnce(&mut dyn EventPush) -> Result<(), E>;
}

impl LogWrite for Store {
    fn write_events<E, F>(
        &mut self,
        key: Option<&str>,
        origin: &str,
        fill: F,
    ) -> Result<BatchOutcome, E>
    where
        E: From<Error>,
        F: FnOnce(&mut dyn EventPush) -> Result<(), E>,
    {
        self.write_batch(key, origin, |sink| fill(sink))
    }
}

impl LogWrite for PgStore {
    fn write_events<E, F>(
        &mut self,
        key: Option<&str>,
        origin: &str,
        fill: F,
    ) -> Result<BatchOutcome, E>
    where
        E: From<Error>,
        F: FnOnce(&mut dyn EventPush) -> Result<(), E>,
    {
        self.write_batch(key, origin, fill)
    }
}

/// Reading the log, on either backend; object safe, so that readers take `&dyn LogRead`.
pub trait LogRead {
    /// The interning tables, for resolving the ids of [`EventRow`]s.
    fn dictionary(&self) -> Result<Dictionary>;
    /// Counts of what the log holds.
    fn stats(&self) -> Result<Stats>;
    /// How many events the log holds.
    fn event_count(&self) -> Result<u64>;
    /// Visits every event in (session, time) order, streamed.
    fn visit_rows(&self, visit: &mut dyn FnMut(EventRow<'_>) -> Result<()>) -> Result<()>;
    /// Visits up to `limit` events with ids in `after + 1 ..= upto`, in id order.
    fn visit_rows_after(
        &self,
        after: i64,
        upto: i64,
        limit: usize,
        visit: &mut dyn FnMut(EventRow<'_>) -> Result<()>,
    ) -> Result<()>;
    /// The id of the newest event (0 for an empty log).
    fn last_event_id(&self) -> Result<i64>;
    /// The last batch id and the last event id: changes with every batch.
    fn version(&self) -> Result<(i64, i64)>;
    /// The file or the URL (without its password) the log is in, for messages.
    fn location(&self) -> String;
    /// The newest `limit` events of `user` (the name as the log holds it), newest first, exactly
    /// as stored: what a person's own page shows them. This default reads the whole log once;
    /// SQLite answers from its index ([`Store::latest_of_user`]).
    fn latest_of_user(&self, user: &str, limit: usize) -> Result<Vec<Event>> {
        latest_of_user_by_scan(self, user, limit)
    }
}

/// [`LogRead::latest_of_user`] by one pass over every event.
fn latest_of_user_by_scan<R: LogRead + ?Sized>(
    log: &R,
    user: &str,
    limit: usize,
) -> Result<Vec<Event>> {
    let dict = log.dictionary()?;
    let Some(uid) = dict.users.iter().position(|u| u == user) else {
        return Ok(Vec::new());
    };
    let newest_first = |kept: &mut Vec<(Micros, i64, Event)>| {
        kept.sort_unstable_by_key(|k| std::cmp::Reverse((k.0, k.1)));
        kept.truncate(limit);
    };
    let mut kept: Vec<(Micros, i64, Event)> = Vec::new();
    log.visit_rows(&mut |row| {
        let mine = dict
            .sessions
            .get(row.session as usize)
            .is_some_and(|s| s.user as usize == uid);
        if mine {
            kept.push((row.ts, row.id, dict.resolve(&row)));
            if kept.len() > limit.saturating_mul(4).max(64) {
                newest_first(&mut kept);
            }
        }
        Ok(())
    })?;
    newest_first(&mut kept);
    Ok(kept.into_iter().map(|(_, _, e)| e).collect())
}

impl LogRead for Store {
    fn dictionary(&self) -> Result<Dictionary> {
        Store::dictionary(self)
    }
    fn stats(&self) -> Result<Stats> {
        Store::stats(self)
    }
    fn event_count(&self) -> Result<u64> {
        self.connection()
            .query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|source| Error::Sqlite {
                path: self.path().to_path_buf(),
                source,
            })
    }
    fn visit_rows(&self, visit: &mut dyn FnMut(EventRow<'_>) -> Result<()>) -> Result<()> {
        self.scan(visit)
    }
    fn visit_rows_after(
        &self,
        after: i64,
        upto: i64,
        limit: usize,
        visit: &mut dyn FnMut(EventRow<'_>) -> Result<()>,
    ) -> Result<()> {
        self.scan_after(after, upto, limit, visit)
    }
    fn last_event_id(&self) -> Result<i64> {
        Store::last_event_id(self)
    }
    fn version(&self) -> Result<(i64, i64)> {
        Store::version(self)
    }
    fn location(&self) -> String {
        self.path().display().to_string()
    }
    fn latest_of_user(&self, user: &str, limit: usize) -> Result<Vec<Event>> {
        Store::latest_of_user(self, user, limit)
    }
}

impl LogRead for PgStore {
    fn dictionary(&self) -> Result<Dictionary> {
        PgStore::dictionary(self)
    }
    fn stats(&self) -> Result<Stats> {
        PgStore::stats(self)
    }
    fn event_count(&self) -> Result<u64> {
        PgStore::event_count(self)
    }
    fn visit_rows(&self, visit: &mut dyn FnMut(EventRow<'_>) -> Result<()>) -> Result<()> {
        self.scan(visit)
    }
    fn visit_rows_after(
        &self,
        after: i64,
        upto: i64,
        limit: usize,
        visit: &mut dyn FnMut(EventRow<'_>) -> Result<()>,
    ) -> Result<()> {
        self.scan_after(after, upto, limit, visit)
    }
    fn last_event_id(&self) -> Result<i64> {
        PgStore::last_event_id(self)
    }
    fn version(&self) -> Result<(i64, i64)> {
        PgStore::version(self)
    }
    fn location(&self) -> String {
        self.target().to_owned()
    }
}

/// The UI log on the backend its `--db` names. One is opened per command or connection, so the
/// size of the larger variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum LogStore {
    Sqlite(Store),
    Postgres(PgStore),
}

impl LogStore {
    /// Opens `db`: a `postgres://` or `postgresql://` URL is a PostgreSQL database, anything else
    /// the path of a SQLite file (created when missing).
    pub fn open(db: &str) -> Result<LogStore> {
        if is_postgres_url(db) {
            Ok(LogStore::Postgres(PgStore::open(db)?))
        } else {
            Ok(LogStore::Sqlite(Store::open(db)?))
        }
    }

    /// [`LogStore::open`] with settings for a PostgreSQL connection (ignored for a SQLite file).
    pub fn open_with(db: &str, settings: &crate::store_pg::PgSettings) -> Result<LogStore> {
        if is_postgres_url(db) {
            Ok(LogStore::Postgres(PgStore::open_with(db, settings)?))
        } else {
            Ok(LogStore::Sqlite(Store::open(db)?))
        }
    }

    /// Whether the store's connection is gone (a PostgreSQL server ended it); a SQLite file
    /// never is.
    pub fn is_closed(&self) -> bool {
        match self {
            LogStore::Sqlite(_) => false,
            LogStore::Postgres(p) => p.is_closed(),
        }
    }

    /// The SQLite store, for what only SQLite has yet (the miner's and the server's own tables).
    pub fn as_sqlite(&self) -> Option<&Store> {
        match self {
            LogStore::Sqlite(s) => Some(s),
            LogStore::Postgres(_) => None,
        }
    }

    pub fn as_sqlite_mut(&mut self) -> Option<&mut Store> {
        match self {
            LogStore::Sqlite(s) => Some(s),
            LogStore::Postgres(_) => None,
        }
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            LogStore::Sqlite(_) => "sqlite",
            LogStore::Postgres(_) => "postgres",
        }
    }

    /// Writes one batch in one transaction: see [`Store::write_batch`].
    pub fn write_batch<E, F>(
        &mut self,
        key: Option<&str>,
        origin: &str,
        fill: F,
    ) -> Result<BatchOutcome, E>
    where
        E: From<Error>,
        F: FnOnce(&mut dyn EventPush) -> Result<(), E>,
    {
        self.write_events(key, origin, fill)
    }

    /// Retention: see [`Store::delete_before`].
    pub fn delete_before(&mut self, cutoff: Micros) -> Result<u64> {
        match self {
            LogStore::Sqlite(s) => s.delete_before(cutoff),
            LogStore::Postgres(p) => p.delete_before(cutoff),
        }
    }

    /// Erasure of one person's events and what only they used: see [`Store::erase_user`].
    pub fn erase_user(&mut self, user: &str) -> Result<Option<u64>> {
        match self {
            LogStore::Sqlite(s) => s.erase_user(user),
            LogStore::Postgres(p) => p.erase_user(user),
        }
    }

    /// Visits every event in (session, time) order as an [`EventRow`] of interned ids.
    pub fn scan<E, F>(&self, visit: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(EventRow<'_>) -> Result<(), E>,
    {
        match self {
            LogStore::Sqlite(s) => s.scan(visit),
            LogStore::Postgres(p) => p.scan(visit),
        }
    }

    /// Visits up to `limit` events with ids in `after + 1 ..= upto`, in id order.
    pub fn scan_after<E, F>(&self, after: i64, upto: i64, limit: usize, visit: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(EventRow<'_>) -> Result<(), E>,
    {
        match self {
            LogStore::Sqlite(s) => s.scan_after(after, upto, limit, visit),
            LogStore::Postgres(p) => p.scan_after(after, upto, limit, visit),
        }
    }

    /// Visits every event in (session, time) order with its strings resolved.
    pub fn for_each_event<E, F>(&self, visit: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(&Event) -> Result<(), E>,
    {
        match self {
            LogStore::Sqlite(s) => s.for_each_event(visit),
            LogStore::Postgres(p) => p.for_each_event(visit),
        }
    }

    /// All events, resolved. For small logs and tests.
    pub fn events(&self) -> Result<Vec<Event>> {
        match self {
            LogStore::Sqlite(s) => s.events(),
            LogStore::Postgres(p) => p.events(),
        }
    }

    /// The schema version of the open database (each backend counts its own migrations).
    pub fn schema_version(&self) -> Result<u32> {
        match self {
            LogStore::Sqlite(s) => s.schema_version(),
            LogStore::Postgres(p) => p.schema_version(),
        }
    }

    /// Whether a batch with this key was written.
    pub fn has_batch(&self, key: &str) -> Result<bool> {
        match self {
            LogStore::Sqlite(s) => s
                .connection()
                .query_row("SELECT count(*) FROM batches WHERE key = ?1", [key], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|n| n > 0)
                .map_err(|e| sqlite_error(s, e)),
            LogStore::Postgres(p) => p.has_batch(key),
        }
    }

    /// The keys of written batches that start with `prefix`, oldest first.
    pub fn batch_keys(&self, prefix: &str) -> Result<Vec<String>> {
        match self {
            LogStore::Sqlite(s) => {
                let mut stmt = s
                    .connection()
                    .prepare(
                        "SELECT key FROM batches WHERE substr(key, 1, length(?1)) = ?1 ORDER BY id",
                    )
                    .map_err(|e| sqlite_error(s, e))?;
                let keys = stmt
                    .query_map([prefix], |r| r.get::<_, String>(0))
                    .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                    .map_err(|e| sqlite_error(s, e))?;
                Ok(keys)
            }
            LogStore::Postgres(p) => p.batch_keys(prefix),
        }
    }

    /// What the log takes on disk, in bytes: the SQLite file with its WAL folded back in, or the
    /// PostgreSQL tables with their indexes.
    pub fn size_bytes(&self) -> Result<u64> {
        match self {
            LogStore::Sqlite(s) => {
                s.connection()
                    .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                    .map_err(|e| sqlite_error(s, e))?;
                let len = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                let mut wal = s.path().as_os_str().to_owned();
                wal.push("-wal");
                Ok(len(s.path()) + len(std::path::Path::new(&wal)))
            }
            LogStore::Postgres(p) => p.size_bytes(),
        }
    }
}

fn sqlite_error(store: &Store, source: rusqlite::Error) -> Error {
    Error::Sqlite {
        path: store.path().to_path_buf(),
        source,
    }
}

impl LogWrite for LogStore {
    fn write_events<E, F>(
        &mut self,
        key: Option<&str>,
        origin: &str,
        fill: F,
    ) -> Result<BatchOutcome, E>
    where
        E: From<Error>,
        F: FnOnce(&mut dyn EventPush) -> Result<(), E>,
    {
        match self {
            LogStore::Sqlite(s) => s.write_events(key, origin, fill),
            LogStore::Postgres(p) => p.write_batch(key, origin, fill),
        }
    }
}

impl LogRead for LogStore {
    fn dictionary(&self) -> Result<Dictionary> {
        self.reader().dictionary()
    }
    fn stats(&self) -> Result<Stats> {
        self.reader().stats()
    }
    fn event_count(&self) -> Result<u64> {
        self.reader().event_count()
    }
    fn visit_rows(&self, visit: &mut dyn FnMut(EventRow<'_>) -> Result<()>) -> Result<()> {
        self.reader().visit_rows(visit)
    }
    fn visit_rows_after(
        &self,
        after: i64,
        upto: i64,
        limit: usize,
        visit: &mut dyn FnMut(EventRow<'_>) -> Result<()>,
    ) -> Result<()> {
        self.reader().visit_rows_after(after, upto, limit, visit)
    }
    fn last_event_id(&self) -> Result<i64> {
        self.reader().last_event_id()
    }
    fn version(&self) -> Result<(i64, i64)> {
        self.reader().version()
    }
    fn location(&self) -> String {
        self.reader().location()
    }
    fn latest_of_user(&self, user: &str, limit: usize) -> Result<Vec<Event>> {
        self.reader().latest_of_user(user, limit)
    }
}

impl LogStore {
    /// The open store as a reader.
    pub fn reader(&self) -> &dyn LogRead {
        match self {
            LogStore::Sqlite(s) => s,
            LogStore::Postgres(p) => p,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;

    #[test]
    fn latest_of_user_by_scan_agrees_with_sqlites_index() {
        let mut store = Store::open_in_memory().unwrap();
        let mut events = Vec::new();
        for i in 0..300i64 {
            let user = ["user-a", "user-b", "user-c"][(i % 3) as usize];
            // Times out of order, and some equal, so that the order is the store's, not the input's.
            let mut e = Event::new("s", user, (i * 7919) % 101 * 1_000, EventKind::Click);
            e.window = format!("w{i}");
            events.push(e);
        }
        store
            .write_batch(None, "test", |sink| -> Result<()> {
                for e in &events {
                    sink.push(e)?;
                }
                Ok(())
            })
            .unwrap();
        for (user, limit) in [
            ("user-a", 5),
            ("user-b", 100),
            ("user-c", 1000),
            ("nobody", 3),
        ] {
            let indexed = store.latest_of_user(user, limit).unwrap();
            let scanned = latest_of_user_by_scan(&store, user, limit).unwrap();
            assert_eq!(indexed, scanned, "{user} {limit}");
            assert_eq!(
                indexed.len(),
                if user == "nobody" { 0 } else { limit.min(100) }
            );
            assert!(indexed.iter().all(|e| e.user == user));
            assert!(indexed.windows(2).all(|w| w[0].ts >= w[1].ts));
        }
    }
}
