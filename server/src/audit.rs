//! The audit trail: who did what, when, from where. Appended by sign-in, reads of routine details,
//! bot downloads, exports, account and agent changes and erasures; read by admins (page, API and
//! `taskmine audit`).
//!
//! Append-only: no route updates or deletes it, and triggers make SQLite (and PostgreSQL) refuse an
//! UPDATE or DELETE on the table, so the product cannot edit it even by mistake (someone with the
//! file or the database owner's password can, which is what permissions are for).

use serde::Serialize;
use uilog::Micros;

use crate::db::Conn;
use crate::error::Result;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS server_audit (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    remote TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS server_audit_no_update BEFORE UPDATE ON server_audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS server_audit_no_delete BEFORE DELETE ON server_audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
";

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub id: i64,
    /// UTC microseconds.
    pub ts: Micros,
    /// The account (`cli:<login>` for the command line, `anonymous` without sign-in).
    pub actor: String,
    /// What kind of thing happened: `signin`, `signin.failed`, `routine.read`, `bot.download`, …
    pub action: String,
    /// What exactly: a path and its answer's status, a name.
    pub detail: String,
    /// The peer address, or `local` for the command line.
    pub remote: String,
}

pub fn ensure_schema<'a>(db: impl Into<Conn<'a>>) -> Result<()> {
    Ok(db.into().sqlite_batch(SCHEMA)?)
}

/// Appends an entry.
pub fn append<'a>(
    db: impl Into<Conn<'a>>,
    actor: &str,
    action: &str,
    detail: &str,
    remote: &str,
) -> Result<()> {
    let db = db.into();
    ensure_schema(db)?;
    db.exec(
        "INSERT INTO server_audit (ts, actor, action, detail, remote) VALUES ($1, $2, $3, $4, $5)",
        &[
            &jiff::Timestamp::now().as_microsecond(),
            &actor,
            &action,
            &detail,
            &remote,
        ],
    )
    .map(drop)
    .map_err(Into::into)
}

/// The actor of a command run on the server's machine.
pub fn cli_actor() -> String {
    let login = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{login}")
}

/// The newest `limit` entries, newest first.
pub fn list<'a>(db: impl Into<Conn<'a>>, limit: usize) -> Result<Vec<Entry>> {
    let db = db.into();
    ensure_schema(db)?;
    db.query(
        "SELECT id, ts, actor, action, detail, remote FROM server_audit ORDER BY id DESC LIMIT $1",
        &[&i64::try_from(limit).unwrap_or(i64::MAX)],
    )?
    .iter()
    .map(|r| {
        Ok(Entry {
            id: r.int(0)?,
            ts: r.int(1)?,
            actor: r.text(2)?,
            action: r.text(3)?,
            detail: r.text(4)?,
            remote: r.text(5)?,
        })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn entries_are_appended_and_cannot_be_changed_or_deleted() {
        let c = Connection::open_in_memory().unwrap();
        append(&c, "ana", "signin", "", "127.0.0.1").unwrap();
        append(
            &c,
            "ana",
            "routine.read",
            "GET /routines/1 200",
            "127.0.0.1",
        )
        .unwrap();
        let all = list(&c, 10).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].action, "routine.read", "newest first");
        let upd = c.execute("UPDATE server_audit SET actor = 'someone else'", []);
        assert!(upd.unwrap_err().to_string().contains("append-only"));
        assert!(c.execute("DELETE FROM server_audit", []).is_err());
        assert_eq!(list(&c, 10).unwrap().len(), 2);
    }
}
