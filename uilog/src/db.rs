//! Tables of other crates (the miner's `mining_*`, the server's `server_*`) in the log's database,
//! on either backend, without those crates knowing which one it is or reaching for the store's
//! own connection.
//!
//! A table module writes its SQL once, with `$1` placeholders and the types both backends share
//! (64-bit integers, doubles, text, bytes), and runs it through a [`Conn`]: borrowed from the open
//! log ([`Store`], [`PgStore`], [`LogStore`]) or from a connection of the caller's own. Where the
//! dialects differ (a table's schema, SQLite's `rowid`) the module asks [`Conn::is_postgres`].
//!
//! Schemas: SQLite files keep each owner's own scheme (the miner's `mining_meta`, the server's
//! `CREATE TABLE IF NOT EXISTS` where a table is used), as released. On PostgreSQL each owner's
//! schema is versioned in a table of its own and brought up to date by
//! [`Conn::migrate_postgres`] under an advisory lock of its own, so that two servers starting at
//! once migrate it once and a database from a newer taskmine is refused.
//!
//! Nothing here touches uilog's tables: those stay behind [`Store`] and [`PgStore`].

use std::cell::RefCell;

use postgres::error::SqlState;

use crate::error::{Error, Result};
use crate::log_store::LogStore;
use crate::store::Store;
use crate::store_pg::{pg_error, PgStore};

/// A borrowed connection to the log's database; `Copy`, so a function can pass it on and keep
/// using it. The PostgreSQL client is in a `RefCell` (every call of the `postgres` client takes
/// `&mut`); a `Conn` is used by one thread at a time.
#[derive(Clone, Copy)]
pub enum Conn<'a> {
    Sqlite(&'a rusqlite::Connection),
    /// The client and the URL without its password (what errors name).
    Postgres(&'a RefCell<postgres::Client>, &'a str),
}

impl<'a> From<&'a rusqlite::Connection> for Conn<'a> {
    fn from(c: &'a rusqlite::Connection) -> Conn<'a> {
        Conn::Sqlite(c)
    }
}

impl<'a> From<&'a Store> for Conn<'a> {
    fn from(s: &'a Store) -> Conn<'a> {
        Conn::Sqlite(s.connection())
    }
}

impl<'a> From<&'a PgStore> for Conn<'a> {
    fn from(p: &'a PgStore) -> Conn<'a> {
        Conn::Postgres(p.client_cell(), p.target())
    }
}

impl<'a> From<&'a LogStore> for Conn<'a> {
    fn from(l: &'a LogStore) -> Conn<'a> {
        match l {
            LogStore::Sqlite(s) => s.into(),
            LogStore::Postgres(p) => p.into(),
        }
    }
}

/// A value bound to a `$n` placeholder: what both drivers can send. On PostgreSQL the value's
/// type must match the column's (`i64` for BIGINT, `f64` for DOUBLE PRECISION, `&[u8]` for BYTEA).
pub trait Param {
    fn sqlite(&self) -> &dyn rusqlite::ToSql;
    fn pg(&self) -> &(dyn postgres::types::ToSql + Sync);
}

impl<T: rusqlite::ToSql + postgres::types::ToSql + Sync> Param for T {
    fn sqlite(&self) -> &dyn rusqlite::ToSql {
        self
    }
    fn pg(&self) -> &(dyn postgres::types::ToSql + Sync) {
        self
    }
}

/// One value of a result row.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

/// A result row, read by column index. A value of another type than asked for is an error that
/// names the column, the database and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    cells: Vec<Cell>,
    location: String,
}

impl Row {
    fn bad(&self, i: usize, want: &str) -> Error {
        let what = match self.cells.get(i) {
            None => "missing".to_owned(),
            Some(Cell::Null) => "NULL".to_owned(),
            Some(Cell::Int(v)) => format!("the integer {v}"),
            Some(Cell::Real(v)) => format!("the number {v}"),
            Some(Cell::Text(_)) => "text".to_owned(),
            Some(Cell::Bytes(b)) => format!("{} bytes", b.len()),
        };
        Error::Schema {
            path: self.location.clone().into(),
            message: format!("column {i} of a result row is {what}, not {want}"),
        }
    }

    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    pub fn int(&self, i: usize) -> Result<i64> {
        self.opt_int(i)?.ok_or_else(|| self.bad(i, "an integer"))
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.cells.get(i) {
            Some(Cell::Int(v)) => Ok(Some(*v)),
            Some(Cell::Null) => Ok(None),
            _ => Err(self.bad(i, "an integer")),
        }
    }

    /// A number; an integer column reads as one too (SQLite keeps a whole REAL as written).
    pub fn real(&self, i: usize) -> Result<f64> {
        match self.cells.get(i) {
            Some(Cell::Real(v)) => Ok(*v),
            Some(Cell::Int(v)) => Ok(*v as f64),
            _ => Err(self.bad(i, "a number")),
        }
    }

    pub fn text(&self, i: usize) -> Result<String> {
        self.opt_text(i)?.ok_or_else(|| self.bad(i, "text"))
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.cells.get(i) {
            Some(Cell::Text(v)) => Ok(Some(v.clone())),
            Some(Cell::Null) => Ok(None),
            _ => Err(self.bad(i, "text")),
        }
    }

    pub fn bytes(&self, i: usize) -> Result<Vec<u8>> {
        match self.cells.get(i) {
            Some(Cell::Bytes(v)) => Ok(v.clone()),
            _ => Err(self.bad(i, "bytes")),
        }
    }
}

/// How an owner's tables are versioned in a PostgreSQL database.
#[derive(Debug, Clone, Copy)]
pub struct PgMigrations {
    /// Who owns the tables, for messages ("the mining tables").
    pub owner: &'static str,
    /// The table holding the one version number (`server_schema`, `mining_schema`).
    pub version_table: &'static str,
    /// The advisory lock that serialises this owner's migrations: its own, so that owners never
    /// wait on each other.
    pub lock: i64,
    /// The migrations in order; the version is the number applied. A released one is never edited.
    pub steps: &'static [&'static str],
}

/// `$1`, `$2`, … as SQLite's `?1`, `?2`, … (the table modules' SQL has no `$` elsewhere).
fn sqlite_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

fn sqlite_row(r: &rusqlite::Row<'_>, location: &str) -> rusqlite::Result<Row> {
    use rusqlite::types::ValueRef;
    let n = r.as_ref().column_count();
    let mut cells = Vec::with_capacity(n);
    for i in 0..n {
        cells.push(match r.get_ref(i)? {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(v) => Cell::Int(v),
            ValueRef::Real(v) => Cell::Real(v),
            ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Cell::Bytes(b.to_vec()),
        });
    }
    Ok(Row {
        cells,
        location: location.to_owned(),
    })
}

fn pg_row(r: &postgres::Row, location: &str) -> std::result::Result<Row, postgres::Error> {
    use postgres::types::Type;
    let mut cells = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let ty = col.type_();
        let cell = if *ty == Type::INT8 {
            r.try_get::<_, Option<i64>>(i)?.map(Cell::Int)
        } else if *ty == Type::INT4 {
            r.try_get::<_, Option<i32>>(i)?
                .map(|v| Cell::Int(i64::from(v)))
        } else if *ty == Type::INT2 {
            r.try_get::<_, Option<i16>>(i)?
                .map(|v| Cell::Int(i64::from(v)))
        } else if *ty == Type::BOOL {
            r.try_get::<_, Option<bool>>(i)?
                .map(|v| Cell::Int(i64::from(v)))
        } else if *ty == Type::FLOAT8 {
            r.try_get::<_, Option<f64>>(i)?.map(Cell::Real)
        } else if *ty == Type::FLOAT4 {
            r.try_get::<_, Option<f32>>(i)?
                .map(|v| Cell::Real(f64::from(v)))
        } else if *ty == Type::BYTEA {
            r.try_get::<_, Option<Vec<u8>>>(i)?.map(Cell::Bytes)
        } else {
            r.try_get::<_, Option<String>>(i)?.map(Cell::Text)
        };
        cells.push(cell.unwrap_or(Cell::Null));
    }
    Ok(Row {
        cells,
        location: location.to_owned(),
    })
}

impl<'a> Conn<'a> {
    pub fn is_postgres(self) -> bool {
        matches!(self, Conn::Postgres(..))
    }

    /// The SQLite file or the URL without its password, for messages.
    pub fn location(self) -> String {
        match self {
            Conn::Sqlite(c) => match c.path() {
                Some("") | None => ":memory:".to_owned(),
                Some(p) => p.to_owned(),
            },
            Conn::Postgres(_, target) => target.to_owned(),
        }
    }

    fn sqlite_err(c: &rusqlite::Connection) -> impl Fn(rusqlite::Error) -> Error + '_ {
        move |source| Error::Sqlite {
            path: c.path().unwrap_or("").into(),
            source,
        }
    }

    fn pg_err(target: &str) -> impl Fn(postgres::Error) -> Error + '_ {
        move |e| pg_error(target, &e)
    }

    /// Runs statements without parameters on either backend.
    pub fn batch(self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => c.execute_batch(sql).map_err(Self::sqlite_err(c)),
            Conn::Postgres(client, target) => client
                .borrow_mut()
                .batch_execute(sql)
                .map_err(Self::pg_err(target)),
        }
    }

    /// Runs SQL on SQLite only (a module's SQLite schema; PostgreSQL's comes from its migrations).
    pub fn sqlite_batch(self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(_) => self.batch(sql),
            Conn::Postgres(..) => Ok(()),
        }
    }

    /// Runs a statement; returns the rows it changed.
    pub fn exec(self, sql: &str, params: &[&dyn Param]) -> Result<u64> {
        match self {
            Conn::Sqlite(c) => {
                let mut stmt = c
                    .prepare_cached(&sqlite_sql(sql))
                    .map_err(Self::sqlite_err(c))?;
                stmt.execute(rusqlite::params_from_iter(
                    params.iter().map(|p| p.sqlite()),
                ))
                .map(|n| n as u64)
                .map_err(Self::sqlite_err(c))
            }
            Conn::Postgres(client, target) => {
                let params: Vec<_> = params.iter().map(|p| p.pg()).collect();
                client
                    .borrow_mut()
                    .execute(sql, &params)
                    .map_err(Self::pg_err(target))
            }
        }
    }

    /// [`Conn::exec`], but a unique constraint the statement would break is `None` rather than an
    /// error (the caller names what exists already). On PostgreSQL it aborts a surrounding
    /// transaction, so it is used outside of one.
    pub fn exec_unique(self, sql: &str, params: &[&dyn Param]) -> Result<Option<u64>> {
        match self {
            Conn::Sqlite(c) => match c.execute(
                &sqlite_sql(sql),
                rusqlite::params_from_iter(params.iter().map(|p| p.sqlite())),
            ) {
                Ok(n) => Ok(Some(n as u64)),
                Err(rusqlite::Error::SqliteFailure(f, _))
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    Ok(None)
                }
                Err(e) => Err(Self::sqlite_err(c)(e)),
            },
            Conn::Postgres(client, target) => {
                let params: Vec<_> = params.iter().map(|p| p.pg()).collect();
                match client.borrow_mut().execute(sql, &params) {
                    Ok(n) => Ok(Some(n)),
                    Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Ok(None),
                    Err(e) => Err(Self::pg_err(target)(e)),
                }
            }
        }
    }

    /// The rows of a query (a statement with `RETURNING` too).
    pub fn query(self, sql: &str, params: &[&dyn Param]) -> Result<Vec<Row>> {
        match self {
            Conn::Sqlite(c) => {
                let err = Self::sqlite_err(c);
                let location = self.location();
                let mut stmt = c.prepare_cached(&sqlite_sql(sql)).map_err(&err)?;
                let rows = stmt
                    .query_map(
                        rusqlite::params_from_iter(params.iter().map(|p| p.sqlite())),
                        |r| sqlite_row(r, &location),
                    )
                    .map_err(&err)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().map_err(&err)
            }
            Conn::Postgres(client, target) => {
                let params: Vec<_> = params.iter().map(|p| p.pg()).collect();
                let rows = client
                    .borrow_mut()
                    .query(sql, &params)
                    .map_err(Self::pg_err(target))?;
                rows.iter()
                    .map(|r| pg_row(r, target).map_err(Self::pg_err(target)))
                    .collect()
            }
        }
    }

    /// The first row of a query, if any.
    pub fn query_opt(self, sql: &str, params: &[&dyn Param]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Whether the database has a table of this name (in the connection's schema on PostgreSQL):
    /// readers that must not create tables ask first.
    pub fn has_table(self, name: &str) -> Result<bool> {
        let sql = match self {
            Conn::Sqlite(_) => "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1",
            Conn::Postgres(..) => {
                "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1"
            }
        };
        Ok(self.query_opt(sql, &[&name])?.is_some())
    }

    /// Runs `f` in one transaction: committed when it returns `Ok`, rolled back otherwise. Not
    /// nested: `f` calls functions that do not open one of their own.
    pub fn transaction<T, E: From<Error>>(
        self,
        f: impl FnOnce(Conn<'a>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.batch("BEGIN")?;
        match f(self) {
            Ok(v) => {
                self.batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Brings an owner's tables in a PostgreSQL database up to date, in one transaction under the
    /// owner's advisory lock; tables of a newer taskmine are refused. Returns the version before.
    /// Does nothing on SQLite (0).
    pub fn migrate_postgres(self, m: &PgMigrations) -> Result<u32> {
        let Conn::Postgres(_, target) = self else {
            return Ok(0);
        };
        self.transaction(|tx| -> Result<u32> {
            tx.exec("SELECT pg_advisory_xact_lock($1)", &[&m.lock])?;
            tx.batch(&format!(
                "CREATE TABLE IF NOT EXISTS {} (version INTEGER NOT NULL)",
                m.version_table
            ))?;
            let current = match tx.query_opt(&format!("SELECT version FROM {}", m.version_table), &[])?
            {
                Some(row) => row.int(0)? as usize,
                None => {
                    tx.batch(&format!("INSERT INTO {} VALUES (0)", m.version_table))?;
                    0
                }
            };
            if current > m.steps.len() {
                return Err(Error::Postgres {
                    target: target.to_owned(),
                    message: format!(
                        "{} of schema version {current} are newer than this taskmine understands ({}); upgrade taskmine",
                        m.owner,
                        m.steps.len()
                    ),
                });
            }
            for (i, step) in m.steps.iter().enumerate().skip(current) {
                let version = i + 1;
                tx.batch(step)
                    .and_then(|()| {
                        tx.batch(&format!(
                            "UPDATE {} SET version = {version}",
                            m.version_table
                        ))
                    })
                    .map_err(|e| Error::Postgres {
                        target: target.to_owned(),
                        message: format!(
                            "migration of {} to version {version} failed: {e}",
                            m.owner
                        ),
                    })?;
            }
            Ok(current as u32)
        })
    }

    /// The version of an owner's tables in a PostgreSQL database, 0 when there are none yet (or
    /// on SQLite). Never creates anything.
    pub fn postgres_version(self, m: &PgMigrations) -> Result<u32> {
        if !self.is_postgres() || !self.has_table(m.version_table)? {
            return Ok(0);
        }
        match self.query_opt(&format!("SELECT version FROM {}", m.version_table), &[])? {
            Some(row) => Ok(row.int(0)? as u32),
            None => Ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_sqlite_ones_and_rows_read_back() {
        assert_eq!(
            sqlite_sql("SELECT $1, '$', $12 FROM t WHERE a = $2"),
            "SELECT ?1, '$', ?12 FROM t WHERE a = ?2"
        );
        let c = rusqlite::Connection::open_in_memory().unwrap();
        let conn = Conn::from(&c);
        assert!(!conn.has_table("t").unwrap());
        conn.sqlite_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, note TEXT, x REAL, b BLOB)",
        )
        .unwrap();
        assert!(conn.has_table("t").unwrap());
        assert_eq!(
            conn.exec_unique(
                "INSERT INTO t (name, x, b) VALUES ($1, $2, $3)",
                &[&"a", &1.5f64, &vec![1u8, 2]]
            )
            .unwrap(),
            Some(1)
        );
        assert_eq!(
            conn.exec_unique("INSERT INTO t (name) VALUES ($1)", &[&"a"])
                .unwrap(),
            None,
            "a unique violation is None"
        );
        let row = conn
            .query_opt(
                "SELECT id, name, note, x, b FROM t WHERE name = $1",
                &[&"a"],
            )
            .unwrap()
            .unwrap();
        assert_eq!(row.int(0).unwrap(), 1);
        assert_eq!(row.text(1).unwrap(), "a");
        assert_eq!(row.opt_text(2).unwrap(), None);
        assert_eq!(row.real(3).unwrap(), 1.5);
        assert_eq!(row.bytes(4).unwrap(), vec![1, 2]);
        let e = row.int(1).unwrap_err().to_string();
        assert!(
            e.contains("column 1") && e.contains("not an integer"),
            "{e}"
        );
        assert!(row.text(2).is_err() && row.int(9).is_err() && row.bytes(1).is_err());
        let back = conn
            .query("INSERT INTO t (name) VALUES ($1) RETURNING id", &[&"r"])
            .unwrap();
        assert_eq!(back[0].int(0).unwrap(), 2, "RETURNING gives the new id");
        let failed: Result<()> = conn.transaction(|t| {
            t.exec("INSERT INTO t (name) VALUES ($1)", &[&"b"])?;
            Err(Error::Invalid("no".into()))
        });
        assert!(failed.is_err());
        assert!(
            conn.query_opt("SELECT id FROM t WHERE name = $1", &[&"b"])
                .unwrap()
                .is_none(),
            "rolled back"
        );
        let m = PgMigrations {
            owner: "test tables",
            version_table: "test_schema",
            lock: 1,
            steps: &["CREATE TABLE u (a BIGINT)"],
        };
        assert_eq!(conn.migrate_postgres(&m).unwrap(), 0);
        assert!(!conn.has_table("u").unwrap(), "SQLite is not migrated");
        assert_eq!(conn.postgres_version(&m).unwrap(), 0);
    }
}
