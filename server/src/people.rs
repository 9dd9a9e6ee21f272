//! Recorded people and their own view (GDPR article 15): an admin issues a person an access code
//! for their pseudonym; with the pseudonym and the code the person signs in to a page that shows
//! what was captured about them, and nobody else, and asks for erasure there.
//!
//! Codes are stored as argon2id hashes, like the accounts' passwords, and shown once when issued.
//! A person's session is not an account's: it opens the person's own pages only (`/me`), never a
//! dashboard page, and an account's session never opens a person's page. Failed sign-ins lock a
//! code as they lock an account. The rows name the person by pseudonym, so erasure deletes them
//! ([`forget`]).

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use uilog::Micros;

use crate::accounts::{self, LOCKOUT_SECS, MAX_FAILED_SIGNINS};
use crate::error::{Error, Result};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS server_people (
    pseudonym TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    failed_signins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0,
    erasure_requested_at INTEGER
);
CREATE TABLE IF NOT EXISTS server_person_sessions (
    id_hash TEXT PRIMARY KEY,
    pseudonym TEXT NOT NULL,
    csrf TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
";

/// How long a person's session lasts: long enough to read the page and ask for erasure.
pub const SESSION_SECS: i64 = 3600;

/// Letters of an access code: no 0/O, 1/I/L, so that a code read aloud or typed is not mistaken.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

fn sql(conn: &Connection) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |source| Error::Sqlite {
        path: conn.path().unwrap_or("").into(),
        source,
    }
}

pub fn ensure_schema(conn: &Connection) -> Result<()> {
    conn.execute_batch(SCHEMA).map_err(sql(conn))
}

/// A person who has an access code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub pseudonym: String,
    pub issued_at: Micros,
    pub locked_until: Micros,
    /// When the person asked for erasure on their page (none if they did not).
    pub erasure_requested_at: Option<Micros>,
}

/// A new access code: 20 letters of [`CODE_ALPHABET`] (98 bits) in groups of five.
fn new_code() -> String {
    let mut s = String::with_capacity(23);
    for i in 0..20 {
        if i > 0 && i % 5 == 0 {
            s.push('-');
        }
        let k = rand::random_range(0..CODE_ALPHABET.len());
        s.push(CODE_ALPHABET[k] as char);
    }
    s
}

/// How a typed code is compared: case, spaces and dashes do not matter.
fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Issues `pseudonym` a new access code (replacing an earlier one and ending its sessions) and
/// returns it; only its hash is kept. The caller checks that the log knows the pseudonym and
/// records who issued it.
pub fn issue_code(conn: &Connection, pseudonym: &str) -> Result<String> {
    ensure_schema(conn)?;
    let code = new_code();
    let hash = accounts::hash_password(&normalize_code(&code))?;
    let tx = conn.unchecked_transaction().map_err(sql(conn))?;
    tx.execute(
        "INSERT INTO server_people (pseudonym, code_hash, issued_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (pseudonym) DO UPDATE SET code_hash = excluded.code_hash,
             issued_at = excluded.issued_at, failed_signins = 0, locked_until = 0",
        params![pseudonym, hash, accounts::now()],
    )
    .map_err(sql(conn))?;
    tx.execute(
        "DELETE FROM server_person_sessions WHERE pseudonym = ?1",
        [pseudonym],
    )
    .map_err(sql(conn))?;
    tx.commit().map_err(sql(conn))?;
    Ok(code)
}

/// The people with access codes, by pseudonym.
pub fn list(conn: &Connection) -> Result<Vec<Person>> {
    ensure_schema(conn)?;
    let mut stmt = conn
        .prepare(
            "SELECT pseudonym, issued_at, locked_until, erasure_requested_at FROM server_people
             ORDER BY pseudonym",
        )
        .map_err(sql(conn))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Person {
                pseudonym: r.get(0)?,
                issued_at: r.get(1)?,
                locked_until: r.get(2)?,
                erasure_requested_at: r.get(3)?,
            })
        })
        .map_err(sql(conn))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql(conn))
}

/// What a person's sign-in came to (the accounts' [`accounts::SignIn`] without the account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonSignIn {
    Ok,
    /// Unknown pseudonym or wrong code (not told apart).
    Wrong,
    Locked {
        until: Micros,
    },
}

/// Checks a pseudonym and code, counting failures as [`accounts::sign_in`] does.
pub fn sign_in(conn: &Connection, pseudonym: &str, code: &str) -> Result<PersonSignIn> {
    ensure_schema(conn)?;
    let now = accounts::now();
    let row: Option<(String, i64, i64)> = conn
        .query_row(
            "SELECT code_hash, failed_signins, locked_until FROM server_people WHERE pseudonym = ?1",
            [pseudonym],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(sql(conn))?;
    let code = normalize_code(code);
    let Some((hash, failed, locked_until)) = row else {
        // As long as a wrong code takes, so that timing does not tell which pseudonyms have codes.
        let _ = accounts::password_matches(&code, accounts::decoy_hash());
        return Ok(PersonSignIn::Wrong);
    };
    if locked_until > now {
        return Ok(PersonSignIn::Locked {
            until: locked_until,
        });
    }
    if accounts::password_matches(&code, &hash) {
        conn.execute(
            "UPDATE server_people SET failed_signins = 0, locked_until = 0 WHERE pseudonym = ?1",
            [pseudonym],
        )
        .map_err(sql(conn))?;
        return Ok(PersonSignIn::Ok);
    }
    let failed = failed + 1;
    if failed >= MAX_FAILED_SIGNINS {
        let until = now + LOCKOUT_SECS * 1_000_000;
        conn.execute(
            "UPDATE server_people SET failed_signins = 0, locked_until = ?1 WHERE pseudonym = ?2",
            params![until, pseudonym],
        )
        .map_err(sql(conn))?;
        return Ok(PersonSignIn::Locked { until });
    }
    conn.execute(
        "UPDATE server_people SET failed_signins = ?1 WHERE pseudonym = ?2",
        params![failed, pseudonym],
    )
    .map_err(sql(conn))?;
    Ok(PersonSignIn::Wrong)
}

/// A new session for a signed-in person: (session id for the cookie, CSRF token for the forms).
pub fn create_session(conn: &Connection, pseudonym: &str) -> Result<(String, String)> {
    ensure_schema(conn)?;
    let id = accounts::secret("");
    let csrf = accounts::secret("");
    let now = accounts::now();
    conn.execute(
        "DELETE FROM server_person_sessions WHERE expires_at <= ?1",
        [now],
    )
    .map_err(sql(conn))?;
    conn.execute(
        "INSERT INTO server_person_sessions (id_hash, pseudonym, csrf, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![accounts::hash_secret(&id), pseudonym, csrf, now + SESSION_SECS * 1_000_000],
    )
    .map_err(sql(conn))?;
    Ok((id, csrf))
}

/// The pseudonym and CSRF token of a live person's session.
pub fn session(conn: &Connection, id: &str) -> Result<Option<(String, String)>> {
    ensure_schema(conn)?;
    conn.query_row(
        "SELECT pseudonym, csrf FROM server_person_sessions WHERE id_hash = ?1 AND expires_at > ?2",
        params![accounts::hash_secret(id), accounts::now()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
    .map_err(sql(conn))
}

pub fn end_session(conn: &Connection, id: &str) -> Result<()> {
    ensure_schema(conn)?;
    conn.execute(
        "DELETE FROM server_person_sessions WHERE id_hash = ?1",
        [accounts::hash_secret(id)],
    )
    .map(|_| ())
    .map_err(sql(conn))
}

/// Notes that the person asked for erasure (an admin erases; the request shows on the admin page).
pub fn request_erasure(conn: &Connection, pseudonym: &str) -> Result<()> {
    ensure_schema(conn)?;
    conn.execute(
        "UPDATE server_people SET erasure_requested_at = coalesce(erasure_requested_at, ?1)
         WHERE pseudonym = ?2",
        params![accounts::now(), pseudonym],
    )
    .map(|_| ())
    .map_err(sql(conn))
}

/// Deletes the person's code, request and sessions (part of their erasure).
pub fn forget(conn: &Connection, pseudonym: &str) -> Result<()> {
    ensure_schema(conn)?;
    conn.execute(
        "DELETE FROM server_person_sessions WHERE pseudonym = ?1",
        [pseudonym],
    )
    .and_then(|_| {
        conn.execute(
            "DELETE FROM server_people WHERE pseudonym = ?1",
            [pseudonym],
        )
    })
    .map(|_| ())
    .map_err(sql(conn))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        ensure_schema(&c).unwrap();
        c
    }

    #[test]
    fn a_code_is_stored_hashed_opens_only_its_pseudonym_and_a_new_one_replaces_it() {
        let c = conn();
        let code = issue_code(&c, "user-01").unwrap();
        assert_eq!(code.len(), 23, "{code}");
        let stored: String = c
            .query_row("SELECT code_hash FROM server_people", [], |r| r.get(0))
            .unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains(&normalize_code(&code)));
        assert_eq!(sign_in(&c, "user-01", &code).unwrap(), PersonSignIn::Ok);
        // Typed in lower case without dashes, it is the same code.
        let sloppy = code.to_lowercase().replace('-', " ");
        assert_eq!(sign_in(&c, "user-01", &sloppy).unwrap(), PersonSignIn::Ok);
        assert_eq!(sign_in(&c, "user-02", &code).unwrap(), PersonSignIn::Wrong);
        let (sid, _) = create_session(&c, "user-01").unwrap();
        assert_eq!(session(&c, &sid).unwrap().unwrap().0, "user-01");
        let newer = issue_code(&c, "user-01").unwrap();
        assert_ne!(newer, code);
        assert_eq!(sign_in(&c, "user-01", &code).unwrap(), PersonSignIn::Wrong);
        assert!(
            session(&c, &sid).unwrap().is_none(),
            "a new code ends the sessions of the old one"
        );
    }

    #[test]
    fn guessing_locks_the_code_and_forgetting_removes_every_row() {
        let c = conn();
        let code = issue_code(&c, "p").unwrap();
        for _ in 1..MAX_FAILED_SIGNINS {
            assert_eq!(
                sign_in(&c, "p", "AAAAA-AAAAA").unwrap(),
                PersonSignIn::Wrong
            );
        }
        assert!(matches!(
            sign_in(&c, "p", "AAAAA-AAAAA").unwrap(),
            PersonSignIn::Locked { .. }
        ));
        assert!(matches!(
            sign_in(&c, "p", &code).unwrap(),
            PersonSignIn::Locked { .. }
        ));
        create_session(&c, "p").unwrap();
        request_erasure(&c, "p").unwrap();
        assert!(list(&c).unwrap()[0].erasure_requested_at.is_some());
        forget(&c, "p").unwrap();
        let left: i64 = c
            .query_row(
                "SELECT (SELECT count(*) FROM server_people) + (SELECT count(*) FROM server_person_sessions)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
    }
}
