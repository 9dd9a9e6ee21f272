//! Recorded people and their own view (GDPR article 15): with an access code a person signs in to a
//! page that shows what was captured about them, and nobody else, and asks for erasure there.
//!
//! A code comes one of two ways. Normally the recorder derives it from its pseudonym key and the
//! person's login name (`taskmine record --access-code`, `recorder::privacy::Privacy::access_code`
//! in the recorder crate), and the uploader sends, beside the person's events, a [`verifier`] of it
//! bound to the pseudonym; the server never sees the key, the name or the code, and the person signs
//! in with the code alone. For a log that came in some other way (an import), an admin issues a code
//! for a pseudonym ([`issue_code`]), stored as an argon2id hash like the accounts' passwords, shown
//! once; that one needs the pseudonym too.
//!
//! A person's session is not an account's: it opens the person's own pages only (`/me`), never a
//! dashboard page, and an account's session never opens a person's page. Failed sign-ins lock a
//! code as they lock an account. The rows name the person by pseudonym, so erasure deletes them
//! ([`forget`]).

use serde::Serialize;
use uilog::Micros;

use crate::accounts::{self, LOCKOUT_SECS, MAX_FAILED_SIGNINS};
use crate::db::Conn;
use crate::error::Result;

/// The tables in a SQLite file; on PostgreSQL they are made by [`crate::db::SERVER_PG_MIGRATIONS`].
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS server_people (
    pseudonym TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    failed_signins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0,
    erasure_requested_at INTEGER
);
CREATE TABLE IF NOT EXISTS server_person_verifiers (
    pseudonym TEXT PRIMARY KEY,
    verifier TEXT NOT NULL,
    agent TEXT NOT NULL,
    registered_at INTEGER NOT NULL,
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

/// Creates the tables in a SQLite file if they are missing (PostgreSQL's come from the server's
/// migrations).
pub fn ensure_schema<'a>(db: impl Into<Conn<'a>>) -> Result<()> {
    Ok(db.into().sqlite_batch(SCHEMA)?)
}

/// Symbols of a recorder-derived code (the recorder's `ACCESS_CODE_SYMBOLS`): 120 bits.
pub const RECORDER_CODE_SYMBOLS: usize = 24;

/// The recorder's alphabet for its codes (Crockford's base 32).
const RECORDER_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A typed code in the recorder's form: upper case, separators dropped, O read as 0 and I, L as 1
/// (Crockford); `None` when it is not [`RECORDER_CODE_SYMBOLS`] symbols of the alphabet.
fn recorder_code(code: &str) -> Option<String> {
    let mut out = String::with_capacity(RECORDER_CODE_SYMBOLS);
    for c in code.chars() {
        if c.is_whitespace() || c == '-' {
            continue;
        }
        let c = match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !RECORDER_ALPHABET.contains(&(c as u8)) {
            return None;
        }
        out.push(c);
    }
    (out.len() == RECORDER_CODE_SYMBOLS).then_some(out)
}

/// The verifier of a recorder-derived access code for `pseudonym`: 64 hex digits of BLAKE3 in
/// key-derivation mode (a label of its own) over the pseudonym and the normalized code. `None`
/// when `code` is not a recorder code.
///
/// What the server keeps is this hash, never the code. Someone who takes the database learns
/// which pseudonyms have codes, but to turn a verifier back into a code they must search the
/// code's 120 bits: a hash of a random-looking 120-bit value needs no slow password hash to resist
/// that. Binding the pseudonym in means a verifier opens only the pseudonym it was sent for, and a
/// search would have to be repeated for each person.
pub fn verifier(pseudonym: &str, code: &str) -> Option<String> {
    let code = recorder_code(code)?;
    Some(verifier_of(pseudonym, &code))
}

fn verifier_of(pseudonym: &str, normalized: &str) -> String {
    let mut material = Vec::with_capacity(pseudonym.len() + 1 + normalized.len());
    material.extend_from_slice(pseudonym.as_bytes());
    material.push(0);
    material.extend_from_slice(normalized.as_bytes());
    let key = blake3::derive_key(
        "taskmine server 2026 person access code verifier",
        &material,
    );
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `v` has the form of a [`verifier`] (the ingest API checks this before storing one).
pub fn is_verifier(v: &str) -> bool {
    v.len() == 64 && v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// What became of a verifier an agent sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// The pseudonym had none: this one opens its page from now on.
    New,
    /// The pseudonym has this one already.
    Known,
    /// The pseudonym has another one, which stays. A person's code never changes (it is a function
    /// of the key and the name, and so is the pseudonym), so a different verifier is someone else
    /// claiming the pseudonym; the caller writes it into the audit trail.
    Conflict,
}

/// Keeps `verifier` for `pseudonym`, first come first kept. The caller checks that the batch that
/// carried it holds the pseudonym's events, so an agent cannot make itself a code for a person
/// it never sent events of.
pub fn register_verifier<'a>(
    db: impl Into<Conn<'a>>,
    pseudonym: &str,
    verifier: &str,
    agent: &str,
) -> Result<Registered> {
    let conn = db.into();
    ensure_schema(conn)?;
    let added = conn.exec(
        "INSERT INTO server_person_verifiers (pseudonym, verifier, agent, registered_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (pseudonym) DO NOTHING",
        &[&pseudonym, &verifier, &agent, &accounts::now()],
    )?;
    if added == 1 {
        return Ok(Registered::New);
    }
    let kept = conn
        .query_opt(
            "SELECT verifier FROM server_person_verifiers WHERE pseudonym = $1",
            &[&pseudonym],
        )?
        .map(|r| r.text(0))
        .transpose()?
        .unwrap_or_default();
    Ok(if accounts::same_secret(&kept, verifier) {
        Registered::Known
    } else {
        Registered::Conflict
    })
}

/// A person who has an access code: one an admin issued, one their recorder derived, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub pseudonym: String,
    /// When an admin issued the code (none if no admin did).
    pub issued_at: Option<Micros>,
    /// When the verifier of the recorder's code arrived (none if no recorder sent one).
    pub verified_at: Option<Micros>,
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
pub fn issue_code<'a>(db: impl Into<Conn<'a>>, pseudonym: &str) -> Result<String> {
    let conn = db.into();
    ensure_schema(conn)?;
    let code = new_code();
    let hash = accounts::hash_password(&normalize_code(&code))?;
    conn.transaction(|tx| -> Result<()> {
        tx.exec(
            "INSERT INTO server_people (pseudonym, code_hash, issued_at) VALUES ($1, $2, $3)
             ON CONFLICT (pseudonym) DO UPDATE SET code_hash = excluded.code_hash,
                 issued_at = excluded.issued_at, failed_signins = 0, locked_until = 0",
            &[&pseudonym, &hash, &accounts::now()],
        )?;
        tx.exec(
            "DELETE FROM server_person_sessions WHERE pseudonym = $1",
            &[&pseudonym],
        )?;
        Ok(())
    })?;
    Ok(code)
}

/// The people with access codes, by pseudonym.
pub fn list<'a>(db: impl Into<Conn<'a>>) -> Result<Vec<Person>> {
    let conn = db.into();
    ensure_schema(conn)?;
    let mut people: std::collections::BTreeMap<String, Person> = Default::default();
    let blank = |pseudonym: &str| Person {
        pseudonym: pseudonym.to_owned(),
        issued_at: None,
        verified_at: None,
        locked_until: 0,
        erasure_requested_at: None,
    };
    for r in conn.query(
        "SELECT pseudonym, issued_at, locked_until, erasure_requested_at FROM server_people",
        &[],
    )? {
        let p = r.text(0)?;
        let e = people.entry(p.clone()).or_insert_with(|| blank(&p));
        e.issued_at = Some(r.int(1)?);
        e.locked_until = r.int(2)?;
        e.erasure_requested_at = r.opt_int(3)?;
    }
    for r in conn.query(
        "SELECT pseudonym, registered_at, erasure_requested_at FROM server_person_verifiers",
        &[],
    )? {
        let p = r.text(0)?;
        let asked = r.opt_int(2)?;
        let e = people.entry(p.clone()).or_insert_with(|| blank(&p));
        e.verified_at = Some(r.int(1)?);
        e.erasure_requested_at = match (e.erasure_requested_at, asked) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    Ok(people.into_values().collect())
}

/// What a person's sign-in came to (the accounts' [`accounts::SignIn`] without the account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonSignIn {
    /// The code opens this pseudonym's page.
    Ok {
        pseudonym: String,
    },
    /// Unknown pseudonym or wrong code (not told apart).
    Wrong,
    Locked {
        until: Micros,
    },
}

/// Checks a code, with or without the pseudonym. A recorder-derived code is looked for among the
/// verifiers (all of them when no pseudonym is given: one BLAKE3 per recorded person, microseconds
/// for thousands); it is never locked, since guessing 120 bits is hopeless and the per-address rate
/// limit of the sign-in form bounds the tries anyway. An admin-issued code needs the pseudonym and
/// counts failures as [`accounts::sign_in`] does.
pub fn sign_in<'a>(db: impl Into<Conn<'a>>, pseudonym: &str, code: &str) -> Result<PersonSignIn> {
    let conn = db.into();
    ensure_schema(conn)?;
    let pseudonym = pseudonym.trim();
    if let Some(normalized) = recorder_code(code) {
        if let Some(found) = find_by_verifier(conn, pseudonym, &normalized)? {
            return Ok(PersonSignIn::Ok { pseudonym: found });
        }
    }
    if pseudonym.is_empty() {
        return Ok(PersonSignIn::Wrong);
    }
    let now = accounts::now();
    let row = conn.query_opt(
        "SELECT code_hash, failed_signins, locked_until FROM server_people WHERE pseudonym = $1",
        &[&pseudonym],
    )?;
    let code = normalize_code(code);
    let Some(row) = row else {
        // As long as a wrong code takes, so that timing does not tell which pseudonyms have codes.
        let _ = accounts::password_matches(&code, accounts::decoy_hash());
        return Ok(PersonSignIn::Wrong);
    };
    let (hash, failed, locked_until) = (row.text(0)?, row.int(1)?, row.int(2)?);
    if locked_until > now {
        return Ok(PersonSignIn::Locked {
            until: locked_until,
        });
    }
    if accounts::password_matches(&code, &hash) {
        conn.exec(
            "UPDATE server_people SET failed_signins = 0, locked_until = 0 WHERE pseudonym = $1",
            &[&pseudonym],
        )?;
        return Ok(PersonSignIn::Ok {
            pseudonym: pseudonym.to_owned(),
        });
    }
    let failed = failed + 1;
    if failed >= MAX_FAILED_SIGNINS {
        let until = now + LOCKOUT_SECS * 1_000_000;
        conn.exec(
            "UPDATE server_people SET failed_signins = 0, locked_until = $1 WHERE pseudonym = $2",
            &[&until, &pseudonym],
        )?;
        return Ok(PersonSignIn::Locked { until });
    }
    conn.exec(
        "UPDATE server_people SET failed_signins = $1 WHERE pseudonym = $2",
        &[&failed, &pseudonym],
    )?;
    Ok(PersonSignIn::Wrong)
}

/// The pseudonym whose verifier `normalized` matches (only `pseudonym`'s when one is given).
fn find_by_verifier(conn: Conn<'_>, pseudonym: &str, normalized: &str) -> Result<Option<String>> {
    for r in conn.query(
        "SELECT pseudonym, verifier FROM server_person_verifiers
         WHERE pseudonym = $1 OR $1 = ''",
        &[&pseudonym],
    )? {
        let (p, v) = (r.text(0)?, r.text(1)?);
        if accounts::same_secret(&verifier_of(&p, normalized), &v) {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

/// A new session for a signed-in person: (session id for the cookie, CSRF token for the forms).
pub fn create_session<'a>(db: impl Into<Conn<'a>>, pseudonym: &str) -> Result<(String, String)> {
    let conn = db.into();
    ensure_schema(conn)?;
    let id = accounts::secret("");
    let csrf = accounts::secret("");
    let now = accounts::now();
    conn.exec(
        "DELETE FROM server_person_sessions WHERE expires_at <= $1",
        &[&now],
    )?;
    conn.exec(
        "INSERT INTO server_person_sessions (id_hash, pseudonym, csrf, expires_at) VALUES ($1, $2, $3, $4)",
        &[
            &accounts::hash_secret(&id),
            &pseudonym,
            &csrf,
            &(now + SESSION_SECS * 1_000_000),
        ],
    )?;
    Ok((id, csrf))
}

/// The pseudonym and CSRF token of a live person's session.
pub fn session<'a>(db: impl Into<Conn<'a>>, id: &str) -> Result<Option<(String, String)>> {
    let conn = db.into();
    ensure_schema(conn)?;
    conn.query_opt(
        "SELECT pseudonym, csrf FROM server_person_sessions WHERE id_hash = $1 AND expires_at > $2",
        &[&accounts::hash_secret(id), &accounts::now()],
    )?
    .map(|r| Ok((r.text(0)?, r.text(1)?)))
    .transpose()
}

pub fn end_session<'a>(db: impl Into<Conn<'a>>, id: &str) -> Result<()> {
    let conn = db.into();
    ensure_schema(conn)?;
    conn.exec(
        "DELETE FROM server_person_sessions WHERE id_hash = $1",
        &[&accounts::hash_secret(id)],
    )?;
    Ok(())
}

/// Notes that the person asked for erasure (an admin erases; the request shows on the admin page).
pub fn request_erasure<'a>(db: impl Into<Conn<'a>>, pseudonym: &str) -> Result<()> {
    let conn = db.into();
    ensure_schema(conn)?;
    let now = accounts::now();
    for table in ["server_people", "server_person_verifiers"] {
        conn.exec(
            &format!(
                "UPDATE {table} SET erasure_requested_at = coalesce(erasure_requested_at, $1)
                 WHERE pseudonym = $2"
            ),
            &[&now, &pseudonym],
        )?;
    }
    Ok(())
}

/// Deletes the person's codes, verifier, request and sessions (part of their erasure). Should
/// their recorder send events again, its next batch brings the verifier back with them. Returns
/// how many rows went.
pub fn forget<'a>(db: impl Into<Conn<'a>>, pseudonym: &str) -> Result<u64> {
    let conn = db.into();
    ensure_schema(conn)?;
    let mut n = 0;
    for table in [
        "server_person_sessions",
        "server_people",
        "server_person_verifiers",
    ] {
        n += conn.exec(
            &format!("DELETE FROM {table} WHERE pseudonym = $1"),
            &[&pseudonym],
        )?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(p: &str) -> PersonSignIn {
        PersonSignIn::Ok {
            pseudonym: p.to_owned(),
        }
    }

    use rusqlite::Connection;

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
        assert_eq!(sign_in(&c, "user-01", &code).unwrap(), ok("user-01"));
        // Typed in lower case without dashes, it is the same code.
        let sloppy = code.to_lowercase().replace('-', " ");
        assert_eq!(sign_in(&c, "user-01", &sloppy).unwrap(), ok("user-01"));
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
        let v = verifier("p", "0123-4567-89AB-CDEF-GHJK-MNPQ").unwrap();
        register_verifier(&c, "p", &v, "agent").unwrap();
        create_session(&c, "p").unwrap();
        request_erasure(&c, "p").unwrap();
        assert!(list(&c).unwrap()[0].erasure_requested_at.is_some());
        forget(&c, "p").unwrap();
        let left: i64 = c
            .query_row(
                "SELECT (SELECT count(*) FROM server_people) + (SELECT count(*) FROM server_person_sessions)
                      + (SELECT count(*) FROM server_person_verifiers)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
    }

    /// A code as a recorder prints it (the recorder's own derivation is tested in its crate and,
    /// against this module, in `taskmine record`'s tests).
    const CODE: &str = "7K2M-QX4D-9TRB-WZ3H-N8VC-J5PE";

    #[test]
    fn a_recorder_code_opens_the_pseudonym_its_verifier_was_sent_for_with_or_without_it() {
        let c = conn();
        let v = verifier("user-aa", CODE).unwrap();
        assert!(is_verifier(&v), "{v}");
        // Bound to the pseudonym: the same code gives another verifier for another person.
        assert_ne!(verifier("user-bb", CODE).unwrap(), v);
        // Typed sloppily (case, separators, O for 0, l for 1), it is the same code.
        let sloppy = "7k2m qx4d 9trb wz3h n8vc j5pe";
        assert_eq!(verifier("user-aa", sloppy).unwrap(), v);
        assert_eq!(
            verifier("x", "0000-1111-2222-3333-4444-5551"),
            verifier("x", "oooo-iiii-2222-3333-4444-555l")
        );
        // Not a recorder code: wrong length, or U (not in the alphabet).
        assert_eq!(verifier("user-aa", "7K2M-QX4D"), None);
        assert_eq!(verifier("user-aa", "UK2M-QX4D-9TRB-WZ3H-N8VC-J5PE"), None);

        assert_eq!(sign_in(&c, "", CODE).unwrap(), PersonSignIn::Wrong);
        assert_eq!(
            register_verifier(&c, "user-aa", &v, "desk-1").unwrap(),
            Registered::New
        );
        let other = verifier("user-bb", "2222-3333-4444-5555-6666-7777").unwrap();
        register_verifier(&c, "user-bb", &other, "desk-2").unwrap();
        assert_eq!(sign_in(&c, "", CODE).unwrap(), ok("user-aa"));
        assert_eq!(sign_in(&c, "user-aa", sloppy).unwrap(), ok("user-aa"));
        // With another person's pseudonym, or one symbol off, it opens nothing.
        assert_eq!(sign_in(&c, "user-bb", CODE).unwrap(), PersonSignIn::Wrong);
        let off = CODE.replace("J5PE", "J5PF");
        assert_eq!(sign_in(&c, "", &off).unwrap(), PersonSignIn::Wrong);
        // The stored row holds the verifier, not the code.
        let stored: String = c
            .query_row(
                "SELECT group_concat(pseudonym || verifier || agent) FROM server_person_verifiers",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!stored.contains("7K2MQX4D") && !stored.contains(CODE));
        let people = list(&c).unwrap();
        assert_eq!(people.len(), 2);
        assert!(people[0].verified_at.is_some() && people[0].issued_at.is_none());
    }

    #[test]
    fn the_first_verifier_of_a_pseudonym_is_kept_and_another_is_a_conflict() {
        let c = conn();
        let v = verifier("user-aa", CODE).unwrap();
        let forged = verifier("user-aa", "2222-3333-4444-5555-6666-7777").unwrap();
        assert_eq!(
            register_verifier(&c, "user-aa", &v, "a").unwrap(),
            Registered::New
        );
        assert_eq!(
            register_verifier(&c, "user-aa", &v, "a").unwrap(),
            Registered::Known
        );
        assert_eq!(
            register_verifier(&c, "user-aa", &forged, "b").unwrap(),
            Registered::Conflict
        );
        assert_eq!(sign_in(&c, "", CODE).unwrap(), ok("user-aa"));
        assert_eq!(
            sign_in(&c, "", "2222-3333-4444-5555-6666-7777").unwrap(),
            PersonSignIn::Wrong
        );
        // An erasure request of a person with a recorder code only is kept.
        request_erasure(&c, "user-aa").unwrap();
        assert!(list(&c).unwrap()[0].erasure_requested_at.is_some());
        // An admin-issued code works beside the recorder's.
        let issued = issue_code(&c, "user-aa").unwrap();
        assert_eq!(sign_in(&c, "user-aa", &issued).unwrap(), ok("user-aa"));
        assert_eq!(sign_in(&c, "", &issued).unwrap(), PersonSignIn::Wrong);
        assert_eq!(sign_in(&c, "", CODE).unwrap(), ok("user-aa"));
    }
}
