//! `taskmine link`'s results kept in the log's database (`mining_links`), so that the server's
//! process page shows the latest one without the process log. Tables beside the versioned mining
//! tables, like `mining_run_logs`: a taskmine that does not know them keeps reading the file.
//!
//! A stored report names the people its figures came from (`mining_link_users`: every user of the
//! mining result it was linked against), so that the erasure of one of them removes it
//! ([`forget_user`], called by [`crate::results::forget_user`]).

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use uilog::Micros;

use super::LinkReport;
use crate::error::{Error, Result};
use crate::mining::Mining;

pub const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS mining_links (
        id INTEGER PRIMARY KEY,
        created_at INTEGER NOT NULL,
        run_id INTEGER,
        process_log TEXT NOT NULL,
        id_field TEXT NOT NULL,
        report TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS mining_link_users (
        link_id INTEGER NOT NULL REFERENCES mining_links(id) ON DELETE CASCADE,
        user TEXT NOT NULL,
        PRIMARY KEY (link_id, user)
    );
";

/// How many link reports are kept; older ones are deleted when a new one is stored.
pub const KEEP: usize = 10;

/// A routine a stored report names, as it was when linked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkedRoutine {
    pub id: u32,
    pub name: String,
    /// Users who perform it (the server shows it only to k of them or more).
    pub users: u64,
    pub hours_saved_per_month: f64,
}

/// A stored link report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredLink {
    pub id: i64,
    /// When it was stored (UTC microseconds).
    pub created_at: Micros,
    /// The stored mining run it was linked against, when there was one.
    pub run_id: Option<i64>,
    pub report: LinkReport,
    /// The routines of the mining result that any activity names.
    pub routines: Vec<LinkedRoutine>,
}

impl StoredLink {
    pub fn routine(&self, id: u32) -> Option<&LinkedRoutine> {
        self.routines.iter().find(|r| r.id == id)
    }
}

#[derive(Serialize, Deserialize)]
struct Body {
    report: LinkReport,
    routines: Vec<LinkedRoutine>,
}

fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |source| Error::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

fn has_table(conn: &Connection, path: &Path) -> Result<bool> {
    let has: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'mining_links'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql(path))?;
    Ok(has.is_some())
}

/// Stores `report` (linked against `mining`, stored run `run` when it was one) with the routines'
/// names (`names[i]` for `mining.routines[i]`); keeps the latest [`KEEP`]. Returns its id.
pub fn save(
    conn: &Connection,
    path: &Path,
    report: &LinkReport,
    mining: &Mining,
    names: &[String],
    run: Option<i64>,
) -> Result<i64> {
    let err = sql(path);
    let mut named: Vec<u32> = report
        .activities
        .iter()
        .flat_map(|a| a.routines.iter().map(|r| r.routine))
        .collect();
    named.sort_unstable();
    named.dedup();
    let routines = mining
        .routines
        .iter()
        .enumerate()
        .filter(|(_, r)| named.binary_search(&r.id).is_ok())
        .map(|(i, r)| LinkedRoutine {
            id: r.id,
            name: names
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("routine {}", r.id)),
            users: r.score.users,
            hours_saved_per_month: r.score.hours_saved_per_month,
        })
        .collect();
    let body = Body {
        report: report.clone(),
        routines,
    };
    let mut users: Vec<&str> = mining
        .routines
        .iter()
        .flat_map(|r| r.instances.iter().map(|i| i.user.as_str()))
        .collect();
    users.sort_unstable();
    users.dedup();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    let tx = conn.unchecked_transaction().map_err(&err)?;
    tx.execute_batch(SCHEMA).map_err(&err)?;
    tx.execute(
        "INSERT INTO mining_links (created_at, run_id, process_log, id_field, report)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            now,
            run,
            report.process_log.display().to_string(),
            report.id_field,
            serde_json::to_string(&body).expect("link reports serialize")
        ],
    )
    .map_err(&err)?;
    let id = tx.last_insert_rowid();
    {
        let mut insert = tx
            .prepare("INSERT INTO mining_link_users (link_id, user) VALUES (?1, ?2)")
            .map_err(&err)?;
        for u in users {
            insert.execute(params![id, u]).map_err(&err)?;
        }
    }
    let old: Vec<i64> = {
        let mut stmt = tx
            .prepare("SELECT id FROM mining_links ORDER BY id DESC LIMIT -1 OFFSET ?1")
            .map_err(&err)?;
        let ids = stmt
            .query_map([KEEP as i64], |r| r.get(0))
            .map_err(&err)?
            .collect::<rusqlite::Result<_>>()
            .map_err(&err)?;
        ids
    };
    delete(&tx, path, &old)?;
    tx.commit().map_err(&err)?;
    Ok(id)
}

fn delete(conn: &Connection, path: &Path, ids: &[i64]) -> Result<()> {
    let err = sql(path);
    for id in ids {
        // Children first: the cascade needs foreign keys on, which is not assumed.
        conn.execute("DELETE FROM mining_link_users WHERE link_id = ?1", [id])
            .map_err(&err)?;
        conn.execute("DELETE FROM mining_links WHERE id = ?1", [id])
            .map_err(&err)?;
    }
    Ok(())
}

/// The latest stored link report, if any.
pub fn load_latest(conn: &Connection, path: &Path) -> Result<Option<StoredLink>> {
    if !has_table(conn, path)? {
        return Ok(None);
    }
    let found: Option<(i64, i64, Option<i64>, String)> = conn
        .query_row(
            "SELECT id, created_at, run_id, report FROM mining_links ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(sql(path))?;
    let Some((id, created_at, run_id, text)) = found else {
        return Ok(None);
    };
    let body: Body = serde_json::from_str(&text).map_err(|e| Error::Parse {
        file: path.to_path_buf(),
        line: e.line() as u64,
        field: format!("mining_links.report (id {id})"),
        message: e.to_string(),
    })?;
    Ok(Some(StoredLink {
        id,
        created_at,
        run_id,
        report: body.report,
        routines: body.routines,
    }))
}

/// Deletes the link reports whose figures counted `user` (a pseudonym), for the erasure of a
/// person. Returns how many were deleted.
pub fn forget_user(conn: &Connection, path: &Path, user: &str) -> Result<u64> {
    if !has_table(conn, path)? {
        return Ok(0);
    }
    let ids: Vec<i64> = {
        let mut stmt = conn
            .prepare("SELECT DISTINCT link_id FROM mining_link_users WHERE user = ?1")
            .map_err(sql(path))?;
        let ids = stmt
            .query_map([user], |r| r.get(0))
            .map_err(sql(path))?
            .collect::<rusqlite::Result<_>>()
            .map_err(sql(path))?;
        ids
    };
    delete(conn, path, &ids)?;
    Ok(ids.len() as u64)
}
