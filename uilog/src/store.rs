//! The SQLite store of the UI log.
//!
//! One file, WAL journal, a versioned schema upgraded by [`MIGRATIONS`] when a database is opened.
//! Strings that repeat (users, hosts, sessions, apps, window titles, elements, cases) live once in
//! tables of their own; an event row holds their integer ids, so a row costs well under 120 bytes.
//!
//! Every write goes through [`Store::write_batch`]: one transaction with prepared statements, all or
//! nothing. A batch may carry a key (the hash of an imported file, a recorder's batch id); a key that
//! was already written makes the batch a no-op, so an import or an upload can be retried safely.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OptionalExtension, Statement, Transaction};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::event::{check_ts, Element, Event, EventKind, Micros, ValueHash};

/// Schema migrations, in order; `PRAGMA user_version` is the number applied. A released migration is
/// never edited: a change to the schema is a new entry at the end.
pub const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "
    CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE hosts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users(id),
        host_id INTEGER NOT NULL REFERENCES hosts(id),
        UNIQUE (name, user_id, host_id)
    );
    CREATE TABLE apps (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE windows (id INTEGER PRIMARY KEY, title TEXT NOT NULL UNIQUE);
    -- Absent parts of an element are stored as '' so that UNIQUE holds.
    CREATE TABLE elements (
        id INTEGER PRIMARY KEY,
        role TEXT NOT NULL,
        name TEXT NOT NULL,
        ident TEXT NOT NULL,
        UNIQUE (role, name, ident)
    );
    CREATE TABLE cases (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        name TEXT NOT NULL,
        UNIQUE (session_id, name)
    );
    -- One row per written batch; `key` makes imports and uploads idempotent.
    CREATE TABLE batches (
        id INTEGER PRIMARY KEY,
        key TEXT UNIQUE,
        origin TEXT NOT NULL,
        events INTEGER NOT NULL,
        written_at INTEGER NOT NULL
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        ts INTEGER NOT NULL,
        kind INTEGER NOT NULL,
        app_id INTEGER NOT NULL REFERENCES apps(id),
        window_id INTEGER NOT NULL REFERENCES windows(id),
        element_id INTEGER REFERENCES elements(id),
        x INTEGER, y INTEGER, wx INTEGER, wy INTEGER,
        text TEXT,
        value_hash INTEGER,
        case_id INTEGER REFERENCES cases(id),
        attrs TEXT
    );
    -- The miner reads each session in time order; this index is that scan.
    CREATE INDEX events_by_session_time ON events (session_id, ts);
    ",
    // 2: an element's path from its window down (AT-SPI capture, web XPaths). The UNIQUE constraint
    // grows a column, which SQLite can only do by rebuilding the table; ids are kept, so events'
    // element_id still points at the same rows.
    "
    CREATE TABLE elements_v2 (
        id INTEGER PRIMARY KEY,
        role TEXT NOT NULL,
        name TEXT NOT NULL,
        ident TEXT NOT NULL,
        path TEXT NOT NULL DEFAULT '',
        UNIQUE (role, name, ident, path)
    );
    INSERT INTO elements_v2 (id, role, name, ident) SELECT id, role, name, ident FROM elements;
    DROP TABLE elements;
    ALTER TABLE elements_v2 RENAME TO elements;
    ",
    // 3: screen snapshots of an event's target (recorder, `screenshots` policy), one per event,
    // PNG bytes; `ocr` is the text an OCR pass read from it (NULL: not read yet). No foreign key:
    // retention and erasure delete a snapshot together with its event explicitly.
    "
    CREATE TABLE snapshots (
        event_id INTEGER PRIMARY KEY,
        png BLOB NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        ocr TEXT
    );
    ",
];

/// The SQLite store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// String → id caches for the interning tables. Cleared when a batch fails, since the ids of its
    /// rolled-back rows are gone.
    cache: Interned,
}

/// The interning caches' map: foldhash instead of SipHash, since every imported event looks up
/// three to five keys and the keys come from the log itself, not from an attacker who could choose
/// colliding ones to slow a lookup (a hostile file would only slow its own import).
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

#[derive(Default)]
struct Interned {
    /// `PRAGMA data_version` when the cache was last known to match the database: another
    /// connection's commit (retention, erasure) changes it and may have deleted rows whose ids the
    /// cache holds, so a batch that sees a new value starts from an empty cache.
    data_version: Option<i64>,
    users: Map<String, i64>,
    hosts: Map<String, i64>,
    /// (user, host) → session name → id; nested so that a lookup needs no owned key.
    sessions: Map<(i64, i64), Map<String, i64>>,
    /// The session of the previous event: consecutive events nearly always share it, and comparing
    /// three strings is cheaper than hashing them.
    last_session: Option<LastSession>,
    apps: Map<String, i64>,
    windows: Map<String, i64>,
    elements: Map<Element, i64>,
    /// session → case name → id.
    cases: Map<i64, Map<String, i64>>,
}

struct LastSession {
    name: String,
    user: String,
    host: String,
    id: i64,
}

/// What a call to [`Store::write_batch`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOutcome {
    /// The batch was written with this many events.
    Written { events: u64 },
    /// A batch with the same key was written before; nothing was written now.
    AlreadyWritten,
}

/// The counts `taskmine stats` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub events: u64,
    pub users: u64,
    pub hosts: u64,
    pub sessions: u64,
    pub apps: u64,
    pub windows: u64,
    pub first_ts: Option<Micros>,
    pub last_ts: Option<Micros>,
    pub by_kind: BTreeMap<String, u64>,
}

impl Stats {
    /// Adds `n` events of the kind stored as `code` to [`Stats::by_kind`], under the kind's name
    /// (`unknown(CODE)` for a code this build does not know): one rule for every backend.
    pub(crate) fn count_kind(&mut self, code: i64, n: u64) {
        let name = EventKind::from_code(code)
            .map(|k| k.as_str().to_owned())
            .unwrap_or_else(|| format!("unknown({code})"));
        *self.by_kind.entry(name).or_default() += n;
    }
}

/// An event as it is stored: interned ids instead of strings. Read by [`Store::scan`], which is how
/// the miner loads millions of events without allocating a string per field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRow<'a> {
    pub id: i64,
    pub session: u32,
    pub ts: Micros,
    pub kind: EventKind,
    pub app: u32,
    pub window: u32,
    /// 0 when the event has no element.
    pub element: u32,
    pub x: Option<i32>,
    pub y: Option<i32>,
    pub wx: Option<i32>,
    pub wy: Option<i32>,
    pub text: Option<&'a str>,
    pub value_hash: Option<ValueHash>,
    /// 0 when the event has no known case.
    pub case: u32,
    /// The attributes as a JSON object, when there are any.
    pub attrs: Option<&'a str>,
}

/// A session of the dictionary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionInfo {
    pub name: String,
    pub user: u32,
    pub host: u32,
}

/// The interning tables, indexed by id. Index 0 is a placeholder (`""`, `None`), since SQLite ids start
/// at 1; ids are dense because these tables are only ever appended to.
#[derive(Debug, Clone, Default)]
pub struct Dictionary {
    pub users: Vec<String>,
    pub hosts: Vec<String>,
    pub sessions: Vec<SessionInfo>,
    pub apps: Vec<String>,
    pub windows: Vec<String>,
    pub elements: Vec<Option<Element>>,
    /// Case names; the session a case belongs to is that of the events that name it.
    pub cases: Vec<String>,
}

impl Store {
    /// Opens (or creates) the database at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        // When several processes open a new file at once, switching it to WAL or upgrading a read
        // lock can meet SQLITE_BUSY that SQLite returns without waiting (to avoid a deadlock), so
        // the busy timeout does not cover it. Such an open is tried again for a while.
        let deadline = Instant::now() + Duration::from_secs(10);
        if path.as_os_str() != ":memory:" {
            create_private(&path);
        }
        loop {
            let conn = Connection::open(&path).map_err(sqlite_err(&path))?;
            match Store::init(conn, path.clone()) {
                Err(e) if is_busy(&e) && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                result => return result,
            }
        }
    }

    /// A store that lives in memory only, for tests and one-off conversions.
    pub fn open_in_memory() -> Result<Store> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(sqlite_err(&path))?;
        Store::init(conn, path)
    }

    fn init(conn: Connection, path: PathBuf) -> Result<Store> {
        let mut store = Store {
            conn,
            path,
            cache: Interned::default(),
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    fn sql_err(&self, source: rusqlite::Error) -> Error {
        sqlite_err(&self.path)(source)
    }

    /// The file this store lives in (`:memory:` for an in-memory store).
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure(&self) -> Result<()> {
        // WAL lets a reader (the server, `stats`) run while the recorder writes; synchronous=NORMAL
        // is durable across application crashes in WAL mode, which is what the recorder needs.
        // A 64 MiB page cache and checkpoints every 40 MiB of WAL keep bulk imports from re-reading
        // and re-writing the same index pages; both are upper bounds, not allocations.
        self.conn
            .execute_batch(
                "PRAGMA busy_timeout = 5000;
                 PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA cache_size = -65536;
                 PRAGMA wal_autocheckpoint = 10000;",
            )
            .map_err(|e| self.not_a_database(e))
    }

    fn not_a_database(&self, e: rusqlite::Error) -> Error {
        not_a_database(&self.path, e)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u32> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.not_a_database(e))
    }

    fn migrate(&mut self) -> Result<()> {
        if self.schema_version()? as usize == MIGRATIONS.len() {
            return Ok(());
        }
        // Two processes opening a new file at once (a recorder and its upload thread, say) must not
        // both create the schema: the write lock is taken first and the version read again under it.
        let path = self.path.clone();
        let sql = sqlite_err(&path);
        // A migration that rebuilds a table drops the old one, which with foreign keys on would
        // delete (and refuse) every row pointing at it; ids are kept, so the links stay true. The
        // pragma is a no-op inside a transaction, hence here.
        self.conn
            .execute_batch("PRAGMA foreign_keys = OFF")
            .map_err(|e| not_a_database(&path, e))?;
        let result = self.migrate_under_lock(&path);
        self.conn
            .execute_batch("PRAGMA foreign_keys = ON")
            .map_err(sql)?;
        result
    }

    fn migrate_under_lock(&mut self, path: &Path) -> Result<()> {
        let path = path.to_path_buf();
        let sql = sqlite_err(&path);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| not_a_database(&path, e))?;
        let current: u32 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql)?;
        let current = current as usize;
        if current > MIGRATIONS.len() {
            return Err(Error::Schema {
                path: path.clone(),
                message: format!(
                    "schema version {current} is newer than this taskmine understands ({}); upgrade taskmine",
                    MIGRATIONS.len()
                ),
            });
        }
        if current == 0 {
            let tables: i64 = tx
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                    [],
                    |r| r.get(0),
                )
                .map_err(sql)?;
            if tables > 0 {
                return Err(Error::Schema {
                    path: path.clone(),
                    message: "a SQLite database, but not a taskmine UI log".into(),
                });
            }
        }
        for (i, migration) in MIGRATIONS.iter().enumerate().skip(current) {
            let version = i + 1;
            tx.execute_batch(migration)
                .and_then(|_| tx.pragma_update(None, "user_version", version as i64))
                .map_err(|source| Error::Schema {
                    path: path.clone(),
                    message: format!("migration to schema version {version} failed: {source}"),
                })?;
        }
        tx.commit().map_err(sql)
    }

    /// Writes one batch of events in one transaction.
    ///
    /// `fill` pushes events into the sink; if it or any insert fails, nothing of the batch is stored
    /// and the error is returned. With a `key` that was written before, `fill` is not called and the
    /// result is [`BatchOutcome::AlreadyWritten`].
    pub fn write_batch<E, F>(
        &mut self,
        key: Option<&str>,
        origin: &str,
        fill: F,
    ) -> Result<BatchOutcome, E>
    where
        E: From<Error>,
        F: FnOnce(&mut EventSink<'_>) -> Result<(), E>,
    {
        let path = self.path.clone();
        let sql = sqlite_err(&path);
        if let Some(key) = key {
            let seen: Option<i64> = self
                .conn
                .query_row("SELECT id FROM batches WHERE key = ?1", [key], |r| r.get(0))
                .optional()
                .map_err(sql)?;
            if seen.is_some() {
                return Ok(BatchOutcome::AlreadyWritten);
            }
        }
        // The ids an event row refers to come from the interning tables in this very transaction
        // (and the cache is emptied whenever another connection may have deleted from them), so
        // SQLite's foreign-key checks only repeat a lookup per reference per row: they were a
        // quarter of the CPU time of a 1M-row CSV import (4.1 s -> 3.2 s without them). The
        // pragma is a no-op inside a transaction, hence here.
        self.conn
            .pragma_update(None, "foreign_keys", false)
            .map_err(sql)?;
        let result = self.write_batch_unchecked(key, origin, fill);
        let restored = self.conn.pragma_update(None, "foreign_keys", true);
        let outcome = result?;
        restored.map_err(sql)?;
        Ok(outcome)
    }

    /// [`Store::write_batch`] once the batch key is known to be new and foreign keys are off.
    fn write_batch_unchecked<E, F>(
        &mut self,
        key: Option<&str>,
        origin: &str,
        fill: F,
    ) -> Result<BatchOutcome, E>
    where
        E: From<Error>,
        F: FnOnce(&mut EventSink<'_>) -> Result<(), E>,
    {
        let path = self.path.clone();
        let sql = sqlite_err(&path);
        // IMMEDIATE: the write lock from the start, so that no other connection can commit between
        // the data_version check below and this batch's inserts.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql)?;
        let result = (|| {
            let version: i64 = tx
                .query_row("PRAGMA data_version", [], |r| r.get(0))
                .map_err(sql)?;
            if self.cache.data_version != Some(version) {
                self.cache = Interned {
                    data_version: Some(version),
                    ..Interned::default()
                };
            }
            let mut sink = EventSink::new(&tx, &mut self.cache, &path)?;
            fill(&mut sink)?;
            sink.flush()?;
            let events = sink.count;
            drop(sink);
            tx.execute(
                "INSERT INTO batches (key, origin, events, written_at) VALUES (?1, ?2, ?3, ?4)",
                params![
                    key,
                    origin,
                    events as i64,
                    jiff::Timestamp::now().as_microsecond()
                ],
            )
            .map_err(sql)?;
            tx.commit().map_err(sql)?;
            Ok(BatchOutcome::Written { events })
        })();
        if result.is_err() {
            // The transaction was rolled back when `tx` dropped; ids cached during it are invalid.
            self.cache = Interned::default();
        }
        result
    }

    /// Deletes events older than `cutoff` (retention), and with them every window title, element,
    /// case, session, user and host that only they referred to, so that what retention removes is
    /// gone from the tables too. The freed pages are overwritten (`secure_delete`), not just unlinked.
    /// Returns how many events were deleted.
    pub fn delete_before(&mut self, cutoff: Micros) -> Result<u64> {
        let path = self.path.clone();
        let sql = sqlite_err(&path);
        self.conn
            .pragma_update(None, "secure_delete", true)
            .map_err(sql)?;
        let result = (|| {
            let tx = self.conn.transaction().map_err(sql)?;
            tx.execute(
                "DELETE FROM snapshots WHERE event_id IN (SELECT id FROM events WHERE ts < ?1)",
                [cutoff],
            )
            .map_err(sql)?;
            let n = tx
                .execute("DELETE FROM events WHERE ts < ?1", [cutoff])
                .map_err(sql)?;
            if n > 0 {
                tx.execute_batch(
                    "DELETE FROM cases WHERE id NOT IN (SELECT case_id FROM events WHERE case_id IS NOT NULL);
                     DELETE FROM windows WHERE id NOT IN (SELECT window_id FROM events);
                     DELETE FROM elements WHERE id NOT IN (SELECT element_id FROM events WHERE element_id IS NOT NULL);
                     DELETE FROM sessions WHERE id NOT IN (SELECT session_id FROM events)
                         AND id NOT IN (SELECT session_id FROM cases);
                     DELETE FROM users WHERE id NOT IN (SELECT user_id FROM sessions);
                     DELETE FROM hosts WHERE id NOT IN (SELECT host_id FROM sessions);",
                )
                .map_err(sql)?;
            }
            tx.commit().map_err(sql)?;
            Ok(n as u64)
        })();
        // Interned ids may now point at deleted rows.
        self.cache = Interned::default();
        self.conn
            .pragma_update(None, "secure_delete", false)
            .map_err(sql)?;
        result
    }

    /// Erases one recorded person: every event of the user `user` (the pseudonym the log holds),
    /// and with them every window title, element, case, session, host and the user's own row that
    /// only those events used, so that the strings only this person produced are gone from the
    /// tables too (what others also used stays). The freed pages are overwritten (`secure_delete`).
    /// The erasure is recorded as a batch of 0 events with origin `erasure` (no name), so that
    /// [`Store::version`] changes and a miner knows to mine again. Returns the number of events
    /// erased, or `None` when the log has no such user.
    pub fn erase_user(&mut self, user: &str) -> Result<Option<u64>> {
        let path = self.path.clone();
        let sql = sqlite_err(&path);
        self.conn
            .pragma_update(None, "secure_delete", true)
            .map_err(sql)?;
        // Every parent row deleted below is one that no row refers to any more (the NOT IN
        // clauses), so SQLite's own check would only repeat it, at the cost of a scan of `events`
        // (no index on window_id or element_id) per deleted row: 20 s instead of 0.6 s on 1M events.
        self.conn
            .pragma_update(None, "foreign_keys", false)
            .map_err(sql)?;
        let result = (|| {
            let tx = self.conn.transaction().map_err(sql)?;
            let uid: Option<i64> = tx
                .query_row("SELECT id FROM users WHERE name = ?1", [user], |r| r.get(0))
                .optional()
                .map_err(sql)?;
            let Some(uid) = uid else {
                return Ok(None);
            };
            tx.execute(
                "DELETE FROM snapshots WHERE event_id IN (SELECT e.id FROM events e
                     JOIN sessions s ON s.id = e.session_id WHERE s.user_id = ?1)",
                [uid],
            )
            .map_err(sql)?;
            let n = tx
                .execute(
                    "DELETE FROM events WHERE session_id IN (SELECT id FROM sessions WHERE user_id = ?1)",
                    [uid],
                )
                .map_err(sql)?;
            tx.execute(
                "DELETE FROM cases WHERE session_id IN (SELECT id FROM sessions WHERE user_id = ?1)",
                [uid],
            )
            .map_err(sql)?;
            tx.execute("DELETE FROM sessions WHERE user_id = ?1", [uid])
                .map_err(sql)?;
            tx.execute_batch(
                "DELETE FROM windows WHERE id NOT IN (SELECT window_id FROM events);
                 DELETE FROM elements WHERE id NOT IN (SELECT element_id FROM events WHERE element_id IS NOT NULL);
                 DELETE FROM users WHERE id NOT IN (SELECT user_id FROM sessions);
                 DELETE FROM hosts WHERE id NOT IN (SELECT host_id FROM sessions);",
            )
            .map_err(sql)?;
            tx.execute(
                "INSERT INTO batches (key, origin, events, written_at) VALUES (NULL, 'erasure', 0, ?1)",
                [jiff::Timestamp::now().as_microsecond()],
            )
            .map_err(sql)?;
            tx.commit().map_err(sql)?;
            Ok(Some(n as u64))
        })();
        // Interned ids may now point at deleted rows.
        self.cache = Interned::default();
        self.conn
            .pragma_update(None, "foreign_keys", true)
            .map_err(sql)?;
        self.conn
            .pragma_update(None, "secure_delete", false)
            .map_err(sql)?;
        result
    }

    /// Counts of what the log holds.
    pub fn stats(&self) -> Result<Stats> {
        let one = |sql: &str| -> Result<i64> {
            self.conn
                .query_row(sql, [], |r| r.get(0))
                .map_err(|e| self.sql_err(e))
        };
        let mut stats = Stats {
            users: one("SELECT count(DISTINCT s.user_id) FROM sessions s WHERE EXISTS (SELECT 1 FROM events e WHERE e.session_id = s.id)")? as u64,
            hosts: one("SELECT count(DISTINCT s.host_id) FROM sessions s WHERE EXISTS (SELECT 1 FROM events e WHERE e.session_id = s.id)")? as u64,
            sessions: one("SELECT count(*) FROM sessions s WHERE EXISTS (SELECT 1 FROM events e WHERE e.session_id = s.id)")? as u64,
            ..Stats::default()
        };
        // The figures over events in one pass, counted here: five SQL scans (two DISTINCT and a
        // GROUP BY sorting the log) took 8 s of CPU on 10M events, one pass takes about one.
        let err = |e| self.sql_err(e);
        let mut stmt = self
            .conn
            .prepare("SELECT ts, kind, app_id, window_id FROM events")
            .map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        let (mut apps, mut windows) = (Vec::<bool>::new(), Vec::<bool>::new());
        let mut kinds = BTreeMap::<i64, u64>::new();
        let seen = |ids: &mut Vec<bool>, id: i64| {
            let id = usize::try_from(id).unwrap_or(0);
            if ids.len() <= id {
                ids.resize(id + 1, false);
            }
            ids[id] = true;
        };
        while let Some(r) = rows.next().map_err(err)? {
            let ts: i64 = r.get(0).map_err(err)?;
            stats.events += 1;
            stats.first_ts = Some(stats.first_ts.map_or(ts, |t| t.min(ts)));
            stats.last_ts = Some(stats.last_ts.map_or(ts, |t| t.max(ts)));
            *kinds.entry(r.get(1).map_err(err)?).or_default() += 1;
            seen(&mut apps, r.get(2).map_err(err)?);
            seen(&mut windows, r.get(3).map_err(err)?);
        }
        stats.apps = apps.iter().filter(|&&s| s).count() as u64;
        stats.windows = windows.iter().filter(|&&s| s).count() as u64;
        for (code, n) in kinds {
            stats.count_kind(code, n);
        }
        Ok(stats)
    }

    /// The interning tables, for resolving the ids of [`EventRow`]s.
    pub fn dictionary(&self) -> Result<Dictionary> {
        let mut d = Dictionary::default();
        self.read_names("SELECT id, name FROM users", &mut d.users)?;
        self.read_names("SELECT id, name FROM hosts", &mut d.hosts)?;
        self.read_names("SELECT id, name FROM apps", &mut d.apps)?;
        self.read_names("SELECT id, title FROM windows", &mut d.windows)?;
        self.read_names("SELECT id, name FROM cases", &mut d.cases)?;
        let err = |e| self.sql_err(e);
        let mut stmt = self
            .conn
            .prepare("SELECT id, name, user_id, host_id FROM sessions ORDER BY id")
            .map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let id: usize = r.get::<_, i64>(0).map_err(err)? as usize;
            if d.sessions.len() <= id {
                d.sessions.resize(id + 1, SessionInfo::default());
            }
            d.sessions[id] = SessionInfo {
                name: r.get(1).map_err(err)?,
                user: r.get::<_, i64>(2).map_err(err)? as u32,
                host: r.get::<_, i64>(3).map_err(err)? as u32,
            };
        }
        let mut stmt = self
            .conn
            .prepare("SELECT id, role, name, ident, path FROM elements ORDER BY id")
            .map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        d.elements.push(None);
        while let Some(r) = rows.next().map_err(err)? {
            let id: usize = r.get::<_, i64>(0).map_err(err)? as usize;
            if d.elements.len() <= id {
                d.elements.resize(id + 1, None);
            }
            let part = |i| -> rusqlite::Result<Option<String>> {
                let s: String = r.get(i)?;
                Ok((!s.is_empty()).then_some(s))
            };
            d.elements[id] = Some(Element {
                role: part(1).map_err(err)?,
                name: part(2).map_err(err)?,
                id: part(3).map_err(err)?,
                path: part(4).map_err(err)?,
            });
        }
        Ok(d)
    }

    fn read_names(&self, sql: &str, into: &mut Vec<String>) -> Result<()> {
        let err = |e| self.sql_err(e);
        let mut stmt = self.conn.prepare(sql).map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        into.clear();
        into.push(String::new());
        while let Some(r) = rows.next().map_err(err)? {
            let id = r.get::<_, i64>(0).map_err(err)? as usize;
            if into.len() <= id {
                into.resize(id + 1, String::new());
            }
            into[id] = r.get(1).map_err(err)?;
        }
        Ok(())
    }

    /// Visits every event in (session, time) order as an [`EventRow`] of interned ids.
    pub fn scan<E, F>(&self, visit: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(EventRow<'_>) -> Result<(), E>,
    {
        self.scan_rows("ORDER BY session_id, ts, id", [], visit)
    }

    /// Visits the events that `tail` (the query after `FROM events`) selects, in its order. The
    /// one place that knows the column list [`read_row`] decodes.
    fn scan_rows<E, F, P>(&self, tail: &str, params: P, mut visit: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(EventRow<'_>) -> Result<(), E>,
        P: rusqlite::Params,
    {
        let err = |e| self.sql_err(e);
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, session_id, ts, kind, app_id, window_id, element_id, x, y, wx, wy,
                        text, value_hash, case_id, attrs
                 FROM events {tail}"
            ))
            .map_err(err)?;
        let mut rows = stmt.query(params).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let row = read_row(r).map_err(err)?;
            visit(row)?;
        }
        Ok(())
    }

    /// Visits every event in (session, time) order with its strings resolved.
    pub fn for_each_event<E, F>(&self, mut visit: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(&Event) -> Result<(), E>,
    {
        let d = self.dictionary()?;
        self.scan(|row| visit(&d.resolve(&row)))
    }

    /// All events, resolved, in (session, time) order. For small logs and tests; large logs use
    /// [`Store::scan`] or [`Store::for_each_event`].
    pub fn events(&self) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        self.for_each_event(|e| -> Result<()> {
            out.push(e.clone());
            Ok(())
        })?;
        Ok(out)
    }

    /// Visits up to `limit` events with ids in `after + 1 ..= upto`, in id order (the order they
    /// were written): what an uploader sends next. Ids only grow, so a cursor of the last id
    /// visited resumes exactly where it stopped.
    pub fn scan_after<E, F>(&self, after: i64, upto: i64, limit: usize, visit: F) -> Result<(), E>
    where
        E: From<Error>,
        F: FnMut(EventRow<'_>) -> Result<(), E>,
    {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.scan_rows(
            "WHERE id > ?1 AND id <= ?2 ORDER BY id LIMIT ?3",
            params![after, upto, limit],
            visit,
        )
    }

    /// The newest `limit` events of `user` (the name as the log holds it, a pseudonym when the
    /// recorder's policy made one), newest first, exactly as stored: what a person's own page shows
    /// them. Only the strings those events use are read, not the whole dictionary.
    pub fn latest_of_user(&self, user: &str, limit: usize) -> Result<Vec<Event>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut out = Vec::new();
        self.scan_rows(
            "WHERE session_id IN (SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id
                                  WHERE u.name = ?1)
             ORDER BY ts DESC, id DESC LIMIT ?2",
            params![user, limit],
            |row| -> Result<()> {
                out.push(self.resolve_one(user, &row)?);
                Ok(())
            },
        )?;
        Ok(out)
    }

    /// The event a row stands for, its strings read by id (for a few rows; many rows resolve
    /// through one [`Dictionary`]).
    fn resolve_one(&self, user: &str, row: &EventRow<'_>) -> Result<Event> {
        let err = |e| self.sql_err(e);
        let name = |sql: &str, id: u32| -> Result<String> {
            self.conn
                .prepare_cached(sql)
                .and_then(|mut st| st.query_row([i64::from(id)], |r| r.get(0)))
                .optional()
                .map(Option::unwrap_or_default)
                .map_err(err)
        };
        let (session, host): (String, String) = self
            .conn
            .prepare_cached(
                "SELECT s.name, h.name FROM sessions s JOIN hosts h ON h.id = s.host_id
                 WHERE s.id = ?1",
            )
            .and_then(|mut st| {
                st.query_row([i64::from(row.session)], |r| Ok((r.get(0)?, r.get(1)?)))
            })
            .map_err(err)?;
        let element = if row.element == 0 {
            None
        } else {
            self.conn
                .prepare_cached("SELECT role, name, ident, path FROM elements WHERE id = ?1")
                .and_then(|mut st| {
                    st.query_row([i64::from(row.element)], |r| {
                        let part = |i| -> rusqlite::Result<Option<String>> {
                            let s: String = r.get(i)?;
                            Ok((!s.is_empty()).then_some(s))
                        };
                        Ok(Element {
                            role: part(0)?,
                            name: part(1)?,
                            id: part(2)?,
                            path: part(3)?,
                        })
                    })
                })
                .optional()
                .map_err(err)?
        };
        Ok(Event {
            user: user.to_owned(),
            host,
            session,
            ts: row.ts,
            kind: row.kind,
            app: name("SELECT name FROM apps WHERE id = ?1", row.app)?,
            window: name("SELECT title FROM windows WHERE id = ?1", row.window)?,
            element,
            x: row.x,
            y: row.y,
            wx: row.wx,
            wy: row.wy,
            text: row.text.map(str::to_owned),
            value_hash: row.value_hash,
            case: match row.case {
                0 => None,
                c => Some(name("SELECT name FROM cases WHERE id = ?1", c)?),
            },
            attrs: row
                .attrs
                .and_then(|a| serde_json::from_str(a).ok())
                .unwrap_or_default(),
        })
    }

    /// The id of the newest event (0 for an empty log).
    pub fn last_event_id(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT coalesce(max(id), 0) FROM events", [], |r| r.get(0))
            .map_err(|e| self.sql_err(e))
    }

    /// A cheap fingerprint of the log's contents: the last batch id and the last event id. It
    /// changes with every written batch and with every retention delete of the newest events.
    pub fn version(&self) -> Result<(i64, i64)> {
        self.conn
            .query_row(
                "SELECT (SELECT coalesce(max(id), 0) FROM batches),
                        (SELECT coalesce(max(id), 0) FROM events)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.sql_err(e))
    }

    /// Stores screen snapshots for events already written: each is attached to the event of
    /// session `session` at time `ts` whose kind is one of `kinds` (the recorder knows when and
    /// what it photographed, not the id the event got). One transaction; returns, per snapshot,
    /// whether its event was found (a snapshot whose event is not written yet can be tried again).
    pub fn attach_snapshots(
        &mut self,
        session: &str,
        snaps: &[NewSnapshot<'_>],
    ) -> Result<Vec<bool>> {
        let path = self.path.clone();
        let sql = sqlite_err(&path);
        let tx = self.conn.transaction().map_err(sql)?;
        let mut found = Vec::with_capacity(snaps.len());
        {
            let mut find = tx
                .prepare_cached(
                    "SELECT e.id, e.kind FROM events e JOIN sessions s ON s.id = e.session_id
                     WHERE s.name = ?1 AND e.ts = ?2 ORDER BY e.id DESC",
                )
                .map_err(sql)?;
            let mut put = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO snapshots (event_id, png, width, height, ocr)
                     VALUES (?1, ?2, ?3, ?4, NULL)",
                )
                .map_err(sql)?;
            for s in snaps {
                let mut rows = find.query(params![session, s.ts]).map_err(sql)?;
                let mut id = None;
                while let Some(r) = rows.next().map_err(sql)? {
                    let kind = EventKind::from_code(r.get(1).map_err(sql)?);
                    if kind.is_some_and(|k| s.kinds.contains(&k)) {
                        id = Some(r.get::<_, i64>(0).map_err(sql)?);
                        break;
                    }
                }
                if let Some(id) = id {
                    put.execute(params![id, s.png, s.width, s.height])
                        .map_err(sql)?;
                }
                found.push(id.is_some());
            }
        }
        tx.commit().map_err(sql)?;
        Ok(found)
    }

    /// The snapshot of an event, if it has one.
    pub fn snapshot(&self, event_id: i64) -> Result<Option<Snapshot>> {
        self.conn
            .query_row(
                "SELECT event_id, png, width, height, ocr FROM snapshots WHERE event_id = ?1",
                [event_id],
                read_snapshot,
            )
            .optional()
            .map_err(|e| self.sql_err(e))
    }

    /// Every snapshot, in event order; `unread_only` keeps those no OCR pass has read yet.
    pub fn snapshots(&self, unread_only: bool) -> Result<Vec<Snapshot>> {
        let mut stmt = self
            .conn
            .prepare(if unread_only {
                "SELECT event_id, png, width, height, ocr FROM snapshots WHERE ocr IS NULL ORDER BY event_id"
            } else {
                "SELECT event_id, png, width, height, ocr FROM snapshots ORDER BY event_id"
            })
            .map_err(|e| self.sql_err(e))?;
        let rows = stmt
            .query_map([], read_snapshot)
            .map_err(|e| self.sql_err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.sql_err(e))
    }

    /// Records what OCR read in a snapshot (already filtered by the caller's privacy policy) and,
    /// when `element` is given and the event has none, makes it the event's element, so that
    /// actions in apps without an accessibility tree can be told apart.
    pub fn set_snapshot_text(
        &mut self,
        event_id: i64,
        text: &str,
        element: Option<&Element>,
    ) -> Result<()> {
        let path = self.path.clone();
        let sql = sqlite_err(&path);
        let tx = self.conn.transaction().map_err(sql)?;
        tx.execute(
            "UPDATE snapshots SET ocr = ?2 WHERE event_id = ?1",
            params![event_id, text],
        )
        .map_err(sql)?;
        if let Some(e) = element {
            let parts = [&e.role, &e.name, &e.id, &e.path].map(|p| p.clone().unwrap_or_default());
            tx.execute(
                "INSERT OR IGNORE INTO elements (role, name, ident, path) VALUES (?1, ?2, ?3, ?4)",
                params![parts[0], parts[1], parts[2], parts[3]],
            )
            .map_err(sql)?;
            tx.execute(
                "UPDATE events SET element_id = (SELECT id FROM elements
                     WHERE role = ?2 AND name = ?3 AND ident = ?4 AND path = ?5)
                 WHERE id = ?1 AND element_id IS NULL",
                params![event_id, parts[0], parts[1], parts[2], parts[3]],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }

    /// The underlying connection, for crates downstream that keep their own tables in the same file
    /// (the miner's results). They must not write to the tables of this module.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// A snapshot on its way into the store (see [`Store::attach_snapshots`]).
#[derive(Debug, Clone, Copy)]
pub struct NewSnapshot<'a> {
    /// The time of the event it shows.
    pub ts: Micros,
    /// The kinds that event may have (a press becomes a click, a double click or a drag).
    pub kinds: &'a [EventKind],
    pub png: &'a [u8],
    pub width: u32,
    pub height: u32,
}

/// A stored snapshot of an event's target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub event_id: i64,
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// What an OCR pass read in it, after the privacy filter; `None` until one ran.
    pub ocr: Option<String>,
}

fn read_snapshot(r: &rusqlite::Row<'_>) -> rusqlite::Result<Snapshot> {
    Ok(Snapshot {
        event_id: r.get(0)?,
        png: r.get(1)?,
        width: r.get(2)?,
        height: r.get(3)?,
        ocr: r.get(4)?,
    })
}

/// Creates a missing database file readable by its owner only: it holds people's work activity.
/// SQLite gives the `-wal` and `-shm` files it creates the database file's permissions, so they
/// follow. An existing file keeps the permissions its owner chose.
fn create_private(path: &Path) {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    // An existing file (AlreadyExists) is the usual case; a missing directory or a read-only
    // place SQLite reports next, in its own words, so this error is not the one to show.
    let _ = options.open(path);
}

/// Names the database file in a SQLite error. Returned as a closure for `map_err`, where `self` is
/// often borrowed by a transaction.
fn sqlite_err(path: &Path) -> impl Fn(rusqlite::Error) -> Error + Copy + '_ {
    move |source| Error::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

/// Like [`sqlite_err`], but a file that is not SQLite at all gets a plain message.
fn not_a_database(path: &Path, e: rusqlite::Error) -> Error {
    match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
            Error::Schema {
                path: path.to_path_buf(),
                message: "not a SQLite database".into(),
            }
        }
        e => sqlite_err(path)(e),
    }
}

fn is_busy(e: &Error) -> bool {
    matches!(
        e,
        Error::Sqlite {
            source: rusqlite::Error::SqliteFailure(f, _),
            ..
        } if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn read_row<'r>(r: &'r rusqlite::Row<'_>) -> rusqlite::Result<EventRow<'r>> {
    let kind_code: i64 = r.get(3)?;
    let kind = EventKind::from_code(kind_code)
        .ok_or_else(|| rusqlite::Error::IntegralValueOutOfRange(3, kind_code))?;
    let text = match r.get_ref(11)? {
        rusqlite::types::ValueRef::Text(t) => Some(std::str::from_utf8(t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(11, rusqlite::types::Type::Text, Box::new(e))
        })?),
        _ => None,
    };
    let attrs = match r.get_ref(14)? {
        rusqlite::types::ValueRef::Text(t) => Some(std::str::from_utf8(t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(14, rusqlite::types::Type::Text, Box::new(e))
        })?),
        _ => None,
    };
    Ok(EventRow {
        id: r.get(0)?,
        session: r.get::<_, i64>(1)? as u32,
        ts: r.get(2)?,
        kind,
        app: r.get::<_, i64>(4)? as u32,
        window: r.get::<_, i64>(5)? as u32,
        element: r.get::<_, Option<i64>>(6)?.unwrap_or(0) as u32,
        x: r.get(7)?,
        y: r.get(8)?,
        wx: r.get(9)?,
        wy: r.get(10)?,
        text,
        value_hash: r.get::<_, Option<i64>>(12)?.map(|v| ValueHash(v as u64)),
        case: r.get::<_, Option<i64>>(13)?.unwrap_or(0) as u32,
        attrs,
    })
}

impl Dictionary {
    /// The event a row stands for.
    pub fn resolve(&self, row: &EventRow<'_>) -> Event {
        let session = self
            .sessions
            .get(row.session as usize)
            .cloned()
            .unwrap_or_default();
        let name = |v: &Vec<String>, i: u32| v.get(i as usize).cloned().unwrap_or_default();
        Event {
            user: name(&self.users, session.user),
            host: name(&self.hosts, session.host),
            session: session.name,
            ts: row.ts,
            kind: row.kind,
            app: name(&self.apps, row.app),
            window: name(&self.windows, row.window),
            element: self.elements.get(row.element as usize).cloned().flatten(),
            x: row.x,
            y: row.y,
            wx: row.wx,
            wy: row.wy,
            text: row.text.map(str::to_owned),
            value_hash: row.value_hash,
            case: (row.case != 0).then(|| name(&self.cases, row.case)),
            attrs: row
                .attrs
                .and_then(|a| serde_json::from_str(a).ok())
                .unwrap_or_default(),
        }
    }
}

/// Receives the events of one batch inside its transaction. Built by [`Store::write_batch`].
pub struct EventSink<'t> {
    tx: &'t Transaction<'t>,
    cache: &'t mut Interned,
    path: &'t Path,
    insert_event: Statement<'t>,
    /// The [`ROWS_PER_INSERT`]-row statement, prepared when a batch first fills it.
    insert_many: Option<Statement<'t>>,
    /// Rows waiting for the next insert; only the first `pending_len` are current, the rest keep
    /// their buffers for reuse.
    pending: Vec<PendingRow>,
    pending_len: usize,
    count: u64,
}

/// Events inserted by one execution of a multi-row INSERT. Executing a statement has a fixed cost
/// in SQLite (opening a cursor, resetting and unbinding the statement, the VDBE loop around the
/// insert) that one row per execution paid a third of the insert time for; at 32 rows it is small
/// and the 448 parameters stay far below SQLite's limit of 32,766.
const ROWS_PER_INSERT: usize = 32;

/// The columns of `events` that a row inserts, in the order of [`PendingRow::bind`].
const EVENT_COLUMNS: usize = 14;

/// One event as it will be inserted: interned ids, and the text and attributes (as JSON) in buffers
/// reused from row to row.
#[derive(Default)]
struct PendingRow {
    session: i64,
    ts: Micros,
    kind: i64,
    app: i64,
    window: i64,
    element: Option<i64>,
    x: Option<i32>,
    y: Option<i32>,
    wx: Option<i32>,
    wy: Option<i32>,
    text: Option<String>,
    value_hash: Option<i64>,
    case: Option<i64>,
    has_attrs: bool,
    attrs: Vec<u8>,
}

impl PendingRow {
    /// Binds this row's values to parameters `first..first + EVENT_COLUMNS` (1-based).
    fn bind(&self, stmt: &mut Statement<'_>, first: usize) -> rusqlite::Result<()> {
        stmt.raw_bind_parameter(first, self.session)?;
        stmt.raw_bind_parameter(first + 1, self.ts)?;
        stmt.raw_bind_parameter(first + 2, self.kind)?;
        stmt.raw_bind_parameter(first + 3, self.app)?;
        stmt.raw_bind_parameter(first + 4, self.window)?;
        stmt.raw_bind_parameter(first + 5, self.element)?;
        stmt.raw_bind_parameter(first + 6, self.x)?;
        stmt.raw_bind_parameter(first + 7, self.y)?;
        stmt.raw_bind_parameter(first + 8, self.wx)?;
        stmt.raw_bind_parameter(first + 9, self.wy)?;
        stmt.raw_bind_parameter(first + 10, self.text.as_deref())?;
        stmt.raw_bind_parameter(first + 11, self.value_hash)?;
        stmt.raw_bind_parameter(first + 12, self.case)?;
        // serde_json writes UTF-8 only.
        let attrs = self
            .has_attrs
            .then(|| std::str::from_utf8(&self.attrs).expect("JSON is UTF-8"));
        stmt.raw_bind_parameter(first + 13, attrs)
    }
}

/// `INSERT INTO events (…) VALUES (…), …` for `rows` rows.
fn insert_events_sql(rows: usize) -> String {
    let one = format!("({})", vec!["?"; EVENT_COLUMNS].join(", "));
    format!(
        "INSERT INTO events (session_id, ts, kind, app_id, window_id, element_id, x, y, wx, wy,
                             text, value_hash, case_id, attrs)
         VALUES {}",
        vec![one; rows].join(", ")
    )
}

impl<'t> EventSink<'t> {
    fn new(tx: &'t Transaction<'t>, cache: &'t mut Interned, path: &'t Path) -> Result<Self> {
        let insert_event = tx
            .prepare(&insert_events_sql(1))
            .map_err(sqlite_err(path))?;
        Ok(EventSink {
            tx,
            cache,
            path,
            insert_event,
            insert_many: None,
            pending: Vec::new(),
            pending_len: 0,
            count: 0,
        })
    }

    fn sql_err(&self, source: rusqlite::Error) -> Error {
        sqlite_err(self.path)(source)
    }

    /// How many events this batch has received so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Adds one event to the batch.
    pub fn push(&mut self, e: &Event) -> Result<()> {
        self.push_with(e, None)
    }

    /// [`EventSink::push`] with `e.attrs` encoded already, as [`write_attrs_json`] writes them.
    pub(crate) fn push_encoded(&mut self, e: &Event, attrs_json: &str) -> Result<()> {
        self.push_with(e, Some(attrs_json))
    }

    fn push_with(&mut self, e: &Event, attrs_json: Option<&str>) -> Result<()> {
        if e.session.is_empty() {
            return Err(Error::Invalid("an event needs a session".into()));
        }
        // The last line of the log's time range: importers, ingest and the simulator say where a
        // bad time came from before it gets here; this catches any other producer (a recorder
        // on a machine whose clock is wrong).
        check_ts(e.ts).map_err(|m| Error::Invalid(format!("event time: {m}")))?;
        let session = match &self.cache.last_session {
            Some(l) if l.name == e.session && l.user == e.user && l.host == e.host => l.id,
            _ => {
                let user = intern(self.tx, &mut self.cache.users, &USERS, &e.user)
                    .map_err(|s| self.sql_err(s))?;
                let host = intern(self.tx, &mut self.cache.hosts, &HOSTS, &e.host)
                    .map_err(|s| self.sql_err(s))?;
                let id = self.session_id(&e.session, user, host)?;
                self.cache.last_session = Some(LastSession {
                    name: e.session.clone(),
                    user: e.user.clone(),
                    host: e.host.clone(),
                    id,
                });
                id
            }
        };
        let app =
            intern(self.tx, &mut self.cache.apps, &APPS, &e.app).map_err(|s| self.sql_err(s))?;
        let window = intern(self.tx, &mut self.cache.windows, &WINDOWS, &e.window)
            .map_err(|s| self.sql_err(s))?;
        let element = match &e.element {
            Some(el) if !el.is_empty() => Some(self.element_id(el)?),
            _ => None,
        };
        let case = match &e.case {
            Some(c) => Some(self.case_id(session, c)?),
            None => None,
        };
        if self.pending_len == self.pending.len() {
            self.pending.push(PendingRow::default());
        }
        let row = &mut self.pending[self.pending_len];
        row.has_attrs = !e.attrs.is_empty();
        if row.has_attrs {
            row.attrs.clear();
            match attrs_json {
                Some(json) => row.attrs.extend_from_slice(json.as_bytes()),
                None => write_attrs_json(&mut row.attrs, &e.attrs),
            }
        }
        row.session = session;
        row.ts = e.ts;
        row.kind = i64::from(e.kind.code());
        row.app = app;
        row.window = window;
        row.element = element;
        row.x = e.x;
        row.y = e.y;
        row.wx = e.wx;
        row.wy = e.wy;
        row.text.clone_from(&e.text);
        row.value_hash = e.value_hash.map(|v| v.0 as i64);
        row.case = case;
        self.pending_len += 1;
        self.count += 1;
        if self.pending_len == ROWS_PER_INSERT {
            self.flush()?;
        }
        Ok(())
    }

    /// Inserts the pending rows. [`Store::write_batch`] calls it before it commits.
    fn flush(&mut self) -> Result<()> {
        let n = std::mem::take(&mut self.pending_len);
        let rows = &self.pending[..n];
        let result = if n == ROWS_PER_INSERT {
            let stmt = match &mut self.insert_many {
                Some(stmt) => stmt,
                None => self.insert_many.insert(
                    self.tx
                        .prepare(&insert_events_sql(ROWS_PER_INSERT))
                        .map_err(sqlite_err(self.path))?,
                ),
            };
            rows.iter()
                .enumerate()
                .try_for_each(|(i, row)| row.bind(stmt, 1 + i * EVENT_COLUMNS))
                .and_then(|()| stmt.raw_execute().map(drop))
        } else {
            rows.iter().try_for_each(|row| {
                row.bind(&mut self.insert_event, 1)?;
                self.insert_event.raw_execute().map(drop)
            })
        };
        result.map_err(sqlite_err(self.path))
    }

    fn session_id(&mut self, name: &str, user: i64, host: i64) -> Result<i64> {
        if let Some(&id) = self
            .cache
            .sessions
            .get(&(user, host))
            .and_then(|m| m.get(name))
        {
            return Ok(id);
        }
        let id = lookup_or_insert(
            self.tx,
            &Lookup {
                select: "SELECT id FROM sessions WHERE name = ?1 AND user_id = ?2 AND host_id = ?3",
                insert: "INSERT INTO sessions (name, user_id, host_id) VALUES (?1, ?2, ?3)
                         ON CONFLICT DO NOTHING",
            },
            params![name, user, host],
        )
        .map_err(|s| self.sql_err(s))?;
        self.cache
            .sessions
            .entry((user, host))
            .or_default()
            .insert(name.to_owned(), id);
        Ok(id)
    }

    fn element_id(&mut self, el: &Element) -> Result<i64> {
        if let Some(&id) = self.cache.elements.get(el) {
            return Ok(id);
        }
        let part = |p: &Option<String>| p.clone().unwrap_or_default();
        let id = lookup_or_insert(
            self.tx,
            &Lookup {
                select: "SELECT id FROM elements
                         WHERE role = ?1 AND name = ?2 AND ident = ?3 AND path = ?4",
                insert: "INSERT INTO elements (role, name, ident, path) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT DO NOTHING",
            },
            params![part(&el.role), part(&el.name), part(&el.id), part(&el.path)],
        )
        .map_err(|s| self.sql_err(s))?;
        self.cache.elements.insert(el.clone(), id);
        Ok(id)
    }

    fn case_id(&mut self, session: i64, name: &str) -> Result<i64> {
        if let Some(&id) = self.cache.cases.get(&session).and_then(|m| m.get(name)) {
            return Ok(id);
        }
        let id = lookup_or_insert(
            self.tx,
            &Lookup {
                select: "SELECT id FROM cases WHERE session_id = ?1 AND name = ?2",
                insert:
                    "INSERT INTO cases (session_id, name) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            },
            params![session, name],
        )
        .map_err(|s| self.sql_err(s))?;
        self.cache
            .cases
            .entry(session)
            .or_default()
            .insert(name.to_owned(), id);
        Ok(id)
    }
}

/// Appends `serde_json::to_writer(out, attrs)`, byte for byte: a string that needs no escape (nearly
/// all) is copied as it is; serde_json's general serializer took 4 % of the storing thread of an
/// import.
pub(crate) fn write_attrs_json(out: &mut Vec<u8>, attrs: &BTreeMap<String, String>) {
    write_attrs_json_of(out, attrs.iter());
}

/// [`write_attrs_json`] of some of a map's attributes, in the map's order.
pub(crate) fn write_attrs_json_of<'a>(
    out: &mut Vec<u8>,
    attrs: impl Iterator<Item = (&'a String, &'a String)>,
) {
    fn string(out: &mut Vec<u8>, s: &str) {
        if needs_json_escape(s.as_bytes()) {
            serde_json::to_writer(&mut *out, s).expect("writing JSON to memory cannot fail");
        } else {
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
        }
    }
    out.push(b'{');
    for (i, (k, v)) in attrs.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, k);
        out.push(b':');
        string(out, v);
    }
    out.push(b'}');
}

/// Whether `s` has a byte serde_json escapes: a control character, the quote or the backslash.
/// Eight bytes at a time (attribute values are mostly a few dozen bytes, and one at a time this
/// check was 5 % of the storing thread of an Action Logger import).
fn needs_json_escape(s: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // Whether some byte of `w` is below `n` (n <= 128): exact as a yes/no.
    let below = |w: u64, n: u64| w.wrapping_sub(ONES * n) & !w & HIGHS != 0;
    let mut chunks = s.chunks_exact(8);
    for chunk in &mut chunks {
        let w = u64::from_ne_bytes(chunk.try_into().expect("chunks of eight"));
        if below(w, 0x20)
            || below(w ^ (ONES * u64::from(b'"')), 1)
            || below(w ^ (ONES * u64::from(b'\\')), 1)
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// The statements that find the id of an interned value, and add the value (doing nothing when it
/// is there already).
struct Lookup {
    select: &'static str,
    insert: &'static str,
}

const USERS: Lookup = Lookup {
    select: "SELECT id FROM users WHERE name = ?1",
    insert: "INSERT INTO users (name) VALUES (?1) ON CONFLICT DO NOTHING",
};
const HOSTS: Lookup = Lookup {
    select: "SELECT id FROM hosts WHERE name = ?1",
    insert: "INSERT INTO hosts (name) VALUES (?1) ON CONFLICT DO NOTHING",
};
const APPS: Lookup = Lookup {
    select: "SELECT id FROM apps WHERE name = ?1",
    insert: "INSERT INTO apps (name) VALUES (?1) ON CONFLICT DO NOTHING",
};
const WINDOWS: Lookup = Lookup {
    select: "SELECT id FROM windows WHERE title = ?1",
    insert: "INSERT INTO windows (title) VALUES (?1) ON CONFLICT DO NOTHING",
};

fn intern(
    tx: &Transaction<'_>,
    cache: &mut Map<String, i64>,
    lookup: &Lookup,
    value: &str,
) -> rusqlite::Result<i64> {
    if let Some(&id) = cache.get(value) {
        return Ok(id);
    }
    let id = lookup_or_insert(tx, lookup, params![value])?;
    cache.insert(value.to_owned(), id);
    Ok(id)
}

/// The id of a value the cache does not know. The insert comes first: a value missing from the
/// cache is nearly always new to the database too (an import's window titles and elements), and
/// then one statement finds where it goes instead of a SELECT that misses and an INSERT that
/// searches again.
fn lookup_or_insert(
    tx: &Transaction<'_>,
    lookup: &Lookup,
    values: &[&dyn rusqlite::ToSql],
) -> rusqlite::Result<i64> {
    if tx.prepare_cached(lookup.insert)?.execute(values)? == 1 {
        return Ok(tx.last_insert_rowid());
    }
    tx.prepare_cached(lookup.select)?
        .query_row(values, |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn the_escape_check_sees_every_byte_serde_json_escapes(
            s in proptest::collection::vec(proptest::sample::select(
                vec![0u8, 0x1f, 0x20, 0x21, b'"', b'#', b'[', b'\\', b']', 0x7f, 0x80, 0xff, b'a'],
            ), 0..40)
        ) {
            let want = s.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
            proptest::prop_assert_eq!(needs_json_escape(&s), want);
        }

        /// The attributes are written as serde_json writes them, escapes included.
        #[test]
        fn attrs_json_is_serde_jsons(
            attrs in proptest::collection::btree_map(
                "(\\PC|[\"\\\\\u{0}-\u{1f}\u{7f}])*",
                "(\\PC|[\"\\\\\u{0}-\u{1f}\u{7f}])*",
                0..5,
            )
        ) {
            let mut ours = Vec::new();
            write_attrs_json(&mut ours, &attrs);
            proptest::prop_assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&attrs).unwrap()
            );
        }
    }

    #[test]
    fn stats_counted_in_one_pass_equal_the_sql_aggregates() {
        let mut store = Store::open_in_memory().unwrap();
        let cfg = crate::SimConfig {
            events_target: Some(3_000),
            ..crate::SimConfig::default()
        };
        let (events, _) = crate::simulate_to_vec(&cfg).unwrap();
        store
            .write_batch(None, "test", |sink| -> Result<()> {
                for e in &events {
                    sink.push(e)?;
                }
                Ok(())
            })
            .unwrap();
        let s = store.stats().unwrap();
        let one =
            |sql: &str| -> i64 { store.connection().query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(s.events as i64, one("SELECT count(*) FROM events"));
        assert_eq!(
            s.apps as i64,
            one("SELECT count(DISTINCT app_id) FROM events")
        );
        assert_eq!(
            s.windows as i64,
            one("SELECT count(DISTINCT window_id) FROM events")
        );
        assert_eq!(s.first_ts, Some(one("SELECT min(ts) FROM events")));
        assert_eq!(s.last_ts, Some(one("SELECT max(ts) FROM events")));
        let kinds = one("SELECT count(DISTINCT kind) FROM events");
        assert!(kinds > 3, "the simulated log has {kinds} kinds");
        assert_eq!(s.by_kind.len() as i64, kinds);
        for (name, n) in &s.by_kind {
            let code = name.parse::<EventKind>().unwrap().code();
            let sql = format!("SELECT count(*) FROM events WHERE kind = {code}");
            assert_eq!(*n as i64, one(&sql), "{name}");
        }
        assert!(s.windows > 1 && s.apps > 1, "{s:?}");
        assert_eq!(
            Store::open_in_memory().unwrap().stats().unwrap(),
            Stats::default()
        );
    }

    #[test]
    fn latest_of_user_reads_one_persons_newest_events_as_stored() {
        let mut store = Store::open_in_memory().unwrap();
        let mut events = Vec::new();
        for (i, user) in ["user-a", "user-b", "user-a", "user-a", "user-b"]
            .iter()
            .enumerate()
        {
            let mut e = Event::new("s1", user, 1_000_000 * (i as i64 + 1), EventKind::Type);
            e.app = format!("app{i}");
            e.window = format!("title {i}");
            e.text = Some(format!("text {i}"));
            e.value_hash = Some(ValueHash(i as u64 + 7));
            if i == 3 {
                e.element = Some(Element {
                    role: Some("entry".into()),
                    name: Some("Amount".into()),
                    ..Element::default()
                });
                e.case = Some("case-3".into());
            }
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
        let got = store.latest_of_user("user-a", 2).unwrap();
        // Newest first, only user-a's, each exactly as written.
        assert_eq!(got, vec![events[3].clone(), events[2].clone()]);
        assert_eq!(store.latest_of_user("user-a", 10).unwrap().len(), 3);
        assert!(store.latest_of_user("nobody", 10).unwrap().is_empty());
    }

    #[test]
    fn an_event_outside_the_logs_time_range_fails_its_batch() {
        let mut store = Store::open_in_memory().unwrap();
        for ts in [i64::MAX, -1, crate::event::TS_MAX + 1] {
            let err = store
                .write_batch(None, "test", |sink| -> Result<()> {
                    sink.push(&sample(1))?;
                    let mut late = sample(2);
                    late.ts = ts;
                    sink.push(&late)
                })
                .unwrap_err()
                .to_string();
            assert!(err.contains("event time"), "{err}");
        }
        assert_eq!(
            store.stats().unwrap().events,
            0,
            "a failed batch stores nothing"
        );
    }

    #[test]
    fn snapshots_attach_to_their_event_and_go_with_retention_and_erasure() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .write_batch(None, "test", |sink| -> Result<()> {
                for i in 0..3 {
                    sink.push(&sample(i))?;
                }
                let mut other = sample(3);
                other.user = "u2".into();
                sink.push(&other)
            })
            .unwrap();
        let clicks = [EventKind::Click, EventKind::Drag];
        let snap = |i: i64, png: &'static [u8]| NewSnapshot {
            ts: sample(i).ts,
            kinds: &clicks,
            png,
            width: 4,
            height: 2,
        };
        // The fourth event is u2's, in a session of its own name "s1" too: ts tells them apart.
        let mut typed = snap(0, b"typed");
        typed.kinds = &[EventKind::Type];
        let found = store
            .attach_snapshots(
                "s1",
                &[
                    snap(0, b"png-0"),
                    snap(2, b"png-2"),
                    snap(3, b"png-3"),
                    typed,
                ],
            )
            .unwrap();
        assert_eq!(
            found,
            [true, true, true, false],
            "a kind that differs finds nothing"
        );
        let all = store.snapshots(true).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].png, b"png-0");
        assert_eq!(
            (all[0].width, all[0].height, all[0].ocr.clone()),
            (4, 2, None)
        );

        let label = Element {
            role: Some("button".into()),
            name: Some("text 'Save'".into()),
            ..Element::default()
        };
        // An event that has an element keeps it; OCR only names element-less ones.
        store
            .set_snapshot_text(all[0].event_id, "Save", Some(&label))
            .unwrap();
        assert_eq!(
            store
                .snapshot(all[0].event_id)
                .unwrap()
                .unwrap()
                .ocr
                .as_deref(),
            Some("Save")
        );
        assert_eq!(store.snapshots(true).unwrap().len(), 2);
        assert_eq!(store.events().unwrap()[0].element, sample(0).element);
        store
            .connection()
            .execute(
                "UPDATE events SET element_id = NULL WHERE id = ?1",
                [all[1].event_id],
            )
            .unwrap();
        store
            .set_snapshot_text(all[1].event_id, "Save", Some(&label))
            .unwrap();
        let named = store
            .events()
            .unwrap()
            .into_iter()
            .find(|e| e.ts == sample(2).ts)
            .unwrap();
        assert_eq!(named.element, Some(label));

        store.delete_before(sample(1).ts).unwrap();
        assert!(
            store.snapshot(all[0].event_id).unwrap().is_none(),
            "retention takes it"
        );
        assert_eq!(store.snapshots(false).unwrap().len(), 2);
        store.erase_user("u2").unwrap();
        let left: Vec<i64> = store
            .snapshots(false)
            .unwrap()
            .iter()
            .map(|s| s.event_id)
            .collect();
        assert_eq!(left, [all[1].event_id], "erasure takes u2's");
    }

    #[cfg(unix)]
    #[test]
    fn a_new_database_and_its_wal_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("work.db");
        let mut store = Store::open(&path).unwrap();
        store
            .write_batch(None, "test", |sink| -> Result<()> { sink.push(&sample(1)) })
            .unwrap();
        for p in [path.clone(), dir.path().join("work.db-wal")] {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} has mode {mode:o}", p.display());
        }
    }

    #[test]
    fn batches_of_any_size_read_back_as_written() {
        // Sizes around the multi-row insert: none, fewer, exactly and more than one statement's
        // worth, with and without attributes, text, cases and elements.
        for n in [
            0,
            1,
            ROWS_PER_INSERT - 1,
            ROWS_PER_INSERT,
            2 * ROWS_PER_INSERT + 5,
        ] {
            let mut store = Store::open_in_memory().unwrap();
            let events: Vec<Event> = (0..n as i64)
                .map(|i| {
                    let mut e = sample(i);
                    if i % 3 == 0 {
                        e.attrs
                            .insert("url".into(), format!("https://x.example/{i}"));
                        e.text = Some(format!("typed \"{i}\""));
                        e.case = Some(format!("case {}", i / 4));
                    }
                    if i % 5 == 0 {
                        e.element = None;
                        e.x = None;
                    }
                    e
                })
                .collect();
            let outcome = store
                .write_batch(None, "test", |sink| -> Result<()> {
                    events.iter().try_for_each(|e| sink.push(e))
                })
                .unwrap();
            assert_eq!(outcome, BatchOutcome::Written { events: n as u64 });
            assert_eq!(store.events().unwrap(), events, "{n} events");
        }
    }

    fn sample(i: i64) -> Event {
        let mut e = Event::new(
            "s1",
            "u1",
            1_700_000_000_000_000 + i * 1000,
            EventKind::Click,
        );
        e.host = "h1".into();
        e.app = if i % 2 == 0 { "xterm" } else { "firefox" }.into();
        e.window = format!("Invoice {}", i % 3);
        e.element = Some(Element {
            role: Some("button".into()),
            name: Some("OK".into()),
            id: None,
            path: Some("frame 'Invoice' / push button 'OK'[0]".into()),
        });
        e.x = Some(10);
        e.y = Some(20);
        e.value_hash = Some(ValueHash(u64::MAX - i as u64));
        e.case = Some(format!("c{}", i / 2));
        e.attrs.insert("url".into(), "https://example.org".into());
        e
    }

    #[test]
    fn events_round_trip_through_the_store() {
        let mut store = Store::open_in_memory().unwrap();
        let events: Vec<Event> = (0..10).map(sample).collect();
        let out = store
            .write_batch(Some("k"), "test", |sink| -> Result<()> {
                for e in &events {
                    sink.push(e)?;
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(out, BatchOutcome::Written { events: 10 });
        assert_eq!(store.events().unwrap(), events);
        let stats = store.stats().unwrap();
        assert_eq!(stats.events, 10);
        assert_eq!(stats.apps, 2);
        assert_eq!(stats.windows, 3);
        assert_eq!(stats.users, 1);
        assert_eq!(stats.by_kind.get("click"), Some(&10));
        assert_eq!(stats.first_ts, Some(events[0].ts));
        assert_eq!(stats.last_ts, Some(events[9].ts));
    }

    #[test]
    fn a_batch_key_is_written_once() {
        let mut store = Store::open_in_memory().unwrap();
        let write = |store: &mut Store| {
            store
                .write_batch(Some("same"), "test", |sink| -> Result<()> {
                    sink.push(&sample(1))
                })
                .unwrap()
        };
        assert_eq!(write(&mut store), BatchOutcome::Written { events: 1 });
        assert_eq!(write(&mut store), BatchOutcome::AlreadyWritten);
        assert_eq!(store.stats().unwrap().events, 1);
    }

    #[test]
    fn a_failed_batch_leaves_nothing_and_later_batches_still_intern_correctly() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .write_batch(None, "first", |sink| -> Result<()> {
                sink.push(&sample(0))
            })
            .unwrap();
        let before = store.events().unwrap();
        let err = store
            .write_batch(Some("bad"), "second", |sink| -> Result<()> {
                let mut e = sample(1);
                e.app = "only-in-failed-batch".into();
                sink.push(&e)?;
                Err(Error::Invalid("boom".into()))
            })
            .unwrap_err();
        assert!(err.to_string().contains("boom"));
        assert_eq!(store.events().unwrap(), before);
        // The failed batch's key is free again, and its interned app must not leak a stale id.
        let mut e = sample(1);
        e.app = "only-in-failed-batch".into();
        store
            .write_batch(Some("bad"), "retry", |sink| -> Result<()> { sink.push(&e) })
            .unwrap();
        assert_eq!(
            store.events().unwrap().last().unwrap().app,
            "only-in-failed-batch"
        );
    }

    #[test]
    fn a_writer_forgets_ids_that_another_connection_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("log.db");
        let mut writer = Store::open(&db).unwrap();
        let old = sample(0);
        writer
            .write_batch(None, "old", |sink| -> Result<()> { sink.push(&old) })
            .unwrap();
        // Retention in another process deletes the event and every name only it used, which the
        // writer still has cached.
        let mut other = Store::open(&db).unwrap();
        assert_eq!(other.delete_before(old.ts + 1).unwrap(), 1);
        assert_eq!(other.stats().unwrap().windows, 0);
        let mut new = sample(3);
        new.window = old.window.clone();
        writer
            .write_batch(None, "new", |sink| -> Result<()> { sink.push(&new) })
            .unwrap();
        let orphans: i64 = other
            .connection()
            .query_row(
                "SELECT count(*) FROM events e WHERE NOT EXISTS
                     (SELECT 1 FROM windows w WHERE w.id = e.window_id)
                 OR NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = e.session_id)
                 OR NOT EXISTS (SELECT 1 FROM apps a WHERE a.id = e.app_id)
                 OR NOT EXISTS (SELECT 1 FROM elements l WHERE l.id = e.element_id)
                 OR NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = e.case_id)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(orphans, 0);
        assert_eq!(other.events().unwrap(), vec![new]);
        let fk: i64 = writer
            .connection()
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1, "foreign keys are on again after a batch");
    }

    #[test]
    fn reopening_a_database_keeps_events_and_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.db");
        {
            let mut store = Store::open(&path).unwrap();
            store
                .write_batch(None, "t", |sink| -> Result<()> { sink.push(&sample(0)) })
                .unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap() as usize, MIGRATIONS.len());
        assert_eq!(store.events().unwrap(), vec![sample(0)]);
    }

    #[test]
    fn many_processes_opening_a_new_file_at_once_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || Store::open(&path).map(|s| s.schema_version().unwrap()))
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap().unwrap() as usize, MIGRATIONS.len());
        }
    }

    #[test]
    fn a_newer_schema_or_a_foreign_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let newer = dir.path().join("newer.db");
        Connection::open(&newer)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = Store::open(&newer).err().unwrap().to_string();
        assert!(err.contains("newer.db") && err.contains("99"), "{err}");

        let foreign = dir.path().join("foreign.db");
        Connection::open(&foreign)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let err = Store::open(&foreign).err().unwrap().to_string();
        assert!(err.contains("not a taskmine UI log"), "{err}");

        let text = dir.path().join("text.db");
        std::fs::write(&text, "this is not sqlite at all, just some text bytes padded out ....................................").unwrap();
        let err = Store::open(&text).err().unwrap().to_string();
        assert!(err.contains("text.db"), "{err}");
    }

    #[test]
    fn scan_gives_interned_ids_that_the_dictionary_resolves() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .write_batch(None, "t", |sink| -> Result<()> {
                for i in 0..4 {
                    sink.push(&sample(i))?;
                }
                Ok(())
            })
            .unwrap();
        let d = store.dictionary().unwrap();
        let mut apps = Vec::new();
        store
            .scan(|row| -> Result<()> {
                apps.push(d.apps[row.app as usize].clone());
                assert_ne!(row.element, 0);
                Ok(())
            })
            .unwrap();
        assert_eq!(apps, ["xterm", "firefox", "xterm", "firefox"]);
    }

    #[test]
    fn retention_deletes_only_older_events_and_what_only_they_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.db");
        let mut store = Store::open(&path).unwrap();
        let mut old = sample(0);
        old.window = "Secret merger plan - Writer".into();
        old.session = "old-session".into();
        old.user = "departed-user".into();
        old.case = Some("old-case".into());
        store
            .write_batch(None, "t", |sink| -> Result<()> {
                sink.push(&old)?;
                for i in 1..10 {
                    sink.push(&sample(i))?;
                }
                Ok(())
            })
            .unwrap();
        let cutoff = sample(4).ts;
        assert_eq!(store.delete_before(cutoff).unwrap(), 4);
        let events = store.events().unwrap();
        assert_eq!(events.len(), 6);
        assert!(events.iter().all(|e| e.ts >= cutoff));
        let d = store.dictionary().unwrap();
        assert!(!d.windows.iter().any(|w| w.contains("merger")));
        assert!(!d.users.iter().any(|u| u == "departed-user"));
        assert!(!d.cases.iter().any(|c| c == "old-case"));
        // Ids cached before the deletion must not be reused for new events.
        let mut again = sample(20);
        again.window = "Invoice 0".into();
        store
            .write_batch(None, "t", |sink| -> Result<()> { sink.push(&again) })
            .unwrap();
        assert_eq!(store.events().unwrap().last().unwrap(), &again);
        // Nothing of the deleted title is left in the file's bytes once the WAL is folded back.
        store
            .connection()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
        drop(store);
        let bytes = std::fs::read(&path).unwrap();
        let needle = b"Secret merger plan";
        assert!(!bytes.windows(needle.len()).any(|w| w == needle));
    }
}
