//! Agents: the remote recorders allowed to send batches. Each has a random bearer token that is shown
//! once, when the agent is added; the server keeps only its blake3 hash, in `server_agents`.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use uilog::{Micros, Store};

use crate::error::{Error, Result};

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS server_agents (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
)";

/// A registered agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agent {
    pub id: i64,
    pub name: String,
    pub created_at: Micros,
}

/// Creates the server's table in the store's file if it is missing.
pub fn ensure_schema(store: &Store) -> Result<()> {
    store
        .connection()
        .execute_batch(SCHEMA)
        .map_err(Error::sqlite(store.path()))
}

/// The stored form of a token: its blake3 hash in hex. Tokens carry 256 random bits, so a fast hash
/// is enough; a slow password hash would only slow down every request.
pub fn hash_token(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Registers an agent and returns its token, which is not stored and cannot be shown again.
pub fn add(store: &Store, name: &str) -> Result<String> {
    if !valid_name(name) {
        return Err(Error::AgentName(name.to_owned()));
    }
    ensure_schema(store)?;
    let bytes: [u8; 32] = rand::random();
    let mut token = String::from("tm_");
    for b in bytes {
        token.push_str(&format!("{b:02x}"));
    }
    let result = store.connection().execute(
        "INSERT INTO server_agents (name, token_hash, created_at) VALUES (?1, ?2, ?3)",
        params![
            name,
            hash_token(&token),
            jiff::Timestamp::now().as_microsecond()
        ],
    );
    match result {
        Ok(_) => {
            crate::audit::append(
                store.connection(),
                &crate::audit::cli_actor(),
                "agent.add",
                name,
                "local",
            )?;
            Ok(token)
        }
        Err(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Err(Error::AgentExists(name.to_owned()))
        }
        Err(e) => Err(Error::sqlite(store.path())(e)),
    }
}

/// The registered agents, by name.
pub fn list(store: &Store) -> Result<Vec<Agent>> {
    ensure_schema(store)?;
    list_conn(store.connection())
}

/// The registered agents, read through any connection to the database.
pub(crate) fn list_conn(conn: &Connection) -> Result<Vec<Agent>> {
    conn.execute_batch(SCHEMA).map_err(err(conn))?;
    let mut stmt = conn
        .prepare("SELECT id, name, created_at FROM server_agents ORDER BY name")
        .map_err(err(conn))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Agent {
                id: r.get(0)?,
                name: r.get(1)?,
                created_at: r.get(2)?,
            })
        })
        .map_err(err(conn))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(err(conn))
}

fn err(conn: &Connection) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |source| Error::Sqlite {
        path: conn.path().unwrap_or("").into(),
        source,
    }
}

/// Removes an agent; its token stops working (within the server's short authentication cache).
/// The events it sent stay.
pub fn remove(store: &Store, name: &str) -> Result<()> {
    ensure_schema(store)?;
    let n = store
        .connection()
        .execute("DELETE FROM server_agents WHERE name = ?1", [name])
        .map_err(Error::sqlite(store.path()))?;
    if n == 0 {
        return Err(Error::NoAgent(name.to_owned()));
    }
    crate::audit::append(
        store.connection(),
        &crate::audit::cli_actor(),
        "agent.remove",
        name,
        "local",
    )
}

/// The agent a token belongs to, if any.
pub fn authenticate(conn: &Connection, token: &str) -> rusqlite::Result<Option<Agent>> {
    conn.query_row(
        "SELECT id, name, created_at FROM server_agents WHERE token_hash = ?1",
        [hash_token(token)],
        |r| {
            Ok(Agent {
                id: r.get(0)?,
                name: r.get(1)?,
                created_at: r.get(2)?,
            })
        },
    )
    .optional()
}
