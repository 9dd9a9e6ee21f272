//! Agents: the remote recorders allowed to send batches. Each has a random bearer token that is shown
//! once, when the agent is added; the server keeps only its blake3 hash, in `server_agents`.

use serde::Serialize;
use uilog::Micros;

use crate::db::{Conn, Row};
use crate::error::{Error, Result};

/// The table in a SQLite file; PostgreSQL's is made by [`crate::db::SERVER_PG_MIGRATIONS`].
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

/// Creates the server's table in a SQLite file if it is missing.
pub fn ensure_schema<'a>(db: impl Into<Conn<'a>>) -> Result<()> {
    Ok(db.into().sqlite_batch(SCHEMA)?)
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
pub fn add<'a>(db: impl Into<Conn<'a>>, name: &str) -> Result<String> {
    let db = db.into();
    if !valid_name(name) {
        return Err(Error::AgentName(name.to_owned()));
    }
    ensure_schema(db)?;
    let bytes: [u8; 32] = rand::random();
    let mut token = String::from("tm_");
    for b in bytes {
        token.push_str(&format!("{b:02x}"));
    }
    let inserted = db.exec_unique(
        "INSERT INTO server_agents (name, token_hash, created_at) VALUES ($1, $2, $3)",
        &[
            &name,
            &hash_token(&token),
            &jiff::Timestamp::now().as_microsecond(),
        ],
    )?;
    if inserted.is_none() {
        return Err(Error::AgentExists(name.to_owned()));
    }
    crate::audit::append(db, &crate::audit::cli_actor(), "agent.add", name, "local")?;
    Ok(token)
}

fn read_agent(r: &Row) -> Result<Agent> {
    Ok(Agent {
        id: r.int(0)?,
        name: r.text(1)?,
        created_at: r.int(2)?,
    })
}

/// The registered agents, by name.
pub fn list<'a>(db: impl Into<Conn<'a>>) -> Result<Vec<Agent>> {
    let db = db.into();
    ensure_schema(db)?;
    db.query(
        "SELECT id, name, created_at FROM server_agents ORDER BY name",
        &[],
    )?
    .iter()
    .map(read_agent)
    .collect()
}

/// Removes an agent; its token stops working (within the server's short authentication cache).
/// The events it sent stay.
pub fn remove<'a>(db: impl Into<Conn<'a>>, name: &str) -> Result<()> {
    let db = db.into();
    ensure_schema(db)?;
    let n = db.exec("DELETE FROM server_agents WHERE name = $1", &[&name])?;
    if n == 0 {
        return Err(Error::NoAgent(name.to_owned()));
    }
    crate::audit::append(
        db,
        &crate::audit::cli_actor(),
        "agent.remove",
        name,
        "local",
    )
}

/// The agent a token belongs to, if any.
pub fn authenticate<'a>(db: impl Into<Conn<'a>>, token: &str) -> Result<Option<Agent>> {
    db.into()
        .query_opt(
            "SELECT id, name, created_at FROM server_agents WHERE token_hash = $1",
            &[&hash_token(token)],
        )?
        .as_ref()
        .map(read_agent)
        .transpose()
}
