//! Keeping mining results in the log's database, in tables of the miner's own (prefix `mining_`),
//! so that later commands (bots, the server) read them without mining again. The uilog tables are
//! never written.
//!
//! The miner's schema has its own version, in `mining_meta`, upgraded by [`MIGRATIONS`] like the
//! store's (uilog's `PRAGMA user_version` belongs to uilog).

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Error, Result};
use crate::mining::{InstanceRef, Mining, Routine};

/// The miner's schema migrations, in order. A released migration is never edited.
pub const MIGRATIONS: &[&str] = &[
    // 1: runs, routines (their evidence as JSON) and instances.
    "
    CREATE TABLE mining_runs (
        id INTEGER PRIMARY KEY,
        created_at INTEGER NOT NULL,
        events INTEGER NOT NULL,
        options TEXT NOT NULL,
        summary TEXT NOT NULL,
        actions TEXT NOT NULL,
        start_actions TEXT NOT NULL,
        withheld INTEGER NOT NULL
    );
    CREATE TABLE mining_routines (
        run_id INTEGER NOT NULL REFERENCES mining_runs(id) ON DELETE CASCADE,
        id INTEGER NOT NULL,
        steps INTEGER NOT NULL,
        instances INTEGER NOT NULL,
        hours_saved_per_month REAL NOT NULL,
        detail TEXT NOT NULL,
        PRIMARY KEY (run_id, id)
    );
    CREATE TABLE mining_instances (
        run_id INTEGER NOT NULL REFERENCES mining_runs(id) ON DELETE CASCADE,
        routine_id INTEGER NOT NULL,
        user TEXT NOT NULL,
        session TEXT NOT NULL,
        start_ts INTEGER NOT NULL,
        end_ts INTEGER NOT NULL,
        first_event INTEGER NOT NULL,
        last_event INTEGER NOT NULL,
        events INTEGER NOT NULL,
        variant INTEGER NOT NULL
    );
    CREATE INDEX mining_instances_by_routine ON mining_instances (run_id, routine_id);
    ",
];

fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |source| Error::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

/// The version of the mining tables in this database (0 when there are none yet).
pub fn schema_version(conn: &Connection, path: &Path) -> Result<u32> {
    let has: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'mining_meta'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql(path))?;
    if has.is_none() {
        return Ok(0);
    }
    let v: Option<String> = conn
        .query_row(
            "SELECT value FROM mining_meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql(path))?;
    v.map_or(Ok(0), |v| {
        v.parse().map_err(|_| Error::Schema {
            path: path.to_path_buf(),
            message: format!("mining schema version {v:?} is not a number"),
        })
    })
}

/// Creates or upgrades the mining tables.
pub fn migrate(conn: &Connection, path: &Path) -> Result<()> {
    let current = schema_version(conn, path)? as usize;
    if current > MIGRATIONS.len() {
        return Err(Error::Schema {
            path: path.to_path_buf(),
            message: format!(
                "mining tables of schema version {current} are newer than this taskmine understands ({}); upgrade taskmine",
                MIGRATIONS.len()
            ),
        });
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.unchecked_transaction().map_err(sql(path))?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS mining_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
        )
        .and_then(|_| tx.execute_batch(m))
        .and_then(|_| {
            tx.execute(
                "INSERT OR REPLACE INTO mining_meta (key, value) VALUES ('schema_version', ?1)",
                [(i + 1).to_string()],
            )
        })
        .and_then(|_| tx.commit())
        .map_err(|source| Error::Schema {
            path: path.to_path_buf(),
            message: format!(
                "migration of the mining tables to version {} failed: {source}",
                i + 1
            ),
        })?;
    }
    Ok(())
}

/// Deletes every stored run in which `user` (a pseudonym) has an instance, for the erasure of a
/// person: a run's routines count that person in their evidence (users, variants, durations), so
/// the run goes whole rather than being patched. Returns how many runs were deleted; a database
/// without mining tables has none.
pub fn forget_user(conn: &Connection, path: &Path, user: &str) -> Result<u64> {
    if schema_version(conn, path)? == 0 {
        // A link report is stored without a run when it linked a result mined on the fly.
        crate::link::stored::forget_user(conn, path, user)?;
        return Ok(0);
    }
    let tx = conn.unchecked_transaction().map_err(sql(path))?;
    let runs: Vec<i64> = {
        let mut stmt = tx
            .prepare("SELECT DISTINCT run_id FROM mining_instances WHERE user = ?1")
            .map_err(sql(path))?;
        let ids = stmt
            .query_map([user], |r| r.get(0))
            .map_err(sql(path))?
            .collect::<rusqlite::Result<_>>()
            .map_err(sql(path))?;
        ids
    };
    tx.execute_batch(LOG_SCHEMA).map_err(sql(path))?;
    tx.execute_batch(crate::objects::STORED_SCHEMA)
        .map_err(sql(path))?;
    // Link reports that counted the person go too, whichever run they came from.
    crate::link::stored::forget_user(&tx, path, user)?;
    for run in &runs {
        // Children first: the cascade needs foreign keys on, which this function does not assume.
        for table in crate::objects::STORED_TABLES.iter().copied().chain([
            "mining_run_logs",
            "mining_instances",
            "mining_routines",
            "mining_runs",
        ]) {
            let column = if table == "mining_runs" {
                "id"
            } else {
                "run_id"
            };
            tx.execute(&format!("DELETE FROM {table} WHERE {column} = ?1"), [run])
                .map_err(sql(path))?;
        }
    }
    tx.commit().map_err(sql(path))?;
    Ok(runs.len() as u64)
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("mining results serialize")
}

/// Stores a mining result as a new run; returns the run id.
pub fn save(conn: &Connection, path: &Path, m: &Mining) -> Result<i64> {
    migrate(conn, path)?;
    let err = sql(path);
    let tx = conn.unchecked_transaction().map_err(&err)?;
    let run = insert_run(&tx, path, m)?;
    tx.commit().map_err(&err)?;
    Ok(run)
}

fn insert_run(tx: &Connection, path: &Path, m: &Mining) -> Result<i64> {
    let err = sql(path);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    tx.execute(
        "INSERT INTO mining_runs (created_at, events, options, summary, actions, start_actions, withheld)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            now,
            m.summary.events as i64,
            json(&m.options),
            json(&m.summary),
            json(&m.actions),
            json(&m.start_actions),
            m.withheld as i64
        ],
    )
    .map_err(&err)?;
    let run = tx.last_insert_rowid();
    {
        let mut routine = tx
            .prepare(
                "INSERT INTO mining_routines (run_id, id, steps, instances, hours_saved_per_month, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(&err)?;
        let mut instance = tx
            .prepare(
                "INSERT INTO mining_instances (run_id, routine_id, user, session, start_ts, end_ts,
                                               first_event, last_event, events, variant)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .map_err(&err)?;
        for r in &m.routines {
            let detail = Routine {
                instances: Vec::new(),
                ..r.clone()
            };
            routine
                .execute(params![
                    run,
                    r.id,
                    r.steps.len() as i64,
                    r.instances.len() as i64,
                    r.score.hours_saved_per_month,
                    json(&detail)
                ])
                .map_err(&err)?;
            for i in &r.instances {
                instance
                    .execute(params![
                        run,
                        r.id,
                        i.user,
                        i.session,
                        i.start_ts,
                        i.end_ts,
                        i.first_event,
                        i.last_event,
                        i.events,
                        i.variant
                    ])
                    .map_err(&err)?;
            }
        }
    }
    Ok(run)
}

fn parse<T: serde::de::DeserializeOwned>(path: &Path, field: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::Parse {
        file: path.to_path_buf(),
        line: e.line() as u64,
        field: field.to_owned(),
        message: e.to_string(),
    })
}

/// The latest stored mining result, when there is one.
pub fn load_latest(conn: &Connection, path: &Path) -> Result<Option<Mining>> {
    if schema_version(conn, path)? == 0 {
        return Ok(None);
    }
    migrate(conn, path)?;
    let latest: Option<i64> = conn
        .query_row("SELECT max(id) FROM mining_runs", [], |r| r.get(0))
        .map_err(sql(path))?;
    match latest {
        Some(run) => load_run(conn, path, run),
        None => Ok(None),
    }
}

/// A stored run, by id.
fn load_run(conn: &Connection, path: &Path, run: i64) -> Result<Option<Mining>> {
    let err = sql(path);
    type Run = (String, String, String, String, i64);
    let found: Option<Run> = conn
        .query_row(
            "SELECT options, summary, actions, start_actions, withheld FROM mining_runs WHERE id = ?1",
            [run],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()
        .map_err(&err)?;
    let Some((options, summary, actions, starts, withheld)) = found else {
        return Ok(None);
    };
    let mut m = Mining {
        options: parse(path, "mining_runs.options", &options)?,
        summary: parse(path, "mining_runs.summary", &summary)?,
        actions: parse(path, "mining_runs.actions", &actions)?,
        start_actions: parse(path, "mining_runs.start_actions", &starts)?,
        routines: Vec::new(),
        withheld: withheld as u64,
        timings_ms: Vec::new(),
    };
    let mut stmt = conn
        .prepare("SELECT detail FROM mining_routines WHERE run_id = ?1 ORDER BY id")
        .map_err(&err)?;
    let details: Vec<String> = stmt
        .query_map([run], |r| r.get(0))
        .map_err(&err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(&err)?;
    for d in details {
        m.routines.push(parse(path, "mining_routines.detail", &d)?);
    }
    let mut stmt = conn
        .prepare(
            "SELECT routine_id, user, session, start_ts, end_ts, first_event, last_event, events, variant
             FROM mining_instances WHERE run_id = ?1 ORDER BY rowid",
        )
        .map_err(&err)?;
    let mut rows = stmt.query([run]).map_err(&err)?;
    while let Some(r) = rows.next().map_err(&err)? {
        let id: u32 = r.get(0).map_err(&err)?;
        let inst = InstanceRef {
            user: r.get(1).map_err(&err)?,
            session: r.get(2).map_err(&err)?,
            start_ts: r.get(3).map_err(&err)?,
            end_ts: r.get(4).map_err(&err)?,
            first_event: r.get(5).map_err(&err)?,
            last_event: r.get(6).map_err(&err)?,
            events: r.get(7).map_err(&err)?,
            variant: r.get(8).map_err(&err)?,
            span: (0, 0),
        };
        if let Some(routine) = m.routines.get_mut(id as usize - 1).filter(|x| x.id == id) {
            routine.instances.push(inst);
        }
    }
    Ok(Some(m))
}

/// Which state of the log a run was mined from, and its instances' spans, for runs that are reused
/// instead of mining again (the server's). A table beside the versioned ones rather than a
/// migration: a taskmine that knows only version 1 keeps reading this file, and ignores it.
const LOG_SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS mining_run_logs (
        run_id INTEGER PRIMARY KEY REFERENCES mining_runs(id) ON DELETE CASCADE,
        log_batches INTEGER NOT NULL,
        log_events INTEGER NOT NULL,
        spans BLOB NOT NULL
    );
";

/// The spans of every instance, routine by routine in instance order, as little-endian u32 pairs.
fn spans_blob(m: &Mining) -> Vec<u8> {
    let mut b = Vec::new();
    for i in m.routines.iter().flat_map(|r| &r.instances) {
        b.extend_from_slice(&i.span.0.to_le_bytes());
        b.extend_from_slice(&i.span.1.to_le_bytes());
    }
    b
}

/// Stores a mining result as a new run, with the log's version (`uilog::Store::version` when the
/// log was read) and the instances' spans, so that [`load_for_log`] can give it back whole while
/// the log is unchanged. Returns the run id.
pub fn save_for_log(
    conn: &Connection,
    path: &Path,
    m: &Mining,
    log_version: (i64, i64),
) -> Result<i64> {
    migrate(conn, path)?;
    let err = sql(path);
    let tx = conn.unchecked_transaction().map_err(&err)?;
    tx.execute_batch(LOG_SCHEMA).map_err(&err)?;
    let run = insert_run(&tx, path, m)?;
    tx.execute(
        "INSERT INTO mining_run_logs (run_id, log_batches, log_events, spans) VALUES (?1, ?2, ?3, ?4)",
        params![run, log_version.0, log_version.1, spans_blob(m)],
    )
    .map_err(&err)?;
    tx.commit().map_err(&err)?;
    Ok(run)
}

/// The latest run saved by [`save_for_log`] for this log version and these options, spans
/// included: (run id, result). `None` when there is none (the log changed, or it was mined with
/// other options). The caller checks the spans against the log it loads.
pub fn load_for_log(
    conn: &Connection,
    path: &Path,
    log_version: (i64, i64),
    options: &crate::Options,
) -> Result<Option<(i64, Mining)>> {
    if schema_version(conn, path)? == 0 {
        return Ok(None);
    }
    migrate(conn, path)?;
    let err = sql(path);
    let has: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'mining_run_logs'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(&err)?;
    if has.is_none() {
        return Ok(None);
    }
    let found: Option<(i64, Vec<u8>)> = conn
        .query_row(
            "SELECT l.run_id, l.spans FROM mining_run_logs l JOIN mining_runs r ON r.id = l.run_id
             WHERE l.log_batches = ?1 AND l.log_events = ?2 AND r.options = ?3
             ORDER BY l.run_id DESC LIMIT 1",
            params![log_version.0, log_version.1, json(options)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(&err)?;
    let Some((run, spans)) = found else {
        return Ok(None);
    };
    let Some(mut m) = load_run(conn, path, run)? else {
        return Ok(None);
    };
    let n: usize = m.routines.iter().map(|r| r.instances.len()).sum();
    if spans.len() != n * 8 {
        return Err(Error::Schema {
            path: path.to_path_buf(),
            message: format!(
                "mining run {run}: {} bytes of spans for {n} instances",
                spans.len()
            ),
        });
    }
    let word = |k: usize| u32::from_le_bytes(spans[k..k + 4].try_into().expect("4 bytes"));
    for (k, i) in m
        .routines
        .iter_mut()
        .flat_map(|r| r.instances.iter_mut())
        .enumerate()
    {
        i.span = (word(k * 8), word(k * 8 + 4));
    }
    Ok(Some((run, m)))
}

/// Whether every instance's span points at its first and last event in `log`: a stored run is
/// only reused for the log it was mined from, event for event (the log's version alone does not
/// tell a log whose events were deleted and others written in their place).
pub fn spans_fit(log: &crate::Log, m: &Mining) -> bool {
    let id = |k: u32| log.events.get(k as usize).map(|e| e.id);
    m.routines
        .iter()
        .flat_map(|r| &r.instances)
        .all(|i| id(i.span.0) == Some(i.first_event) && id(i.span.1) == Some(i.last_event))
}

/// The run to reuse instead of mining `log` again: the latest saved by [`save_for_log`] for this
/// log version and these options whose spans fit `log` ([`spans_fit`]), as (run id, result). The
/// server and the CLI (`bots`, `mine`) decide alike through this and [`load_for_log`].
pub fn load_fitting(
    conn: &Connection,
    path: &Path,
    log_version: (i64, i64),
    options: &crate::Options,
    log: &crate::Log,
) -> Result<Option<(i64, Mining)>> {
    Ok(load_for_log(conn, path, log_version, options)?.filter(|(_, m)| spans_fit(log, m)))
}

/// Deletes the runs saved by [`save_for_log`] except the latest `keep`, so that a server mining
/// again and again does not grow the file. Runs saved by [`save`] are left alone. Returns how many
/// were deleted.
pub fn prune_log_runs(conn: &Connection, path: &Path, keep: usize) -> Result<u64> {
    if schema_version(conn, path)? == 0 {
        return Ok(0);
    }
    let err = sql(path);
    let tx = conn.unchecked_transaction().map_err(&err)?;
    tx.execute_batch(LOG_SCHEMA).map_err(&err)?;
    tx.execute_batch(crate::objects::STORED_SCHEMA)
        .map_err(&err)?;
    let old: Vec<i64> = {
        let mut stmt = tx
            .prepare("SELECT run_id FROM mining_run_logs ORDER BY run_id DESC LIMIT -1 OFFSET ?1")
            .map_err(&err)?;
        let ids = stmt
            .query_map([keep as i64], |r| r.get(0))
            .map_err(&err)?
            .collect::<rusqlite::Result<_>>()
            .map_err(&err)?;
        ids
    };
    for run in &old {
        for table in crate::objects::STORED_TABLES {
            tx.execute(&format!("DELETE FROM {table} WHERE run_id = ?1"), [run])
                .map_err(&err)?;
        }
        for (table, column) in [
            ("mining_run_logs", "run_id"),
            ("mining_instances", "run_id"),
            ("mining_routines", "run_id"),
            ("mining_runs", "id"),
        ] {
            tx.execute(&format!("DELETE FROM {table} WHERE {column} = ?1"), [run])
                .map_err(&err)?;
        }
    }
    tx.commit().map_err(&err)?;
    Ok(old.len() as u64)
}

/// When a stored run was saved (UTC microseconds), if it exists.
pub fn run_created_at(conn: &Connection, path: &Path, run: i64) -> Result<Option<i64>> {
    if schema_version(conn, path)? == 0 {
        return Ok(None);
    }
    conn.query_row(
        "SELECT created_at FROM mining_runs WHERE id = ?1",
        [run],
        |r| r.get(0),
    )
    .optional()
    .map_err(sql(path))
}

/// The ids of the stored runs, oldest first (for tables downstream that hang off a run).
pub fn run_ids(conn: &Connection, path: &Path) -> Result<Vec<i64>> {
    if schema_version(conn, path)? == 0 {
        return Ok(Vec::new());
    }
    let err = sql(path);
    let mut stmt = conn
        .prepare("SELECT id FROM mining_runs ORDER BY id")
        .map_err(&err)?;
    let ids = stmt
        .query_map([], |r| r.get(0))
        .map_err(&err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(&err)?;
    Ok(ids)
}

/// Names analysts gave routines (`taskmine name`), by the routine's pattern (its step labels, one
/// a line) so that a name follows its routine from run to run whatever its rank. A table beside
/// the versioned ones, like `mining_run_logs`, so that older versions keep reading the file.
const NAMES_SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS mining_routine_names (
        pattern TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        named_at INTEGER NOT NULL
    );
";

fn pattern_key(r: &Routine) -> String {
    r.labels.join("\n")
}

/// Gives a routine the analyst's name, for this and later runs that find the same pattern; an
/// empty name removes it, so that the made name shows again. A name is one line of at most
/// [`crate::MAX_NAME_CHARS`] characters.
pub fn set_routine_name(conn: &Connection, path: &Path, r: &Routine, name: &str) -> Result<()> {
    let name = name.trim();
    let bad = |message: String| {
        Err(Error::Option {
            option: "name".into(),
            message,
        })
    };
    if name.chars().count() > crate::MAX_NAME_CHARS {
        return bad(format!(
            "{name:?} has {} characters; a routine's name has at most {}",
            name.chars().count(),
            crate::MAX_NAME_CHARS
        ));
    }
    if name.chars().any(char::is_control) {
        return bad(format!("{name:?} is not one line of text"));
    }
    let err = sql(path);
    conn.execute_batch(NAMES_SCHEMA).map_err(&err)?;
    if name.is_empty() {
        conn.execute(
            "DELETE FROM mining_routine_names WHERE pattern = ?1",
            [pattern_key(r)],
        )
        .map_err(&err)?;
        return Ok(());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    conn.execute(
        "INSERT OR REPLACE INTO mining_routine_names (pattern, name, named_at) VALUES (?1, ?2, ?3)",
        params![pattern_key(r), name, now],
    )
    .map_err(&err)?;
    Ok(())
}

/// The names analysts gave routines of `m`, by routine id (for [`crate::routine_names_given`]).
/// Reading never creates the table.
pub fn given_names(
    conn: &Connection,
    path: &Path,
    m: &Mining,
) -> Result<std::collections::BTreeMap<u32, String>> {
    let err = sql(path);
    let has: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'mining_routine_names'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(&err)?;
    let mut out = std::collections::BTreeMap::new();
    if has.is_none() {
        return Ok(out);
    }
    let mut stmt = conn
        .prepare("SELECT name FROM mining_routine_names WHERE pattern = ?1")
        .map_err(&err)?;
    for r in &m.routines {
        let name: Option<String> = stmt
            .query_row([pattern_key(r)], |row| row.get(0))
            .optional()
            .map_err(&err)?;
        if let Some(name) = name {
            out.insert(r.id, name);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn a_given_name_follows_the_pattern_and_an_empty_one_removes_it() {
        let mut store = uilog::Store::open_in_memory().unwrap();
        store
            .write_batch(None, "t", |sink| -> uilog::Result<()> {
                for (i, kind) in [
                    uilog::EventKind::Focus,
                    uilog::EventKind::Copy,
                    uilog::EventKind::Paste,
                ]
                .repeat(3)
                .into_iter()
                .enumerate()
                {
                    let mut e = uilog::Event::new(
                        "s",
                        "u",
                        1_700_000_000_000_000 + i as i64 * 20_000_000,
                        kind,
                    );
                    e.app = "erp".into();
                    sink.push(&e)?;
                }
                Ok(())
            })
            .unwrap();
        let mut opts = crate::Options::default();
        opts.discovery.min_support = Some(2);
        let (_, mut m) = crate::mine(&store, &opts, &mut crate::NoProgress).unwrap();
        let (conn, path) = (store.connection(), store.path());
        assert!(given_names(conn, path, &m).unwrap().is_empty());
        let r = m.routines[0].clone();
        set_routine_name(conn, path, &r, "  Post the ERP entry ").unwrap();
        // Another run ranks it differently: the name goes with the pattern, not the rank.
        m.routines[0].id = 7;
        let given = given_names(conn, path, &m).unwrap();
        assert_eq!(
            given.get(&7).map(String::as_str),
            Some("Post the ERP entry")
        );
        assert_eq!(
            crate::routine_names_given(&m, &given)[0],
            "Post the ERP entry"
        );
        let long = "x".repeat(crate::MAX_NAME_CHARS + 1);
        let e = set_routine_name(conn, path, &r, &long).unwrap_err();
        assert!(e.to_string().contains("at most"), "{e}");
        assert!(set_routine_name(conn, path, &r, "two\nlines").is_err());
        set_routine_name(conn, path, &r, "").unwrap();
        assert!(given_names(conn, path, &m).unwrap().is_empty());
    }
}
