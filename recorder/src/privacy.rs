//! The privacy policy. Every decision about what of the desktop may reach the UI log is made in this
//! module, before anything is written: which apps are recorded at all, what of a window title
//! survives, what becomes of typed and copied text, and how users and hosts are named.
//!
//! The default policy is the safe one: text is kept only as a keyed hash, users and hosts are
//! pseudonymized, PII detectors are on, and windows that look like password prompts keep no text.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::{Regex, RegexSet};
use serde::Deserialize;
use uilog::{Element, Micros, ValueHash};

use crate::error::{Error, Result};

/// The app name events get while the user is in an app the policy does not record.
pub const OTHER_APP: &str = "another app";

/// What becomes of typed, copied and pasted text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextMode {
    /// No text and no value hash: only that something was typed.
    None,
    /// Every non-space character becomes `*` (length and word shape stay), plus the value hash.
    Mask,
    /// No text, only the keyed value hash, so that the miner still sees a value move between steps.
    #[default]
    Hash,
    /// The text with PII replaced by detector tags (`<email>`, `<card>`, …), plus the value hash.
    Plain,
}

impl TextMode {
    /// The mode as a policy file names it (`hash`), for pages that show the policy.
    pub fn name(self) -> &'static str {
        match self {
            TextMode::None => "none",
            TextMode::Mask => "mask",
            TextMode::Hash => "hash",
            TextMode::Plain => "plain",
        }
    }
}

/// A policy file as written. Unknown fields are errors, so that a misspelt `deny` cannot silently
/// record an app the user meant to exclude.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// The text mode for apps that `apps.text` does not name.
    pub text: TextMode,
    pub apps: AppRules,
    pub titles: TitleRules,
    pub pii: PiiRules,
    pub password: PasswordRules,
    pub pseudonymize: Pseudonymize,
    /// The file holding the pseudonym key, relative to the policy file. Default: the policy file's
    /// name with the extension `key`.
    pub key_file: Option<PathBuf>,
    /// The shortcut that pauses and resumes recording (it is never recorded itself). Empty: none.
    pub pause_hotkey: String,
    /// Seconds without input after which an `idle_start` event is written.
    pub idle_after_secs: u64,
    /// Events older than this many days are deleted when recording starts. Absent: kept forever.
    pub retention_days: Option<u32>,
    /// Reports show only routines seen across at least this many users (read by the reports).
    pub min_users: u32,
    /// Screen snapshots of a click's or typed run's target: `off` (the default), `elements` (the
    /// element itself, or a small box around the pointer) or `on` (the element with its
    /// surroundings). Never the full screen.
    pub screenshots: Screenshots,
}

/// How much of the screen a snapshot may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Screenshots {
    #[default]
    Off,
    Elements,
    On,
}

/// What [`Privacy::snapshot_plan`] allows for input in one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotPlan {
    pub mode: Screenshots,
    /// Text fields must be blanked in the image (the app's text mode is not `plain`); password
    /// fields are blanked whatever this says.
    pub blank_fields: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AppRules {
    /// When not empty, only these apps are recorded.
    pub allow: Vec<String>,
    /// These apps are never recorded.
    pub deny: Vec<String>,
    /// Text modes per app.
    pub text: BTreeMap<String, TextMode>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TitleRules {
    pub redact: Vec<Redaction>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redaction {
    pub pattern: String,
    #[serde(default = "default_replacement")]
    pub replace: String,
}

fn default_replacement() -> String {
    "<redacted>".to_owned()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PiiRules {
    pub email: bool,
    pub phone: bool,
    pub iban: bool,
    pub card: bool,
    pub custom: Vec<CustomDetector>,
}

impl Default for PiiRules {
    fn default() -> Self {
        PiiRules {
            email: true,
            phone: true,
            iban: true,
            card: true,
            custom: Vec::new(),
        }
    }
}

/// A user-defined PII pattern; matches are replaced by `<name>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomDetector {
    pub name: String,
    pub pattern: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordRules {
    /// Patterns on the window title that mark a password context.
    pub titles: Vec<String>,
    /// Patterns on the element's role, name or id that mark a password context.
    pub elements: Vec<String>,
}

impl Default for PasswordRules {
    fn default() -> Self {
        PasswordRules {
            titles: vec![
                r"(?i)pass(word|wort|phrase|code)".to_owned(),
                r"(?i)\bpin\b".to_owned(),
                r"(?i)\bsudo\b".to_owned(),
                r"(?i)\b(log ?in|sign ?in|unlock|authenticat)".to_owned(),
            ],
            elements: vec![r"(?i)pass(word|wort|phrase|code)|\bpin\b|secret".to_owned()],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Pseudonymize {
    pub user: bool,
    pub host: bool,
}

impl Default for Pseudonymize {
    fn default() -> Self {
        Pseudonymize {
            user: true,
            host: true,
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            text: TextMode::Hash,
            apps: AppRules::default(),
            titles: TitleRules::default(),
            pii: PiiRules::default(),
            password: PasswordRules::default(),
            pseudonymize: Pseudonymize::default(),
            key_file: None,
            pause_hotkey: "ctrl+alt+p".to_owned(),
            idle_after_secs: 300,
            retention_days: Some(90),
            min_users: 3,
            screenshots: Screenshots::Off,
        }
    }
}

impl Policy {
    /// Reads a policy file. Errors name the file, the line and the field.
    pub fn load(path: &Path) -> Result<Policy> {
        let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Policy::parse(&text, path)
    }

    /// Parses policy YAML; `file` is only used in error messages.
    pub fn parse(yaml: &str, file: &Path) -> Result<Policy> {
        // An empty file (or one holding only comments) is the default policy.
        if yaml
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            return Ok(Policy::default());
        }
        serde_norway::from_str(yaml).map_err(|e| Error::Policy {
            file: file.to_path_buf(),
            line: e.location().map(|l| l.line()),
            field: None,
            message: e.to_string(),
        })
    }

    /// How long without input counts as idle.
    pub fn idle_after(&self) -> Duration {
        Duration::from_secs(self.idle_after_secs.max(1))
    }
}

/// The parts of a window that name its app; the policy's app names match any of them,
/// case-insensitively (`xterm`, `XTerm`, the process name).
#[derive(Debug, Clone, Copy, Default)]
pub struct AppIdent<'a> {
    /// WM_CLASS instance.
    pub instance: &'a str,
    /// WM_CLASS class.
    pub class: &'a str,
    /// The process name (`/proc/PID/comm`).
    pub process: &'a str,
}

impl AppIdent<'_> {
    fn matches(&self, name: &str) -> bool {
        [self.instance, self.class, self.process]
            .iter()
            .any(|part| !part.is_empty() && part.eq_ignore_ascii_case(name))
    }
}

/// Text as the policy lets it into the log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FilteredText {
    pub text: Option<String>,
    pub value_hash: Option<ValueHash>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    None,
    Luhn,
    Iban,
}

struct Detector {
    tag: String,
    regex: Regex,
    check: Check,
}

/// PII detectors: a [`RegexSet`] finds which apply to a string, then only those replace.
struct Pii {
    set: RegexSet,
    detectors: Vec<Detector>,
}

const EMAIL: &str = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}";
const IBAN: &str = r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b";
const CARD: &str = r"\b[0-9](?:[ -]?[0-9]){12,18}\b";
// International numbers (+ or 00), national ones with a trunk 0, and the North American 3-3-4 form.
// Dates (2026-11-25) and times fit none of them.
const PHONE: &str = r"(?:(?:\+|\b00)[1-9][0-9]{0,2}[ ./-]?(?:\(0\)[ ]?)?(?:\(?[0-9]{1,5}\)?[ ./-]?){1,4}[0-9]{2,}\b|\b0[1-9][0-9]{1,4}[ /.-]?[0-9]{3,}(?:[ .-][0-9]{2,})*\b|\(?\b[0-9]{3}\)?[ .-][0-9]{3}[ .-][0-9]{4}\b)";

impl Pii {
    fn compile(rules: &PiiRules, file: &Path, source: &str) -> Result<Pii> {
        let mut detectors = Vec::new();
        let mut builtin = |on: bool, tag: &str, pattern: &str, check: Check| {
            if on {
                detectors.push(Detector {
                    tag: format!("<{tag}>"),
                    regex: Regex::new(pattern).expect("built-in PII patterns compile"),
                    check,
                });
            }
        };
        // Order matters: the checked detectors run before the looser phone pattern, so that a card
        // number is tagged as a card, not as a phone number.
        builtin(rules.email, "email", EMAIL, Check::None);
        builtin(rules.iban, "iban", IBAN, Check::Iban);
        builtin(rules.card, "card", CARD, Check::Luhn);
        builtin(rules.phone, "phone", PHONE, Check::None);
        for (i, c) in rules.custom.iter().enumerate() {
            if c.name.trim().is_empty() {
                return Err(policy_field_error(
                    file,
                    source,
                    &c.pattern,
                    format!("pii.custom[{i}].name"),
                    "a custom detector needs a name".into(),
                ));
            }
            let regex = Regex::new(&c.pattern).map_err(|e| {
                policy_field_error(
                    file,
                    source,
                    &c.pattern,
                    format!("pii.custom[{i}].pattern"),
                    e.to_string(),
                )
            })?;
            detectors.push(Detector {
                tag: format!("<{}>", c.name),
                regex,
                check: Check::None,
            });
        }
        let set = RegexSet::new(detectors.iter().map(|d| d.regex.as_str()))
            .expect("compiled one by one above");
        Ok(Pii { set, detectors })
    }

    fn scrub<'a>(&self, s: &'a str) -> Cow<'a, str> {
        let hits = self.set.matches(s);
        if !hits.matched_any() {
            return Cow::Borrowed(s);
        }
        let mut out = s.to_owned();
        for i in hits.iter() {
            let d = &self.detectors[i];
            let replaced = d.regex.replace_all(&out, |caps: &regex::Captures<'_>| {
                let m = &caps[0];
                let pass = match d.check {
                    Check::None => true,
                    Check::Luhn => luhn_valid(m),
                    Check::Iban => iban_valid(m),
                };
                if pass {
                    d.tag.clone()
                } else {
                    m.to_owned()
                }
            });
            if let Cow::Owned(r) = replaced {
                out = r;
            }
        }
        Cow::Owned(out)
    }
}

/// The Luhn checksum of the digits in `s` (separators ignored), for 13 to 19 digits.
pub fn luhn_valid(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let dd = d * 2;
                if dd > 9 {
                    dd - 9
                } else {
                    dd
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// The ISO 13616 mod-97 check of an IBAN (spaces ignored).
pub fn iban_valid(s: &str) -> bool {
    let compact: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() < 15 || compact.len() > 34 {
        return false;
    }
    let rotated = compact[4..].iter().chain(&compact[..4]);
    let mut rem: u32 = 0;
    for c in rotated {
        let v = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// The 1-based line of the first occurrence of `needle` in the policy source, for error messages
/// about values whose position the YAML parser no longer knows.
fn line_of(source: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    source
        .lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
}

fn policy_field_error(
    file: &Path,
    source: &str,
    value: &str,
    field: String,
    message: String,
) -> Error {
    Error::Policy {
        file: file.to_path_buf(),
        line: line_of(source, value),
        field: Some(field),
        message,
    }
}

/// A policy ready to apply: patterns compiled and the pseudonym key loaded.
pub struct Privacy {
    policy: Policy,
    allow: Vec<String>,
    deny: Vec<String>,
    redactions: Vec<(Regex, String)>,
    pii: Pii,
    password_titles: RegexSet,
    password_elements: RegexSet,
    /// Derived from the secret key, one per use, so that a user pseudonym can never equal a value hash.
    value_key: [u8; 32],
    name_key: [u8; 32],
    /// For the person's access code ([`Privacy::access_code`]): a key of its own, so that a code
    /// is neither a pseudonym nor a value hash of the same name.
    code_key: [u8; 32],
}

impl std::fmt::Debug for Privacy {
    // The keys never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Privacy")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Privacy {
    /// Loads the policy at `policy_file` (the default policy when `None`) and its key, creating the
    /// key file with mode 0600 when it does not exist yet.
    pub fn load(policy_file: Option<&Path>) -> Result<Privacy> {
        match policy_file {
            Some(path) => {
                let source = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
                let policy = Policy::parse(&source, path)?;
                let key_path = key_path_for(path, &policy);
                let key = load_or_create_key(&key_path)?;
                Privacy::compile(policy, &key, path, &source)
            }
            None => {
                let key_path = default_config_dir().join("recorder.key");
                let key = load_or_create_key(&key_path)?;
                Privacy::new(Policy::default(), &key)
            }
        }
    }

    /// A policy with a given key, for tests and for callers that keep the key themselves.
    pub fn new(policy: Policy, key: &[u8; 32]) -> Result<Privacy> {
        Privacy::compile(policy, key, Path::new("<policy>"), "")
    }

    fn compile(policy: Policy, key: &[u8; 32], file: &Path, source: &str) -> Result<Privacy> {
        let mut redactions = Vec::new();
        for (i, r) in policy.titles.redact.iter().enumerate() {
            let regex = Regex::new(&r.pattern).map_err(|e| {
                policy_field_error(
                    file,
                    source,
                    &r.pattern,
                    format!("titles.redact[{i}].pattern"),
                    e.to_string(),
                )
            })?;
            redactions.push((regex, r.replace.clone()));
        }
        let set = |patterns: &[String], field: &str| -> Result<RegexSet> {
            for (i, p) in patterns.iter().enumerate() {
                Regex::new(p).map_err(|e| {
                    policy_field_error(file, source, p, format!("{field}[{i}]"), e.to_string())
                })?;
            }
            Ok(RegexSet::new(patterns).expect("each pattern compiled above"))
        };
        let password_titles = set(&policy.password.titles, "password.titles")?;
        let password_elements = set(&policy.password.elements, "password.elements")?;
        let pii = Pii::compile(&policy.pii, file, source)?;
        let lower = |v: &[String]| {
            v.iter()
                .map(|s| s.trim().to_lowercase())
                .collect::<Vec<_>>()
        };
        Ok(Privacy {
            allow: lower(&policy.apps.allow),
            deny: lower(&policy.apps.deny),
            redactions,
            pii,
            password_titles,
            password_elements,
            value_key: blake3::derive_key("taskmine recorder 2026 value hash", key),
            name_key: blake3::derive_key("taskmine recorder 2026 pseudonym", key),
            code_key: blake3::derive_key("taskmine recorder 2026 person access code", key),
            policy,
        })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Whether events in this app may be recorded. A denied app (or one missing from a non-empty
    /// allow list) is recorded only as time spent in [`OTHER_APP`].
    pub fn records_app(&self, app: &AppIdent<'_>) -> bool {
        if self.deny.iter().any(|d| app.matches(d)) {
            return false;
        }
        self.allow.is_empty() || self.allow.iter().any(|a| app.matches(a))
    }

    /// The text mode for an app.
    pub fn text_mode(&self, app: &AppIdent<'_>) -> TextMode {
        self.policy
            .apps
            .text
            .iter()
            .find(|(name, _)| app.matches(name.trim()))
            .map(|(_, mode)| *mode)
            .unwrap_or(self.policy.text)
    }

    /// A window title as the log may hold it: redaction patterns first, then the PII detectors.
    pub fn title(&self, title: &str) -> String {
        let mut out = Cow::Borrowed(title);
        for (regex, replacement) in &self.redactions {
            if let Cow::Owned(r) = regex.replace_all(&out, replacement.as_str()) {
                out = Cow::Owned(r);
            }
        }
        self.pii.scrub(&out).into_owned()
    }

    /// Replaces what the PII detectors find in `s` by their tags.
    pub fn scrub_pii<'a>(&self, s: &'a str) -> Cow<'a, str> {
        self.pii.scrub(s)
    }

    /// Whether the window (by its raw title) or the element marks a password context.
    pub fn is_password_context(&self, title: &str, element: Option<&Element>) -> bool {
        if self.password_titles.is_match(title) {
            return true;
        }
        element.is_some_and(|e| {
            [&e.role, &e.name, &e.id].iter().any(|part| {
                part.as_deref()
                    .is_some_and(|p| self.password_elements.is_match(p))
            })
        })
    }

    /// Typed, copied or pasted text as the log may hold it. `title` is the raw window title: the
    /// password-context check needs what the user saw, not the redacted form.
    pub fn text(
        &self,
        app: &AppIdent<'_>,
        title: &str,
        element: Option<&Element>,
        text: &str,
    ) -> FilteredText {
        if text.is_empty() || !self.records_app(app) || self.is_password_context(title, element) {
            return FilteredText::default();
        }
        let hash = Some(self.value_hash(text));
        match self.text_mode(app) {
            TextMode::None => FilteredText::default(),
            TextMode::Hash => FilteredText {
                text: None,
                value_hash: hash,
            },
            TextMode::Mask => FilteredText {
                text: Some(
                    text.chars()
                        .map(|c| if c.is_whitespace() { c } else { '*' })
                        .collect(),
                ),
                value_hash: hash,
            },
            TextMode::Plain => FilteredText {
                text: Some(self.pii.scrub(text).into_owned()),
                value_hash: hash,
            },
        }
    }

    /// Typed text in a field the desktop identified: [`Privacy::text`], except that a password
    /// field keeps nothing whatever the policy's patterns say. `protected` is the desktop's own
    /// verdict (a web input of type password); AT-SPI's role `password text` is one too.
    pub fn field_text(
        &self,
        app: &AppIdent<'_>,
        title: &str,
        element: Option<&Element>,
        protected: bool,
        text: &str,
    ) -> FilteredText {
        let password_role = element.is_some_and(|e| {
            e.role
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case("password text"))
        });
        if protected || password_role {
            return FilteredText::default();
        }
        self.text(app, title, element, text)
    }

    /// Clipboard text arriving in a window (`app`, raw `title`). `source` is the app and raw title
    /// of the window that owns the clipboard, when known: text copied from an app the policy does
    /// not record, or from a password context, keeps nothing (not even a hash) wherever it is
    /// pasted, so that a password copied from a password manager never reaches the log.
    pub fn clipboard_text(
        &self,
        app: &AppIdent<'_>,
        title: &str,
        source: Option<(&AppIdent<'_>, &str)>,
        text: &str,
    ) -> FilteredText {
        if let Some((src_app, src_title)) = source {
            if !self.records_app(src_app) || self.is_password_context(src_title, None) {
                return FilteredText::default();
            }
        }
        self.text(app, title, None, text)
    }

    /// Whether input in a window (`app`, raw `title`) may be photographed, and how. `elements`
    /// says whether the accessibility bus can give the extents of the window's text fields:
    /// without them a field cannot be blanked, so only apps whose text mode is `plain` get
    /// snapshots. Unrecorded apps and password contexts never do.
    pub fn snapshot_plan(
        &self,
        app: &AppIdent<'_>,
        title: &str,
        elements: bool,
    ) -> Option<SnapshotPlan> {
        let mode = self.policy.screenshots;
        if mode == Screenshots::Off
            || !self.records_app(app)
            || self.is_password_context(title, None)
        {
            return None;
        }
        let blank_fields = self.text_mode(app) != TextMode::Plain;
        if blank_fields && !elements {
            return None;
        }
        Some(SnapshotPlan { mode, blank_fields })
    }

    /// Whether an element must be blanked in a snapshot: a password field (by the desktop's
    /// verdict, its role or the policy's patterns) always, any other text field when `plan` says.
    pub fn blanks_in_snapshot(
        &self,
        plan: &SnapshotPlan,
        element: &Element,
        password: bool,
    ) -> bool {
        if password || self.is_password_context("", Some(element)) {
            return true;
        }
        let role = element.role.as_deref().unwrap_or("").to_ascii_lowercase();
        let text_field = matches!(
            role.as_str(),
            "password text"
                | "entry"
                | "text"
                | "spin button"
                | "combo box"
                | "terminal"
                | "editbar"
        );
        text_field && (plan.blank_fields || role == "password text")
    }

    /// The keyed hash of a value.
    pub fn value_hash(&self, value: &str) -> ValueHash {
        ValueHash::keyed(&self.value_key, value)
    }

    /// The user's name as the log holds it.
    pub fn user(&self, name: &str) -> String {
        if self.policy.pseudonymize.user {
            self.pseudonym("user", name)
        } else {
            name.to_owned()
        }
    }

    /// The host's name as the log holds it.
    pub fn host(&self, name: &str) -> String {
        if self.policy.pseudonymize.host {
            self.pseudonym("host", name)
        } else {
            name.to_owned()
        }
    }

    fn pseudonym(&self, what: &str, name: &str) -> String {
        let mut h = blake3::Hasher::new_keyed(&self.name_key);
        h.update(what.as_bytes());
        h.update(&[0]);
        h.update(name.as_bytes());
        let digest = h.finalize();
        let hex: String = digest.as_bytes()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("{what}-{hex}")
    }

    /// The recorded person's access code to their own page on a server (`/me/signin`): a keyed
    /// hash of their login name under the pseudonym key, so only whoever holds the key and knows the
    /// name can make it, and the server never learns either; it checks the code against a verifier
    /// the uploader sends beside the person's events. [`ACCESS_CODE_SYMBOLS`] symbols of Crockford's
    /// base 32 (5 bits each, 120 bits), in groups of four. The code is the same whether or not the
    /// policy pseudonymizes users.
    pub fn access_code(&self, login_name: &str) -> String {
        let mut h = blake3::Hasher::new_keyed(&self.code_key);
        h.update(b"user");
        h.update(&[0]);
        h.update(login_name.as_bytes());
        let digest = h.finalize();
        let bytes = digest.as_bytes();
        let mut out = String::with_capacity(ACCESS_CODE_SYMBOLS + ACCESS_CODE_SYMBOLS / 4);
        for i in 0..ACCESS_CODE_SYMBOLS {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            // Symbol i is bits 5i .. 5i+5 of the digest, read big-endian.
            let bit = 5 * i;
            let pair = u16::from_be_bytes([bytes[bit / 8], bytes[bit / 8 + 1]]);
            let v = (pair >> (11 - bit % 8)) & 0x1f;
            out.push(CROCKFORD[v as usize] as char);
        }
        out
    }

    /// Events before this instant are deleted at start-up, if the policy sets a retention.
    pub fn retention_cutoff(&self, now: Micros) -> Option<Micros> {
        self.policy
            .retention_days
            .map(|days| now - i64::from(days) * 86_400 * 1_000_000)
    }
}

/// Symbols in a person's access code: 24 × 5 = 120 bits, past the 100 that keep a guess hopeless
/// even for someone who holds a server's database (which stores only a hash of the code).
pub const ACCESS_CODE_SYMBOLS: usize = 24;

/// Crockford's base 32: no I, L, O or U, so a code read aloud or copied by hand is not mistaken
/// (a reader maps O to 0 and I, L to 1).
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Where the key of a policy file lives: `key_file` relative to the policy, or `<policy stem>.key`.
pub fn key_path_for(policy_file: &Path, policy: &Policy) -> PathBuf {
    let dir = policy_file.parent().unwrap_or(Path::new("."));
    match &policy.key_file {
        Some(k) => dir.join(k),
        None => policy_file.with_extension("key"),
    }
}

/// `$XDG_CONFIG_HOME/taskmine`, or `~/.config/taskmine`.
pub fn default_config_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("taskmine");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".config").join("taskmine"),
        None => PathBuf::from(".taskmine"),
    }
}

/// Reads the 32-byte key (64 hex digits) at `path`, or creates it with fresh random bytes and mode
/// 0600. An existing key that others can read is refused rather than used.
pub fn load_or_create_key(path: &Path) -> Result<[u8; 32]> {
    let key_err = |message: String| Error::Key {
        path: path.to_path_buf(),
        message,
    };
    match fs::read_to_string(path) {
        Ok(text) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = fs::metadata(path)
                    .map_err(|e| Error::io(path, e))?
                    .permissions()
                    .mode();
                if mode & 0o077 != 0 {
                    return Err(key_err(format!(
                        "readable by others (mode {:o}); run `chmod 600` on it",
                        mode & 0o777
                    )));
                }
            }
            parse_key(text.trim()).ok_or_else(|| key_err("expected 64 hex digits".into()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
            let key: [u8; 32] = rand::random();
            let mut opts = fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(path).map_err(|e| Error::io(path, e))?;
            let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
            f.write_all(format!("{hex}\n").as_bytes())
                .and_then(|_| f.sync_all())
                .map_err(|e| Error::io(path, e))?;
            Ok(key)
        }
        Err(e) => Err(Error::io(path, e)),
    }
}

fn parse_key(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, b) in key.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn privacy(yaml: &str) -> Privacy {
        let policy = Policy::parse(yaml, Path::new("test.yaml")).unwrap();
        Privacy::compile(policy, &KEY, Path::new("test.yaml"), yaml).unwrap()
    }

    fn app(name: &str) -> AppIdent<'_> {
        AppIdent {
            instance: name,
            class: "",
            process: "",
        }
    }

    #[test]
    fn a_text_mode_name_reads_back_as_that_mode() {
        for mode in [
            TextMode::None,
            TextMode::Mask,
            TextMode::Hash,
            TextMode::Plain,
        ] {
            let yaml = format!("text: {}\n", mode.name());
            let p = Policy::parse(&yaml, Path::new("policy.yaml")).unwrap();
            assert_eq!(p.text, mode, "{yaml}");
        }
    }

    #[test]
    fn default_policy_hashes_text_and_pseudonymizes() {
        let p = Privacy::new(Policy::default(), &KEY).unwrap();
        let out = p.text(&app("xterm"), "bash", None, "hello world");
        assert_eq!(out.text, None);
        assert_eq!(out.value_hash, Some(p.value_hash("hello world")));
        let user = p.user("alice");
        assert!(
            user.starts_with("user-") && !user.contains("alice"),
            "{user}"
        );
        assert_eq!(user, p.user("alice"), "pseudonyms are stable");
        assert_ne!(user, p.user("bob"));
        assert!(p.host("laptop").starts_with("host-"));
        assert_eq!(p.policy().retention_days, Some(90));
    }

    #[test]
    fn access_codes_are_keyed_per_person_and_readable() {
        let a = Privacy::new(Policy::default(), &[1; 32]).unwrap();
        let b = Privacy::new(Policy::default(), &[2; 32]).unwrap();
        let code = a.access_code("alice");
        assert_eq!(code, a.access_code("alice"), "a code is stable");
        assert_ne!(code, a.access_code("bob"));
        assert_ne!(code, b.access_code("alice"), "a code depends on the key");
        let groups: Vec<&str> = code.split('-').collect();
        assert_eq!(groups.len(), ACCESS_CODE_SYMBOLS / 4, "{code}");
        assert!(groups.iter().all(|g| g.len() == 4), "{code}");
        assert!(
            code.bytes().all(|c| c == b'-' || CROCKFORD.contains(&c)),
            "{code}"
        );
        // The code shares nothing with what the log holds about the same person.
        let pseudonym = a.user("alice");
        let hex = pseudonym.trim_start_matches("user-");
        assert!(
            !code.to_lowercase().contains(&hex[..4]),
            "{code} {pseudonym}"
        );
        // Over many names every symbol shows up: the encoding spreads the digest's bits.
        let mut seen = [false; 32];
        for i in 0..200 {
            for c in a.access_code(&format!("user{i}")).bytes() {
                if let Some(k) = CROCKFORD.iter().position(|&x| x == c) {
                    seen[k] = true;
                }
            }
        }
        assert!(seen.iter().all(|&s| s), "{seen:?}");
    }

    #[test]
    fn pseudonyms_and_hashes_depend_on_the_key() {
        let a = Privacy::new(Policy::default(), &[1; 32]).unwrap();
        let b = Privacy::new(Policy::default(), &[2; 32]).unwrap();
        assert_ne!(a.user("alice"), b.user("alice"));
        assert_ne!(a.value_hash("x"), b.value_hash("x"));
        // The value hash is not the uilog import hash of the same value, nor the raw-key hash.
        assert_ne!(a.value_hash("x"), ValueHash::keyed(&[1; 32], "x"));
    }

    #[test]
    fn text_modes_globally_and_per_app() {
        let p = privacy("text: plain\napps:\n  text:\n    XTerm: mask\n    secretapp: none\n");
        let plain = p.text(&app("gedit"), "notes", None, "hi there");
        assert_eq!(plain.text.as_deref(), Some("hi there"));
        assert!(plain.value_hash.is_some());
        let masked = p.text(&app("xterm"), "bash", None, "ab cd");
        assert_eq!(masked.text.as_deref(), Some("** **"));
        let none = p.text(&app("SecretApp"), "x", None, "abc");
        assert_eq!(none, FilteredText::default());
    }

    #[test]
    fn plain_text_has_pii_replaced_but_hash_is_of_the_value() {
        let p = privacy("text: plain\n");
        let out = p.text(
            &app("gedit"),
            "mail",
            None,
            "write to jane.doe@example.org now",
        );
        assert_eq!(out.text.as_deref(), Some("write to <email> now"));
        assert_eq!(
            out.value_hash,
            Some(p.value_hash("write to jane.doe@example.org now"))
        );
    }

    #[test]
    fn card_numbers_need_a_valid_luhn_check() {
        let p = Privacy::new(Policy::default(), &KEY).unwrap();
        assert_eq!(p.scrub_pii("card 4111 1111 1111 1111 ok"), "card <card> ok");
        assert_eq!(p.scrub_pii("4111-1111-1111-1111"), "<card>");
        assert_eq!(p.scrub_pii("5500005555555559"), "<card>");
        // Same length, failing Luhn: not a card (and not a phone number either).
        assert_eq!(
            p.scrub_pii("order 4111111111111112"),
            "order 4111111111111112"
        );
        assert!(
            !luhn_valid("79927398713"),
            "passes Luhn but 11 digits is too short for a card"
        );
        assert!(luhn_valid("378282246310005"));
        assert!(!luhn_valid("378282246310006"));
    }

    #[test]
    fn ibans_need_a_valid_checksum() {
        let p = Privacy::new(Policy::default(), &KEY).unwrap();
        assert_eq!(
            p.scrub_pii("pay DE89 3704 0044 0532 0130 00 today"),
            "pay <iban> today"
        );
        assert_eq!(p.scrub_pii("GB82WEST12345698765432"), "<iban>");
        assert!(iban_valid("GB82 WEST 1234 5698 7654 32"));
        assert!(!iban_valid("GB83 WEST 1234 5698 7654 32"));
        assert_eq!(
            p.scrub_pii("GB83WEST12345698765432"),
            "GB83WEST12345698765432"
        );
    }

    #[test]
    fn phones_are_found_but_dates_and_times_are_not() {
        let p = Privacy::new(Policy::default(), &KEY).unwrap();
        assert_eq!(p.scrub_pii("call +49 30 1234567"), "call <phone>");
        assert_eq!(p.scrub_pii("call 030 1234567!"), "call <phone>!");
        assert_eq!(p.scrub_pii("(555) 123-4567"), "<phone>");
        assert_eq!(
            p.scrub_pii("report 2026-11-25 17:30"),
            "report 2026-11-25 17:30"
        );
        assert_eq!(p.scrub_pii("Invoice 4711"), "Invoice 4711");
    }

    #[test]
    fn detectors_can_be_switched_off_and_custom_ones_added() {
        let p = privacy("pii:\n  email: false\n  custom:\n    - name: employee\n      pattern: 'EMP-[0-9]{6}'\n");
        assert_eq!(p.scrub_pii("a@b.org EMP-123456"), "a@b.org <employee>");
    }

    #[test]
    fn titles_are_redacted_then_scrubbed() {
        let p = privacy("titles:\n  redact:\n    - pattern: '/home/[^/ ]+'\n      replace: '/home/<user>'\n    - pattern: 'Invoice [0-9]+'\n");
        assert_eq!(
            p.title("vim /home/alice/notes.txt"),
            "vim /home/<user>/notes.txt"
        );
        assert_eq!(p.title("Invoice 4711 - Viewer"), "<redacted> - Viewer");
        assert_eq!(p.title("Inbox - bob@example.com"), "Inbox - <email>");
    }

    #[test]
    fn password_contexts_drop_text_entirely() {
        let p = privacy("text: plain\n");
        assert!(p.is_password_context("Password prompt", None));
        assert!(p.is_password_context("[sudo] for alice", None));
        assert!(!p.is_password_context("Passage planner", None));
        let out = p.text(&app("xterm"), "Enter passphrase", None, "hunter2");
        assert_eq!(out, FilteredText::default());
        let field = Element {
            role: Some("entry".into()),
            name: Some("Password".into()),
            ..Element::default()
        };
        assert!(p.is_password_context("Login form", Some(&field)));
        let user_field = Element {
            role: Some("entry".into()),
            name: Some("User name".into()),
            ..Element::default()
        };
        assert!(!p.is_password_context("Mail", Some(&user_field)));
        assert_eq!(
            p.text(&app("firefox"), "Mail", Some(&field), "x").text,
            None
        );
    }

    #[test]
    fn clipboard_from_a_denied_app_or_password_window_keeps_nothing() {
        let p = privacy("text: plain\napps:\n  deny: [keepassxc]\n");
        let target = app("firefox");
        let out = p.clipboard_text(
            &target,
            "Shop",
            Some((&app("keepassxc"), "db.kdbx")),
            "s3cret",
        );
        assert_eq!(out, FilteredText::default());
        let out = p.clipboard_text(
            &target,
            "Shop",
            Some((&app("xterm"), "Password prompt")),
            "s3cret",
        );
        assert_eq!(out, FilteredText::default());
        let out = p.clipboard_text(&target, "Shop", Some((&app("xterm"), "bash")), "ok text");
        assert_eq!(out.text.as_deref(), Some("ok text"));
        let out = p.clipboard_text(&target, "Shop", None, "unknown source");
        assert_eq!(out.text.as_deref(), Some("unknown source"));
    }

    #[test]
    fn deny_and_allow_lists_match_instance_class_or_process() {
        let p = privacy("apps:\n  deny: [KeePassXC]\n");
        assert!(!p.records_app(&AppIdent {
            instance: "keepassxc",
            class: "KeePassXC",
            process: "keepassxc"
        }));
        assert!(p.records_app(&app("xterm")));
        assert_eq!(
            p.text(&app("keepassxc"), "db", None, "secret"),
            FilteredText::default()
        );

        let p = privacy("apps:\n  allow: [xterm, libreoffice]\n  deny: [xterm]\n");
        assert!(!p.records_app(&app("xterm")), "deny wins over allow");
        assert!(p.records_app(&AppIdent {
            instance: "soffice",
            class: "",
            process: "libreoffice"
        }));
        assert!(!p.records_app(&app("firefox")));
    }

    #[test]
    fn bad_policies_name_file_line_and_field() {
        let err =
            Policy::parse("text: hash\napps:\n  denny: [x]\n", Path::new("p.yaml")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("p.yaml:3:"), "{msg}");
        assert!(msg.contains("denny"), "{msg}");

        let err = Policy::parse("text: shout\n", Path::new("p.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("p.yaml:1:") && err.contains("shout"),
            "{err}"
        );

        let yaml = "text: hash\ntitles:\n  redact:\n    - pattern: '(unclosed'\n";
        let policy = Policy::parse(yaml, Path::new("p.yaml")).unwrap();
        let err = Privacy::compile(policy, &KEY, Path::new("p.yaml"), yaml)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("p.yaml:4: field `titles.redact[0].pattern`"),
            "{err}"
        );
    }

    #[test]
    fn empty_policy_file_is_the_default() {
        let p = Policy::parse("# nothing yet\n", Path::new("p.yaml")).unwrap();
        assert_eq!(p.text, TextMode::Hash);
        assert!(p.pseudonymize.user);
    }

    #[test]
    fn retention_cutoff_counts_days_back() {
        let p = privacy("retention_days: 2\n");
        assert_eq!(
            p.retention_cutoff(1_000_000_000_000_000),
            Some(1_000_000_000_000_000 - 2 * 86_400_000_000)
        );
        let p = privacy("retention_days: null\n");
        assert_eq!(p.retention_cutoff(5), None);
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("conf").join("policy.key");
        let k1 = load_or_create_key(&path).unwrap();
        let k2 = load_or_create_key(&path).unwrap();
        assert_eq!(k1, k2);
        assert_ne!(k1, [0; 32]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            let err = load_or_create_key(&path).unwrap_err().to_string();
            assert!(err.contains("readable by others"), "{err}");
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        fs::write(&path, "not hex\n").unwrap();
        assert!(load_or_create_key(&path)
            .unwrap_err()
            .to_string()
            .contains("64 hex digits"));
    }

    #[test]
    fn policy_file_keeps_its_key_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.yaml");
        fs::write(&policy, "text: plain\n").unwrap();
        let a = Privacy::load(Some(&policy)).unwrap();
        assert!(dir.path().join("policy.key").exists());
        let b = Privacy::load(Some(&policy)).unwrap();
        assert_eq!(a.user("alice"), b.user("alice"));
        fs::write(&policy, "key_file: keys/other.key\n").unwrap();
        Privacy::load(Some(&policy)).unwrap();
        assert!(dir.path().join("keys/other.key").exists());
    }

    #[test]
    fn the_example_policy_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy.yaml");
        let source = fs::read_to_string(&path).unwrap();
        let policy = Policy::parse(&source, &path).unwrap();
        let p = Privacy::compile(policy, &KEY, &path, &source).unwrap();
        assert!(!p.records_app(&app("keepassxc")));
    }
}
