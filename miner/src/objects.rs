//! Business objects a routine instance worked on: invoice, order, ticket and customer numbers found
//! in its typed, copied and pasted values, window titles, element names and URLs.
//!
//! Extraction reads the log as the privacy policy left it. Where the policy kept text, identifiers
//! are found by patterns ([`ObjectRules`], configurable in YAML) and typed by the pattern that
//! found them. Where it kept only the keyed value hash, the instance keeps its hashes
//! ([`InstanceObjects::hashes`]): an identifier from elsewhere (a process log) is linked by hashing
//! it with the same key ([`value_key_from_secret`]) — the value itself is never recovered.
//!
//! When a mining result is saved, the objects of its instances are saved with it ([`store`]:
//! instance, object type, identifier as kept — plain, or the keyed hash as 16 hex digits); link
//! and the OCEL export read them back ([`stored_or_extract`]) while the rules and the log are those
//! they were found with, and compute them from the store otherwise.

use std::collections::HashMap;
use std::path::Path;

use regex::Regex;
use serde::{Deserialize, Serialize};
use uilog::{Conn, EventKind, EventRow, LogRead, Micros, ValueHash};

use crate::error::{Error, Result};
use crate::mining::Mining;

/// One identifier pattern: a regular expression and the object type of what it finds. With a
/// capture group, the group is the identifier (`invoice\s*(\d+)` finds `12345`); without one, the
/// whole match is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdPattern {
    #[serde(rename = "type")]
    pub object_type: String,
    pub pattern: String,
    /// A check digit scheme the identifier must satisfy; a match that fails it is no identifier
    /// of this type (later patterns may still take it).
    #[serde(default, skip_serializing_if = "Checksum::is_none")]
    pub checksum: Checksum,
}

/// Check digit schemes of identifiers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Checksum {
    #[default]
    None,
    /// GS1 GTIN (EAN-8, UPC-A, EAN-13, GTIN-14): weights 3 and 1 from the right, mod 10.
    Gtin,
    /// Luhn mod 10 (customer and account numbers of many systems).
    Luhn,
    /// ISO 13616 IBAN: the country and check digits moved to the end, letters as 10–35, mod 97.
    Iban,
}

impl Checksum {
    fn is_none(&self) -> bool {
        *self == Checksum::None
    }

    /// Whether `id` satisfies the scheme.
    pub fn holds(self, id: &str) -> bool {
        match self {
            Checksum::None => true,
            Checksum::Gtin => gs1_mod10(id),
            Checksum::Luhn => luhn(id),
            Checksum::Iban => iban_mod97(id),
        }
    }
}

fn digits(id: &str) -> Option<Vec<u32>> {
    let d: Option<Vec<u32>> = id.chars().map(|c| c.to_digit(10)).collect();
    d.filter(|d| d.len() >= 2)
}

fn gs1_mod10(id: &str) -> bool {
    let Some(d) = digits(id) else { return false };
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| if i % 2 == 1 { 3 * x } else { x })
        .sum();
    sum % 10 == 0
}

fn luhn(id: &str) -> bool {
    let Some(d) = digits(id) else { return false };
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| match (i % 2, 2 * x) {
            (1, y) if y > 9 => y - 9,
            (1, y) => y,
            _ => x,
        })
        .sum();
    sum % 10 == 0
}

fn iban_mod97(id: &str) -> bool {
    let id: String = id.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&id.len()) || !id.is_ascii() {
        return false;
    }
    let (head, rest) = id.split_at(4);
    let mut r: u32 = 0;
    for c in rest.chars().chain(head.chars()) {
        let v = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            _ => return false,
        };
        // Letters are two digits.
        r = if v >= 10 {
            (r * 100 + v) % 97
        } else {
            (r * 10 + v) % 97
        };
    }
    r == 1
}

/// The identifier patterns, in priority order: a value two patterns find gets the type of the
/// first, so specific patterns come before the generic number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectRules {
    pub patterns: Vec<IdPattern>,
}

impl Default for ObjectRules {
    fn default() -> Self {
        let checked = |t: &str, re: &str, checksum: Checksum| IdPattern {
            object_type: t.to_owned(),
            pattern: re.to_owned(),
            checksum,
        };
        let p = |t: &str, re: &str| checked(t, re, Checksum::None);
        ObjectRules {
            patterns: vec![
                p("invoice", r"\bINV-?\d{3,12}\b"),
                p(
                    "invoice",
                    r"(?i)\binvoice\s*(?:no\.?|number|#)?\s*(\d{4,12})\b",
                ),
                p("order", r"\b(?:SO|PO)-?\d{4,12}\b"),
                p("order", r"(?i)\border\s*(?:no\.?|number|#)?\s*(\d{4,12})\b"),
                p("ticket", r"\b(?:TCK|TKT|INC)-?\d{3,12}\b"),
                p(
                    "ticket",
                    r"(?i)\bticket\s*(?:no\.?|number|#)?\s*#?(\d{4,12})\b",
                ),
                p("customer", r"\bCUST-?\d{3,12}\b"),
                p(
                    "customer",
                    r"(?i)\bcustomer\s*(?:no\.?|number|#)\s*(\d{4,12})\b",
                ),
                p("product", r"\bP-\d{4,10}\b"),
                // Product barcodes and bank accounts carry check digits: a number of the right
                // length that fails them is something else.
                checked("product", r"\b\d{12,14}\b", Checksum::Gtin),
                checked(
                    "account",
                    r"\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b",
                    Checksum::Iban,
                ),
                p("number", r"\b\d{6,10}\b"),
            ],
        }
    }
}

impl ObjectRules {
    /// Reads rules from a YAML file (`patterns: [{type: invoice, pattern: 'INV-\d+'}]`); errors
    /// name the file, line and field.
    pub fn load(path: &Path) -> Result<ObjectRules> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let rules: ObjectRules = serde_norway::from_str(&text).map_err(|e| Error::Parse {
            file: path.to_path_buf(),
            line: e.location().map_or(0, |l| l.line() as u64),
            field: "patterns".into(),
            message: e.to_string(),
        })?;
        rules.compile_at(path, &text)?;
        Ok(rules)
    }

    /// The rules ready to match.
    pub fn compile(&self) -> Result<IdMatcher> {
        self.compile_at(Path::new("<object rules>"), "")
    }

    fn compile_at(&self, file: &Path, text: &str) -> Result<IdMatcher> {
        let mut patterns = Vec::with_capacity(self.patterns.len());
        for (i, p) in self.patterns.iter().enumerate() {
            let line = text
                .lines()
                .position(|l| l.contains(&p.pattern))
                .map_or(0, |n| n as u64 + 1);
            let bad = |message: String| Error::Parse {
                file: file.to_path_buf(),
                line,
                field: format!("patterns[{i}].pattern"),
                message,
            };
            if p.object_type.trim().is_empty() {
                return Err(Error::Parse {
                    file: file.to_path_buf(),
                    line,
                    field: format!("patterns[{i}].type"),
                    message: "is empty".into(),
                });
            }
            let re = Regex::new(&p.pattern).map_err(|e| bad(e.to_string()))?;
            if re.captures_len() > 2 {
                return Err(bad("has more than one capture group".into()));
            }
            patterns.push((p.object_type.clone(), re, p.checksum));
        }
        Ok(IdMatcher { patterns })
    }
}

/// Compiled [`ObjectRules`].
#[derive(Debug, Clone)]
pub struct IdMatcher {
    patterns: Vec<(String, Regex, Checksum)>,
}

impl IdMatcher {
    /// The object types, in pattern order (an [`ObjectRef::type_index`] points here).
    pub fn types(&self) -> impl Iterator<Item = &str> {
        self.patterns.iter().map(|(t, _, _)| t.as_str())
    }

    /// The identifiers in `text` with their pattern index; a value found by an earlier pattern is
    /// not repeated by a later one.
    pub fn find(&self, text: &str) -> Vec<(u16, String)> {
        let mut out: Vec<(u16, String)> = Vec::new();
        for (i, (_, re, checksum)) in self.patterns.iter().enumerate() {
            for c in re.captures_iter(text) {
                let m = c.get(1).or_else(|| c.get(0)).expect("group 0 exists");
                let v = m.as_str();
                if checksum.holds(v) && !out.iter().any(|(_, o)| o == v) {
                    out.push((i as u16, v.to_owned()));
                }
            }
        }
        out
    }

    fn type_name(&self, i: u16) -> &str {
        &self.patterns[i as usize].0
    }

    /// The patterns as one string: stored objects serve only the rules they were found with.
    pub fn fingerprint(&self) -> String {
        let p: Vec<(&str, &str, Checksum)> = self
            .patterns
            .iter()
            .map(|(t, re, c)| (t.as_str(), re.as_str(), *c))
            .collect();
        serde_json::to_string(&p).expect("patterns serialize")
    }
}

/// Where in an instance an identifier was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Typed,
    Copied,
    Pasted,
    Title,
    Element,
    Url,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Typed => "typed",
            Source::Copied => "copied",
            Source::Pasted => "pasted",
            Source::Title => "title",
            Source::Element => "element",
            Source::Url => "url",
        }
    }
}

/// A business object an instance worked on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    pub object_type: String,
    pub id: String,
    /// Where it was seen first.
    pub source: Source,
    /// In how many events of the instance it was seen.
    pub events: u32,
}

/// What one routine instance holds that can identify business objects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InstanceObjects {
    /// The routine's id and the instance's index in [`crate::Routine::instances`].
    pub routine: u32,
    pub instance: u32,
    pub user: String,
    pub session: String,
    pub start_ts: Micros,
    pub end_ts: Micros,
    /// Objects found by the patterns, in the order first seen.
    pub objects: Vec<ObjectRef>,
    /// Words with a digit in the instance's kept text, titles, element names and URLs, sorted and
    /// unique: what a process log's identifiers are looked up in when no pattern knows their form.
    pub tokens: Vec<String>,
    /// The value hashes of its typed, copied and pasted values, sorted and unique.
    pub hashes: Vec<ValueHash>,
    /// The applications its events happened in, in the order first used.
    pub apps: Vec<String>,
    /// Its events one by one, when asked for ([`extract_with_steps`]); empty otherwise.
    pub steps: Vec<StepRef>,
}

/// One event inside an instance's span, for an OCEL log with steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRef {
    pub ts: Micros,
    pub kind: EventKind,
    pub app: String,
    /// The objects seen in this event, as `type:identifier`.
    pub objects: Vec<String>,
}

impl InstanceObjects {
    /// Whether this instance holds `id`, as plain text or, hashed with one of `keys`, as a value
    /// hash.
    pub fn holds(&self, id: &str, keys: &[[u8; 32]]) -> bool {
        self.tokens.binary_search_by(|t| t.as_str().cmp(id)).is_ok()
            || self.objects.iter().any(|o| o.id == id)
            || keys
                .iter()
                .any(|k| self.hashes.binary_search(&ValueHash::keyed(k, id)).is_ok())
    }
}

/// The value-hash key the recorder derives from the secret in its key file (64 hex digits, see
/// the recorder's `privacy` module). The derivation context must stay the recorder's: the root
/// package's link test checks that both hash alike.
pub fn value_key_from_secret(secret: &[u8; 32]) -> [u8; 32] {
    blake3::derive_key("taskmine recorder 2026 value hash", secret)
}

/// Reads a recorder key file (64 hex digits) and returns the value-hash key derived from it.
pub fn load_value_key(path: &Path) -> Result<[u8; 32]> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let secret = parse_hex_key(text.trim()).ok_or_else(|| Error::Parse {
        file: path.to_path_buf(),
        line: 1,
        field: "key".into(),
        message: "expected 64 hex digits (the recorder's key file)".into(),
    })?;
    Ok(value_key_from_secret(&secret))
}

/// 64 hex digits as 32 bytes.
pub fn parse_hex_key(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Pushes the words of `s` that hold a digit (split at anything but letters, digits, `-` and `_`).
fn digit_words(s: &str, out: &mut Vec<String>) {
    for w in s.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_')) {
        let w = w.trim_matches('-');
        if !w.is_empty() && w.len() <= 64 && w.bytes().any(|b| b.is_ascii_digit()) {
            out.push(w.to_owned());
        }
    }
}

/// What a window title or an element name holds, computed once per distinct string.
#[derive(Default, Clone)]
struct Found {
    ids: Vec<(u16, String)>,
    words: Vec<String>,
}

fn found_in(m: &IdMatcher, s: &str) -> Found {
    let mut words = Vec::new();
    digit_words(s, &mut words);
    Found {
        ids: if words.is_empty() {
            Vec::new()
        } else {
            m.find(s)
        },
        words,
    }
}

/// The objects of every instance of every routine in `mining`, from one scan of the store. The
/// result is ordered by routine, then instance. Events inside an instance's span that belong to no
/// step (noise) count too: the span is what the user worked on.
pub fn extract(
    store: &dyn LogRead,
    mining: &Mining,
    rules: &IdMatcher,
) -> Result<Vec<InstanceObjects>> {
    extract_with_steps(store, mining, rules, false)
}

/// [`extract`], keeping each instance's events as [`InstanceObjects::steps`] when `steps` is set.
pub fn extract_with_steps(
    store: &dyn LogRead,
    mining: &Mining,
    rules: &IdMatcher,
    steps: bool,
) -> Result<Vec<InstanceObjects>> {
    let dict = store.dictionary()?;
    let mut session_ids: HashMap<(&str, &str), u32> = HashMap::new();
    for (i, s) in dict.sessions.iter().enumerate().skip(1) {
        let user = dict.users.get(s.user as usize).map_or("", |u| u.as_str());
        session_ids.insert((s.name.as_str(), user), i as u32);
    }
    let mut out = Vec::new();
    // Per session: (start, end, index into `out`), sorted by start.
    let mut by_session: Vec<Vec<(Micros, Micros, usize)>> = vec![Vec::new(); dict.sessions.len()];
    for r in &mining.routines {
        for (k, inst) in r.instances.iter().enumerate() {
            let Some(&sid) = session_ids.get(&(inst.session.as_str(), inst.user.as_str())) else {
                continue;
            };
            by_session[sid as usize].push((inst.start_ts, inst.end_ts, out.len()));
            out.push(InstanceObjects {
                routine: r.id,
                instance: k as u32,
                user: inst.user.clone(),
                session: inst.session.clone(),
                start_ts: inst.start_ts,
                end_ts: inst.end_ts,
                ..InstanceObjects::default()
            });
        }
    }
    for v in &mut by_session {
        v.sort_unstable();
    }
    let mut windows: Vec<Option<Found>> = vec![None; dict.windows.len()];
    let mut elements: Vec<Option<Found>> = vec![None; dict.elements.len()];
    // The scan is in (session, time) order: per session, instances become active in start order;
    // `next` is the first not yet started, `active` those started and not yet ended.
    let mut cur_session = u32::MAX;
    let mut next = 0usize;
    let mut active: Vec<(Micros, usize)> = Vec::new();
    let empty = Vec::new();
    store.visit_rows(&mut |row: EventRow<'_>| -> uilog::Result<()> {
        if row.session != cur_session {
            cur_session = row.session;
            next = 0;
            active.clear();
        }
        let list = by_session.get(row.session as usize).unwrap_or(&empty);
        while next < list.len() && list[next].0 <= row.ts {
            active.push((list[next].1, list[next].2));
            next += 1;
        }
        active.retain(|&(end, _)| end >= row.ts);
        if active.is_empty() {
            return Ok(());
        }
        let w = windows.get_mut(row.window as usize).map(|slot| {
            &*slot.get_or_insert_with(|| found_in(rules, &dict.windows[row.window as usize]))
        });
        let el = match dict.elements.get(row.element as usize) {
            Some(Some(e)) => {
                let slot = &mut elements[row.element as usize];
                Some(&*slot.get_or_insert_with(|| found_in(rules, e.name.as_deref().unwrap_or(""))))
            }
            _ => None,
        };
        let text_source = match row.kind {
            EventKind::Copy => Source::Copied,
            EventKind::Paste => Source::Pasted,
            _ => Source::Typed,
        };
        let text = row.text.map(|t| found_in(rules, t));
        let url = row
            .attrs
            .and_then(|a| serde_json::from_str::<HashMap<String, String>>(a).ok())
            .and_then(|mut a| a.remove("url"))
            .map(|u| found_in(rules, &u));
        let app = dict.apps.get(row.app as usize).map_or("", |a| a.as_str());
        for &(_, at) in &active {
            let inst = &mut out[at];
            if !app.is_empty() && !inst.apps.iter().any(|a| a == app) {
                inst.apps.push(app.to_owned());
            }
            let mut seen: Vec<usize> = Vec::new();
            let mut step_objects: Vec<String> = Vec::new();
            for (found, source) in [
                (text.as_ref(), text_source),
                (w, Source::Title),
                (el, Source::Element),
                (url.as_ref(), Source::Url),
            ] {
                let Some(found) = found else { continue };
                inst.tokens.extend(found.words.iter().cloned());
                for (ty, id) in &found.ids {
                    let ty = rules.type_name(*ty);
                    if steps {
                        let oid = format!("{ty}:{id}");
                        if !step_objects.contains(&oid) {
                            step_objects.push(oid);
                        }
                    }
                    match inst
                        .objects
                        .iter()
                        .position(|o| o.id == *id && o.object_type == ty)
                    {
                        Some(i) if !seen.contains(&i) => {
                            inst.objects[i].events += 1;
                            seen.push(i);
                        }
                        Some(_) => {}
                        None => {
                            seen.push(inst.objects.len());
                            inst.objects.push(ObjectRef {
                                object_type: ty.to_owned(),
                                id: id.clone(),
                                source,
                                events: 1,
                            });
                        }
                    }
                }
            }
            if steps {
                inst.steps.push(StepRef {
                    ts: row.ts,
                    kind: row.kind,
                    app: app.to_owned(),
                    objects: std::mem::take(&mut step_objects),
                });
            }
            if let Some(h) = row.value_hash {
                if matches!(
                    row.kind,
                    EventKind::Type | EventKind::Copy | EventKind::Paste
                ) {
                    inst.hashes.push(h);
                }
            }
            // Keeps memory bounded on long instances: sort and dedup as the vectors grow.
            if inst.tokens.len() > 256 {
                inst.tokens.sort_unstable();
                inst.tokens.dedup();
            }
        }
        Ok(())
    })?;
    for inst in &mut out {
        inst.tokens.sort_unstable();
        inst.tokens.dedup();
        inst.hashes.sort_unstable();
        inst.hashes.dedup();
        // An identifier a specific pattern found is not also a generic `number`.
        let typed: Vec<String> = inst
            .objects
            .iter()
            .filter(|o| o.object_type != "number")
            .map(|o| o.id.clone())
            .collect();
        inst.objects
            .retain(|o| o.object_type != "number" || !typed.contains(&o.id));
    }
    Ok(out)
}

/// The objects of a stored run's instances, in tables beside the versioned mining tables (like
/// `mining_run_logs`), so that a taskmine that does not know them keeps reading the file. A value
/// hash has no object type (the policy kept no text to type it by) and no source or count.
pub const STORED_SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS mining_object_runs (
        run_id INTEGER PRIMARY KEY REFERENCES mining_runs(id) ON DELETE CASCADE,
        rules TEXT NOT NULL,
        log_batches INTEGER NOT NULL,
        log_events INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS mining_instance_objects (
        run_id INTEGER NOT NULL REFERENCES mining_runs(id) ON DELETE CASCADE,
        routine_id INTEGER NOT NULL,
        instance INTEGER NOT NULL,
        object_type TEXT,
        value TEXT NOT NULL,
        hashed INTEGER NOT NULL,
        source TEXT,
        events INTEGER
    );
    CREATE INDEX IF NOT EXISTS mining_instance_objects_by_instance
        ON mining_instance_objects (run_id, routine_id, instance);
    CREATE TABLE IF NOT EXISTS mining_instance_words (
        run_id INTEGER NOT NULL REFERENCES mining_runs(id) ON DELETE CASCADE,
        routine_id INTEGER NOT NULL,
        instance INTEGER NOT NULL,
        tokens TEXT NOT NULL,
        apps TEXT NOT NULL,
        PRIMARY KEY (run_id, routine_id, instance)
    );
";

/// The tables of [`STORED_SCHEMA`], children first; each has a `run_id` column.
pub const STORED_TABLES: &[&str] = &[
    "mining_instance_objects",
    "mining_instance_words",
    "mining_object_runs",
];

fn source_from(s: &str) -> Option<Source> {
    Some(match s {
        "typed" => Source::Typed,
        "copied" => Source::Copied,
        "pasted" => Source::Pasted,
        "title" => Source::Title,
        "element" => Source::Element,
        "url" => Source::Url,
        _ => return None,
    })
}

/// Stores the objects of run `run`'s instances (from [`extract`] with `rules`, on the log at
/// `log_version`, [`uilog::LogRead::version`]), replacing any stored before. Steps are not stored.
pub fn store(
    conn: Conn<'_>,
    run: i64,
    objects: &[InstanceObjects],
    rules: &IdMatcher,
    log_version: (i64, i64),
) -> Result<()> {
    conn.sqlite_batch(STORED_SCHEMA)?;
    conn.transaction(|tx| {
        for table in STORED_TABLES {
            tx.exec(&format!("DELETE FROM {table} WHERE run_id = $1"), &[&run])?;
        }
        tx.exec(
            "INSERT INTO mining_object_runs (run_id, rules, log_batches, log_events) VALUES ($1, $2, $3, $4)",
            &[&run, &rules.fingerprint(), &log_version.0, &log_version.1],
        )?;
        let object = "INSERT INTO mining_instance_objects
                     (run_id, routine_id, instance, object_type, value, hashed, source, events)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        for i in objects {
            let (routine, instance) = (i64::from(i.routine), i64::from(i.instance));
            for o in &i.objects {
                tx.exec(
                    object,
                    &[
                        &run,
                        &routine,
                        &instance,
                        &o.object_type,
                        &o.id,
                        &0i64,
                        &o.source.as_str(),
                        &Some(i64::from(o.events)),
                    ],
                )?;
            }
            for h in &i.hashes {
                tx.exec(
                    object,
                    &[
                        &run,
                        &routine,
                        &instance,
                        &None::<&str>,
                        &h.to_string(),
                        &1i64,
                        &None::<&str>,
                        &None::<i64>,
                    ],
                )?;
            }
            tx.exec(
                "INSERT INTO mining_instance_words (run_id, routine_id, instance, tokens, apps)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &run,
                    &routine,
                    &instance,
                    &serde_json::to_string(&i.tokens).expect("strings serialize"),
                    &serde_json::to_string(&i.apps).expect("strings serialize"),
                ],
            )?;
        }
        Ok(())
    })
}

/// The objects stored for run `run`, in [`extract`]'s order, when they were found with `rules` on
/// the log at `log_version`; `None` otherwise (none stored, other rules, the log changed since).
pub fn load_stored(
    conn: Conn<'_>,
    run: i64,
    mining: &Mining,
    rules: &IdMatcher,
    log_version: (i64, i64),
) -> Result<Option<Vec<InstanceObjects>>> {
    if !conn.has_table("mining_object_runs")? {
        return Ok(None);
    }
    let found = conn.query_opt(
        "SELECT rules, log_batches, log_events FROM mining_object_runs WHERE run_id = $1",
        &[&run],
    )?;
    match found {
        Some(r) if r.text(0)? == rules.fingerprint() && (r.int(1)?, r.int(2)?) == log_version => {}
        _ => return Ok(None),
    }
    let bad = |field: &str, message: String| Error::Parse {
        file: conn.location().into(),
        line: 0,
        field: field.to_owned(),
        message,
    };
    let small = |field: &str, v: i64| -> Result<u32> {
        u32::try_from(v).map_err(|_| bad(field, format!("{v} is not a count")))
    };
    let mut by_instance: HashMap<(u32, u32), InstanceObjects> = HashMap::new();
    for r in conn.query(
        "SELECT routine_id, instance, tokens, apps FROM mining_instance_words WHERE run_id = $1",
        &[&run],
    )? {
        let key = (
            small("mining_instance_words.routine_id", r.int(0)?)?,
            small("mining_instance_words.instance", r.int(1)?)?,
        );
        let parse = |field: &str, text: &str| -> Result<Vec<String>> {
            serde_json::from_str(text).map_err(|e| bad(field, e.to_string()))
        };
        by_instance.insert(
            key,
            InstanceObjects {
                routine: key.0,
                instance: key.1,
                tokens: parse("mining_instance_words.tokens", &r.text(2)?)?,
                apps: parse("mining_instance_words.apps", &r.text(3)?)?,
                ..InstanceObjects::default()
            },
        );
    }
    let rows = conn.query(
        &format!(
            "SELECT routine_id, instance, object_type, value, hashed, source, events
             FROM mining_instance_objects WHERE run_id = $1 ORDER BY {}",
            crate::results::insertion_order(conn)
        ),
        &[&run],
    )?;
    for r in rows {
        let key = (
            small("mining_instance_objects.routine_id", r.int(0)?)?,
            small("mining_instance_objects.instance", r.int(1)?)?,
        );
        let value = r.text(3)?;
        let Some(inst) = by_instance.get_mut(&key) else {
            return Err(bad(
                "mining_instance_objects.instance",
                format!(
                    "run {run}: routine {} instance {} has objects but no words",
                    key.0, key.1
                ),
            ));
        };
        if r.int(4)? != 0 {
            let h = value
                .parse::<ValueHash>()
                .map_err(|m| bad("mining_instance_objects.value", m))?;
            inst.hashes.push(h);
        } else {
            let source = r.opt_text(5)?;
            let source = source.as_deref().and_then(source_from).ok_or_else(|| {
                bad(
                    "mining_instance_objects.source",
                    format!("{source:?} is no source"),
                )
            })?;
            inst.objects.push(ObjectRef {
                object_type: r.opt_text(2)?.unwrap_or_default(),
                id: value,
                source,
                events: match r.opt_int(6)? {
                    Some(v) => small("mining_instance_objects.events", v)?,
                    None => 0,
                },
            });
        }
    }
    // Instances in the result's order, each with its span from the run.
    let mut out = Vec::with_capacity(by_instance.len());
    for r in &mining.routines {
        for (k, i) in r.instances.iter().enumerate() {
            if let Some(mut o) = by_instance.remove(&(r.id, k as u32)) {
                o.user = i.user.clone();
                o.session = i.session.clone();
                o.start_ts = i.start_ts;
                o.end_ts = i.end_ts;
                o.hashes.sort_unstable();
                out.push(o);
            }
        }
    }
    if let Some((routine, instance)) = by_instance.keys().min() {
        return Err(bad(
            "mining_instance_words.instance",
            format!("run {run} has no instance {instance} of routine {routine}"),
        ));
    }
    Ok(Some(out))
}

/// Extracts the objects of run `run`'s instances from `store` and stores them with the run, in
/// `conn` (the same database). Returns them.
pub fn extract_and_store(
    store: &dyn LogRead,
    conn: Conn<'_>,
    run: i64,
    mining: &Mining,
    rules: &IdMatcher,
) -> Result<Vec<InstanceObjects>> {
    // The version read before the scan: events written during it make the stored objects look
    // older than they are, so they are recomputed rather than served stale.
    let version = store.version()?;
    let objects = extract(store, mining, rules)?;
    self::store(conn, run, &objects, rules, version)?;
    Ok(objects)
}

/// [`extract_and_store`] with the default rules: what the save of a mining result calls.
pub fn store_default(store: &dyn LogRead, conn: Conn<'_>, run: i64, mining: &Mining) -> Result<()> {
    let rules = ObjectRules::default().compile()?;
    extract_and_store(store, conn, run, mining, &rules).map(|_| ())
}

/// The objects of `mining`'s instances: read back when `run` (the stored run `mining` was loaded
/// from) has them stored in `conn` for these rules and this state of the log, extracted from the
/// store otherwise. The flag says whether they were read back.
pub fn stored_or_extract(
    store: &dyn LogRead,
    conn: Conn<'_>,
    run: Option<i64>,
    mining: &Mining,
    rules: &IdMatcher,
) -> Result<(Vec<InstanceObjects>, bool)> {
    if let Some(run) = run {
        let version = store.version()?;
        if let Some(o) = load_stored(conn, run, mining, rules, version)? {
            return Ok((o, true));
        }
    }
    Ok((extract(store, mining, rules)?, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_patterns_type_what_they_find_and_prefer_specific_types() {
        let m = ObjectRules::default().compile().unwrap();
        let types: Vec<&str> = m.types().collect();
        let found = |s: &str| -> Vec<(String, String)> {
            m.find(s)
                .into_iter()
                .map(|(t, v)| (types[t as usize].to_owned(), v))
                .collect()
        };
        assert_eq!(
            found("Invoice 48213 from Acme - Thunderbird"),
            vec![("invoice".into(), "48213".into())]
        );
        assert_eq!(
            found("Ticket #123456 - Helpdesk"),
            vec![("ticket".into(), "123456".into())]
        );
        assert_eq!(
            found("Sale SO12345"),
            vec![("order".into(), "SO12345".into())]
        );
        assert_eq!(
            found("ref 9876543"),
            vec![("number".into(), "9876543".into())]
        );
        assert!(found("row 42, 2026-11-25").is_empty());
        // Check digits: a barcode or IBAN that fails them is not one.
        assert_eq!(
            found("EAN 4006381333931"),
            vec![("product".into(), "4006381333931".into())]
        );
        assert!(found("EAN 4006381333932").is_empty());
        assert_eq!(
            found("pay to DE89370400440532013000"),
            vec![("account".into(), "DE89370400440532013000".into())]
        );
        assert!(found("pay to DE89370400440532013001").is_empty());
    }

    #[test]
    fn check_digit_schemes_accept_valid_and_refuse_altered_identifiers() {
        for (scheme, good) in [
            (Checksum::Gtin, "4006381333931"),
            (Checksum::Gtin, "036000291452"),
            (Checksum::Luhn, "79927398713"),
            (Checksum::Iban, "GB82WEST12345698765432"),
        ] {
            assert!(scheme.holds(good), "{scheme:?} {good}");
            // Any change of one digit breaks each of these schemes.
            for (i, c) in good.char_indices().filter(|(_, c)| c.is_ascii_digit()) {
                let d = c.to_digit(10).unwrap();
                let mut bad = good.to_owned();
                bad.replace_range(i..=i, &((d + 1) % 10).to_string());
                assert!(!scheme.holds(&bad), "{scheme:?} took {bad}");
            }
        }
        assert!(!Checksum::Luhn.holds("12a4"));
        assert!(!Checksum::Iban.holds("GB82"));
    }

    #[test]
    fn a_rules_file_names_a_check_digit_scheme() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("objects.yaml");
        std::fs::write(
            &path,
            "patterns:\n  - type: customer\n    pattern: 'C(\\d+)'\n    checksum: luhn\n",
        )
        .unwrap();
        let m = ObjectRules::load(&path).unwrap().compile().unwrap();
        assert_eq!(
            m.find("C79927398713 C79927398710").len(),
            1,
            "only the Luhn-valid one"
        );
        std::fs::write(
            &path,
            "patterns:\n  - type: customer\n    pattern: 'C\\d+'\n    checksum: crc\n",
        )
        .unwrap();
        let e = ObjectRules::load(&path).unwrap_err().to_string();
        assert!(e.contains("objects.yaml:"), "{e}");
    }

    #[test]
    fn bad_rules_name_the_file_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("objects.yaml");
        std::fs::write(
            &path,
            "patterns:\n  - type: invoice\n    pattern: 'INV-(\\d+'\n",
        )
        .unwrap();
        let e = ObjectRules::load(&path).unwrap_err().to_string();
        assert!(
            e.contains("objects.yaml:3: field `patterns[0].pattern`"),
            "{e}"
        );
        std::fs::write(&path, "patterns:\n  - type: invoice\n    regex: x\n").unwrap();
        let e = ObjectRules::load(&path).unwrap_err().to_string();
        assert!(e.contains("objects.yaml:") && e.contains("regex"), "{e}");
    }

    #[test]
    fn an_instance_holds_an_id_as_text_or_as_its_keyed_hash() {
        let key = value_key_from_secret(&[7; 32]);
        let inst = InstanceObjects {
            tokens: vec!["SO4711".into()],
            hashes: vec![ValueHash::keyed(&key, "48213")],
            ..InstanceObjects::default()
        };
        assert!(inst.holds("SO4711", &[]));
        assert!(inst.holds("48213", &[key]));
        assert!(!inst.holds("48213", &[ValueHash::IMPORT_KEY]));
        assert!(!inst.holds("48214", &[key]));
    }

    #[test]
    fn hex_keys_parse_only_as_64_digits() {
        assert_eq!(parse_hex_key(&"01".repeat(32)), Some([1; 32]));
        assert_eq!(parse_hex_key("0102"), None);
        assert_eq!(parse_hex_key(&"zz".repeat(32)), None);
    }
}
