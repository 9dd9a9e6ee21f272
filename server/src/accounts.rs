//! The server's own accounts: people who read the dashboard and the read API, each with a role.
//! Kept in the log's database (the SQLite file, or the PostgreSQL database several servers share)
//! in tables of the server's own (`server_users`, `server_sessions`); uilog's tables are never
//! touched.
//!
//! Passwords are stored as argon2id hashes (PHC strings). Sessions and API tokens carry 256 random
//! bits and are stored as their blake3 hash, so a copy of the database file opens no session.
//! Sign-in is the only place a password is checked; a different sign-in (OIDC) would end in the
//! same [`create_session`].

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::Serialize;
use uilog::Micros;

use crate::db::{Conn, Row};
use crate::error::{Error, Result};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS server_users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    api_token_hash TEXT UNIQUE,
    failed_signins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS server_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
";

/// Failed sign-ins in a row that lock an account.
pub const MAX_FAILED_SIGNINS: i64 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT_SECS: i64 = 15 * 60;
/// How long a session lasts after sign-in, whatever happens in it (no sliding renewal, so a
/// stolen cookie expires too).
pub const SESSION_SECS: i64 = 8 * 3600;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// What a person may see. Ordered: each role may do what the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Aggregates: the overview, the candidates, the task graph.
    Viewer,
    /// Also a routine's details (variants, instances, data flows), bot drafts, replays, exports.
    Analyst,
    /// Also the audit trail and the list of accounts and agents.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Analyst, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| Error::Role(s.to_owned()))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_at: Micros,
    /// Whether an API token exists for the account.
    pub has_api_token: bool,
    /// When a lockout ends (0 when the account is not locked).
    pub locked_until: Micros,
}

pub(crate) fn now() -> Micros {
    jiff::Timestamp::now().as_microsecond()
}

/// Creates the account tables in a SQLite file if they are missing (PostgreSQL's are made by
/// [`crate::db::SERVER_PG_MIGRATIONS`]).
pub fn ensure_schema<'a>(db: impl Into<Conn<'a>>) -> Result<()> {
    Ok(db.into().sqlite_batch(SCHEMA)?)
}

/// A random secret: 256 bits in hex, after `prefix`.
pub(crate) fn secret(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::random();
    let mut s = String::with_capacity(prefix.len() + 64);
    s.push_str(prefix);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The stored form of a session id or API token.
pub(crate) fn hash_secret(secret: &str) -> String {
    blake3::hash(secret.as_bytes()).to_hex().to_string()
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

pub(crate) fn hash_password(password: &str) -> Result<String> {
    let salt: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Server(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Server(format!("cannot hash the password: {e}")))
}

pub(crate) fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Checks a new password against the one rule that matters most (length).
pub fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::Password(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

/// Adds an account.
pub fn add<'a>(db: impl Into<Conn<'a>>, name: &str, role: Role, password: &str) -> Result<User> {
    let db = db.into();
    if !valid_name(name) {
        return Err(Error::UserName(name.to_owned()));
    }
    check_password(password)?;
    ensure_schema(db)?;
    let hash = hash_password(password)?;
    let created_at = now();
    let inserted = db.exec_unique(
        "INSERT INTO server_users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4)",
        &[&name, &role.as_str(), &hash, &created_at],
    )?;
    if inserted.is_none() {
        return Err(Error::UserExists(name.to_owned()));
    }
    let id = db
        .query_opt("SELECT id FROM server_users WHERE name = $1", &[&name])?
        .ok_or_else(|| Error::NoUser(name.to_owned()))?
        .int(0)?;
    audit_cli(db, "user.add", &format!("{name} ({role})"))?;
    Ok(User {
        id,
        name: name.to_owned(),
        role,
        created_at,
        has_api_token: false,
        locked_until: 0,
    })
}

fn read_user(r: &Row) -> Result<User> {
    let role = r.text(2)?;
    Ok(User {
        id: r.int(0)?,
        name: r.text(1)?,
        // A role this version does not know gets the least access rather than an error page.
        role: role.parse().unwrap_or(Role::Viewer),
        created_at: r.int(3)?,
        has_api_token: r.opt_text(4)?.is_some(),
        locked_until: r.int(5)?,
    })
}

const USER_COLUMNS: &str = "id, name, role, created_at, api_token_hash, locked_until";

/// The accounts, by name.
pub fn list<'a>(db: impl Into<Conn<'a>>) -> Result<Vec<User>> {
    let db = db.into();
    ensure_schema(db)?;
    db.query(
        &format!("SELECT {USER_COLUMNS} FROM server_users ORDER BY name"),
        &[],
    )?
    .iter()
    .map(read_user)
    .collect()
}

/// Whether at least one admin account exists (`serve` needs one to listen beyond loopback).
pub fn has_admin<'a>(db: impl Into<Conn<'a>>) -> Result<bool> {
    Ok(list(db)?.iter().any(|u| u.role == Role::Admin))
}

/// Removes an account, its sessions and its API token at once.
pub fn remove<'a>(db: impl Into<Conn<'a>>, name: &str) -> Result<()> {
    let db = db.into();
    ensure_schema(db)?;
    db.transaction(|tx| {
        tx.exec(
            "DELETE FROM server_sessions WHERE user_id IN (SELECT id FROM server_users WHERE name = $1)",
            &[&name],
        )?;
        let n = tx.exec("DELETE FROM server_users WHERE name = $1", &[&name])?;
        if n == 0 {
            return Err(Error::NoUser(name.to_owned()));
        }
        Ok(())
    })?;
    audit_cli(db, "user.remove", name)
}

/// Account changes are made on the server's machine (`taskmine user`), so they are recorded as
/// the command line's.
fn audit_cli(db: Conn<'_>, action: &str, detail: &str) -> Result<()> {
    crate::audit::append(db, &crate::audit::cli_actor(), action, detail, "local")
}

/// Makes a new API token for an account (replacing any earlier one) and returns it; only its hash
/// is kept.
pub fn new_api_token<'a>(db: impl Into<Conn<'a>>, name: &str) -> Result<String> {
    let db = db.into();
    ensure_schema(db)?;
    let token = secret("tmu_");
    let n = db.exec(
        "UPDATE server_users SET api_token_hash = $1 WHERE name = $2",
        &[&hash_secret(&token), &name],
    )?;
    if n == 0 {
        return Err(Error::NoUser(name.to_owned()));
    }
    audit_cli(db, "user.token", name)?;
    Ok(token)
}

/// The account an API token belongs to.
pub fn by_api_token<'a>(db: impl Into<Conn<'a>>, token: &str) -> Result<Option<User>> {
    db.into()
        .query_opt(
            &format!("SELECT {USER_COLUMNS} FROM server_users WHERE api_token_hash = $1"),
            &[&hash_secret(token)],
        )?
        .as_ref()
        .map(read_user)
        .transpose()
}

/// What a sign-in attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    Ok(User),
    /// Unknown name or wrong password (the two are not told apart).
    Wrong,
    /// The account is locked after repeated failures, until this time.
    Locked {
        until: Micros,
    },
}

/// A hash to check passwords of unknown names against, so that an unknown name takes as long as a
/// wrong password and the timing does not tell which names exist.
pub(crate) fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&secret("")).expect("hash a random password"))
}

/// Checks a name and password, counting failures: [`MAX_FAILED_SIGNINS`] in a row lock the
/// account for [`LOCKOUT_SECS`]; a locked account is refused without looking at the password.
pub fn sign_in<'a>(db: impl Into<Conn<'a>>, name: &str, password: &str) -> Result<SignIn> {
    let db = db.into();
    ensure_schema(db)?;
    let now = now();
    let row = db.query_opt(
        &format!(
            "SELECT {USER_COLUMNS}, password_hash, failed_signins FROM server_users WHERE name = $1"
        ),
        &[&name],
    )?;
    let Some(row) = row else {
        let _ = password_matches(password, decoy_hash());
        return Ok(SignIn::Wrong);
    };
    let (user, hash, failed) = (read_user(&row)?, row.text(6)?, row.int(7)?);
    if user.locked_until > now {
        return Ok(SignIn::Locked {
            until: user.locked_until,
        });
    }
    if password_matches(password, &hash) {
        db.exec(
            "UPDATE server_users SET failed_signins = 0, locked_until = 0 WHERE id = $1",
            &[&user.id],
        )?;
        return Ok(SignIn::Ok(User {
            locked_until: 0,
            ..user
        }));
    }
    // Counted in the database, not from what was read: two servers failing the same account at
    // once both count.
    let failed = failed + 1;
    if failed >= MAX_FAILED_SIGNINS {
        let until = now + LOCKOUT_SECS * 1_000_000;
        db.exec(
            "UPDATE server_users SET failed_signins = 0, locked_until = $1 WHERE id = $2",
            &[&until, &user.id],
        )?;
        return Ok(SignIn::Locked { until });
    }
    db.exec(
        "UPDATE server_users SET failed_signins = failed_signins + 1 WHERE id = $1",
        &[&user.id],
    )?;
    Ok(SignIn::Wrong)
}

/// A new session for a signed-in account: (session id for the cookie, CSRF token for its forms).
/// Always a new id, so an id planted before sign-in never becomes a signed-in session.
pub fn create_session<'a>(db: impl Into<Conn<'a>>, user_id: i64) -> Result<(String, String)> {
    let db = db.into();
    let id = secret("");
    let csrf = secret("");
    let now = now();
    // Expired sessions are dropped here, where sessions are written anyway.
    db.exec(
        "DELETE FROM server_sessions WHERE expires_at <= $1",
        &[&now],
    )?;
    db.exec(
        "INSERT INTO server_sessions (id_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        &[&hash_secret(&id), &user_id, &csrf, &now, &(now + SESSION_SECS * 1_000_000)],
    )?;
    Ok((id, csrf))
}

/// The account and CSRF token of a live session.
pub fn session<'a>(db: impl Into<Conn<'a>>, id: &str) -> Result<Option<(User, String)>> {
    let row = db.into().query_opt(
        "SELECT u.id, u.name, u.role, u.created_at, u.api_token_hash, u.locked_until, s.csrf
         FROM server_sessions s JOIN server_users u ON u.id = s.user_id
         WHERE s.id_hash = $1 AND s.expires_at > $2",
        &[&hash_secret(id), &now()],
    )?;
    row.map(|r| Ok((read_user(&r)?, r.text(6)?))).transpose()
}

/// Ends a session (sign-out, or the old session of a new sign-in).
pub fn end_session<'a>(db: impl Into<Conn<'a>>, id: &str) -> Result<()> {
    db.into()
        .exec(
            "DELETE FROM server_sessions WHERE id_hash = $1",
            &[&hash_secret(id)],
        )
        .map(drop)
        .map_err(Into::into)
}

/// Compares two secrets in time that does not depend on where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Reads a new password: `TASKMINE_PASSWORD` when set (scripts), otherwise twice from the terminal
/// without echo.
pub fn read_new_password() -> Result<String> {
    if let Ok(p) = std::env::var("TASKMINE_PASSWORD") {
        check_password(&p)?;
        return Ok(p);
    }
    let io = |e: std::io::Error| Error::Password(format!("cannot read the password: {e}"));
    let first = rpassword::prompt_password("password: ").map_err(io)?;
    check_password(&first)?;
    let again = rpassword::prompt_password("again: ").map_err(io)?;
    if first != again {
        return Err(Error::Password("the two passwords differ".into()));
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        ensure_schema(&c).unwrap();
        c
    }

    #[test]
    fn passwords_are_stored_as_argon2id_hashes_and_checked() {
        let c = conn();
        add(&c, "ana", Role::Analyst, "correct horse battery").unwrap();
        let stored: String = c
            .query_row("SELECT password_hash FROM server_users", [], |r| r.get(0))
            .unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("correct horse"));
        assert!(matches!(
            sign_in(&c, "ana", "correct horse battery").unwrap(),
            SignIn::Ok(u) if u.role == Role::Analyst
        ));
        assert_eq!(
            sign_in(&c, "ana", "wrong horse battery").unwrap(),
            SignIn::Wrong
        );
        assert_eq!(
            sign_in(&c, "nobody", "correct horse battery").unwrap(),
            SignIn::Wrong
        );
    }

    #[test]
    fn repeated_failures_lock_the_account_even_for_the_right_password() {
        let c = conn();
        add(&c, "vic", Role::Viewer, "a long enough password").unwrap();
        for _ in 1..MAX_FAILED_SIGNINS {
            assert_eq!(
                sign_in(&c, "vic", "guess guess guess").unwrap(),
                SignIn::Wrong
            );
        }
        assert!(matches!(
            sign_in(&c, "vic", "guess guess guess").unwrap(),
            SignIn::Locked { .. }
        ));
        assert!(matches!(
            sign_in(&c, "vic", "a long enough password").unwrap(),
            SignIn::Locked { .. }
        ));
        // The lock ending is a time in the database: moving it to the past unlocks.
        c.execute("UPDATE server_users SET locked_until = 1", [])
            .unwrap();
        assert!(matches!(
            sign_in(&c, "vic", "a long enough password").unwrap(),
            SignIn::Ok(_)
        ));
    }

    #[test]
    fn bad_names_roles_and_short_passwords_are_refused() {
        let c = conn();
        assert!(matches!(
            add(&c, "a b", Role::Viewer, "a long enough password"),
            Err(Error::UserName(_))
        ));
        assert!(matches!(
            add(&c, "ab", Role::Viewer, "short"),
            Err(Error::Password(_))
        ));
        assert!("boss".parse::<Role>().is_err());
        add(&c, "ab", Role::Viewer, "a long enough password").unwrap();
        assert!(matches!(
            add(&c, "ab", Role::Admin, "a long enough password"),
            Err(Error::UserExists(_))
        ));
        assert!(matches!(remove(&c, "zz"), Err(Error::NoUser(_))));
    }

    #[test]
    fn sessions_and_tokens_end_with_their_account() {
        let c = conn();
        let u = add(&c, "adm", Role::Admin, "a long enough password").unwrap();
        let (sid, csrf) = create_session(&c, u.id).unwrap();
        let token = new_api_token(&c, "adm").unwrap();
        assert_eq!(session(&c, &sid).unwrap().unwrap().1, csrf);
        assert_eq!(by_api_token(&c, &token).unwrap().unwrap().name, "adm");
        let stored: String = c
            .query_row("SELECT id_hash FROM server_sessions", [], |r| r.get(0))
            .unwrap();
        assert_ne!(stored, sid, "only the hash of a session id is stored");
        remove(&c, "adm").unwrap();
        assert!(session(&c, &sid).unwrap().is_none());
        assert!(by_api_token(&c, &token).unwrap().is_none());
        assert!(
            same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("ab", "abc")
        );
    }
}
