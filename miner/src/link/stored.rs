//! `taskmine link`'s results kept in the log's database (`mining_links`), so that the server's
//! process page shows the latest one without the process log. Tables beside the versioned mining
//! tables, like `mining_run_logs`: a taskmine that does not know them keeps reading the file.
//!
//! A stored report names the people its figures came from (`mining_link_users`: every user of the
//! mining result it was linked against), so that the erasure of one of them removes it
//! ([`forget_user`], called by [`crate::results::forget_user`]).
//!
//! [`SCHEMA`] is SQLite's; on PostgreSQL the tables come with the miner's versioned migrations
//! ([`crate::results::PG_MIGRATIONS`]).

use serde::{Deserialize, Serialize};
use uilog::{Conn, Micros};

use super::LinkReport;
use crate::error::{Error, Result};
use crate::mining::Mining;
use crate::results::ids;

pub const SCHEMA: &str = r#"
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
        "user" TEXT NOT NULL,
        PRIMARY KEY (link_id, "user")
    );
"#;

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

/// Stores `report` (linked against `mining`, stored run `run` when it was one) with the routines'
/// names (`names[i]` for `mining.routines[i]`); keeps the latest [`KEEP`]. Returns its id.
pub fn save(
    conn: Conn<'_>,
    report: &LinkReport,
    mining: &Mining,
    names: &[String],
    run: Option<i64>,
) -> Result<i64> {
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
    if conn.is_postgres() {
        crate::results::migrate(conn)?;
    }
    conn.sqlite_batch(SCHEMA)?;
    conn.transaction(|tx| {
        let id = tx
            .query(
                "INSERT INTO mining_links (created_at, run_id, process_log, id_field, report)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[
                    &now,
                    &run,
                    &report.process_log.display().to_string(),
                    &report.id_field,
                    &serde_json::to_string(&body).expect("link reports serialize"),
                ],
            )?
            .first()
            .map(|r| r.int(0))
            .transpose()?
            .ok_or_else(|| Error::Schema {
                path: tx.location().into(),
                message: "INSERT … RETURNING gave no link id".into(),
            })?;
        for u in users {
            tx.exec(
                r#"INSERT INTO mining_link_users (link_id, "user") VALUES ($1, $2)"#,
                &[&id, &u],
            )?;
        }
        let mut old = ids(tx.query("SELECT id FROM mining_links ORDER BY id DESC", &[])?)?;
        old.drain(..KEEP.min(old.len()));
        delete(tx, &old)?;
        Ok(id)
    })
}

fn delete(conn: Conn<'_>, ids: &[i64]) -> Result<()> {
    for id in ids {
        // Children first: the cascade needs foreign keys on, which is not assumed.
        conn.exec("DELETE FROM mining_link_users WHERE link_id = $1", &[id])?;
        conn.exec("DELETE FROM mining_links WHERE id = $1", &[id])?;
    }
    Ok(())
}

/// The latest stored link report, if any.
pub fn load_latest(conn: Conn<'_>) -> Result<Option<StoredLink>> {
    if !conn.has_table("mining_links")? {
        return Ok(None);
    }
    let Some(row) = conn.query_opt(
        "SELECT id, created_at, run_id, report FROM mining_links ORDER BY id DESC LIMIT 1",
        &[],
    )?
    else {
        return Ok(None);
    };
    let (id, created_at, run_id, text) = (row.int(0)?, row.int(1)?, row.opt_int(2)?, row.text(3)?);
    let body: Body = serde_json::from_str(&text).map_err(|e| Error::Parse {
        file: conn.location().into(),
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
/// person, inside the caller's transaction. Returns how many were deleted.
pub fn forget_user(conn: Conn<'_>, user: &str) -> Result<u64> {
    if !conn.has_table("mining_links")? {
        return Ok(0);
    }
    let ids = ids(conn.query(
        r#"SELECT DISTINCT link_id FROM mining_link_users WHERE "user" = $1"#,
        &[&user],
    )?)?;
    delete(conn, &ids)?;
    Ok(ids.len() as u64)
}
