//! The bot model: what a bot file (`apiVersion: taskmine/v1`) holds, how it is read, checked and
//! written, and how parameters fill its `{{ name }}` slots.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use uilog::Element;

use crate::error::{Error, Result};

/// The only bot file version this crate reads and writes.
pub const API_VERSION: &str = "taskmine/v1";

/// How long a step waits for its window by default, in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u64 = 5_000;

/// A bot draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bot {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// A file-name-safe name (`routine-1-xterm`).
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub source: Source,
    #[serde(default)]
    pub inputs: Vec<Input>,
    pub steps: Vec<Step>,
    #[serde(default)]
    pub postconditions: Vec<PostCondition>,
}

/// The routine a bot was drafted from, and why it was worth drafting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The routine's rank in the mining result.
    pub routine: u32,
    pub evidence: Evidence,
    /// The dominant variant, action by action: the trace a replay must reproduce.
    pub variant: Vec<ExpectedAction>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub instances: u64,
    pub users: u64,
    /// 0–1, see `miner::Score::standardization`.
    pub standardization: f64,
    pub hours_per_month: f64,
    pub median_duration_s: f64,
}

/// One action of a variant, as the miner labels it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedAction {
    pub kind: uilog::EventKind,
    pub app: String,
    /// The title template; `<…>` parts stand for any text.
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub element: String,
    /// The element the action targeted, learned from the instances like a step's selector: a
    /// replay's trace matches the routine at element level only if its event's element fits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<Selector>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputType {
    Text,
    Number,
}

/// A parameter: a typed value that differed between the routine's instances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// Used as `{{ name }}` in steps and as the column of the parameter file.
    pub name: String,
    #[serde(rename = "type")]
    pub kind: InputType,
    /// Values seen in the log, where the privacy policy kept them. A value the policy masked
    /// (`*****`, `<email>`) or hashed is never a sample.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<String>,
    /// No sample was kept, so no run has a default: every parameter row must give a value.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
}

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Bring a window to the front (through the window manager) and wait until it has focus.
    FocusWindow,
    Click,
    Type,
    Key,
    Copy,
    Paste,
    /// Wait until a window appears and has focus (opened by an earlier step).
    WaitForWindow,
    /// Fail unless the window has focus.
    AssertWindow,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::FocusWindow => "focus_window",
            Action::Click => "click",
            Action::Type => "type",
            Action::Key => "key",
            Action::Copy => "copy",
            Action::Paste => "paste",
            Action::WaitForWindow => "wait_for_window",
            Action::AssertWindow => "assert_window",
        }
    }
}

/// The window a step happens in: the app (WM_CLASS instance or class, as the log names it) and a
/// regular expression the title must match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowMatch {
    pub app: String,
    pub title: String,
}

impl WindowMatch {
    /// Whether a window with this app and title is the one meant.
    pub fn matches(&self, re: &Regex, app: &str, class: &str, title: &str) -> bool {
        (self.app.eq_ignore_ascii_case(app) || self.app.eq_ignore_ascii_case(class))
            && re.is_match(title)
    }

    pub fn regex(&self) -> std::result::Result<Regex, regex::Error> {
        Regex::new(&self.title)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MouseButton {
    #[default]
    Left,
    Right,
    Middle,
}

/// One step of a bot. Which optional fields a step needs depends on its action (see
/// [`Bot::check`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub action: Action,
    /// The window that must have focus before the step runs.
    pub window: WindowMatch,
    /// The element a click or type step acts on, found again in the step's window at replay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<Selector>,
    /// The target as it looks: found on the screen when no selector resolves (or the app has no
    /// accessibility tree). Clicks only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    /// What a click may use when the step has no selector. Never implied: a bot clicks by
    /// position only where its file says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
    /// Window-relative position of a click, as recorded (used only with `fallback: position`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub button: Option<MouseButton>,
    /// Clicks in a row (2 for a double click).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clicks: Option<u8>,
    /// Text to type: literal, with `{{ name }}` for inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A key or combination (`enter`, `ctrl+l`, `ctrl+shift+c`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<String>,
    /// How long to wait for the window before the step fails, in milliseconds.
    pub timeout_ms: u64,
    /// A declared pause before the step, in milliseconds (the app's own pace).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub wait_ms: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl Step {
    /// A step of `action` in `window` with every optional field empty.
    pub fn new(action: Action, window: WindowMatch) -> Step {
        Step {
            action,
            window,
            selector: None,
            target: None,
            fallback: None,
            x: None,
            y: None,
            button: None,
            clicks: None,
            text: None,
            keys: None,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            wait_ms: 0,
        }
    }

    /// The keys a copy or paste step presses.
    pub fn effective_keys(&self) -> Option<&str> {
        match (self.action, self.keys.as_deref()) {
            (_, Some(k)) => Some(k),
            (Action::Copy, None) => Some("ctrl+c"),
            (Action::Paste, None) => Some("ctrl+v"),
            _ => None,
        }
    }
}

/// A click's target as it looks on the screen, for apps without an accessibility tree: the text OCR
/// reads on or beside it and its snapshot. Replay looks for the text first: the point clicked is
/// the centre of the text's words moved by `dx`, `dy` (a field's label left of it, or a button's
/// own caption at 0, 0). A step without text is looked for by its image, clicked at the image's
/// centre. Only a unique match counts (see [`crate::vision`]); a step whose text is gone halts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Words, matched whole and case-insensitively in one line of the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// From the centre of the text to the point to click, in pixels.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub dx: i32,
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub dy: i32,
    /// The target's snapshot as a PNG data URI (`data:image/png;base64,…`), its target at the
    /// centre; at the scale of the screen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

fn is_zero_i32(v: &i32) -> bool {
    *v == 0
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.text {
            Some(t) if (self.dx, self.dy) == (0, 0) => write!(f, "text {t:?}")?,
            Some(t) => write!(f, "text {t:?} {:+} {:+}", self.dx, self.dy)?,
            None => f.write_str("image")?,
        }
        if self.text.is_some() && self.image.is_some() {
            f.write_str(" (with image)")?;
        }
        Ok(())
    }
}

/// How a click without a selector finds its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// The step's window-relative `x`, `y`: blind to layout changes, so never the default.
    Position,
}

/// Which element a step acts on. Each part is a regular expression the element's part must match
/// (write `^…$` for a whole match); a missing part matches anything. `path` is matched against the
/// element's path with its `[index]` parts removed: indices shift when a field is added above, so
/// they are not identity.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// A [`Selector`] with its patterns compiled.
#[derive(Debug, Clone)]
pub struct Matcher {
    parts: [Option<Regex>; 4],
}

/// The separator of an element path's levels.
pub const PATH_SEP: &str = " / ";

static PATH_INDEX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[[0-9]+\]$").expect("index regex"));

/// An element path without the `[index]` at the end of each level: what a selector's `path` matches.
pub fn path_without_indices(path: &str) -> String {
    path.split(PATH_SEP)
        .map(|level| PATH_INDEX.replace(level, ""))
        .collect::<Vec<_>>()
        .join(PATH_SEP)
}

impl Selector {
    pub fn is_empty(&self) -> bool {
        self.role.is_none() && self.name.is_none() && self.id.is_none() && self.path.is_none()
    }

    /// Compiles the patterns; an error names the part (`selector.name`).
    pub fn matcher(&self) -> std::result::Result<Matcher, String> {
        let compile = |field: &str, p: &Option<String>| {
            p.as_deref()
                .map(Regex::new)
                .transpose()
                .map_err(|e| format!("selector.{field}: not a valid pattern: {e}"))
        };
        Ok(Matcher {
            parts: [
                compile("role", &self.role)?,
                compile("name", &self.name)?,
                compile("id", &self.id)?,
                compile("path", &self.path)?,
            ],
        })
    }
}

impl Matcher {
    /// Whether `e` is an element this selector names (an absent part of `e` reads as empty).
    pub fn matches(&self, e: &Element) -> bool {
        let path = e.path.as_deref().map(path_without_indices);
        let values = [
            e.role.as_deref(),
            e.name.as_deref(),
            e.id.as_deref(),
            path.as_deref(),
        ];
        let ok = self
            .parts
            .iter()
            .zip(values)
            .all(|(re, v)| re.as_ref().is_none_or(|re| re.is_match(v.unwrap_or(""))));
        ok
    }
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts = [
            ("role", &self.role),
            ("name", &self.name),
            ("id", &self.id),
            ("path", &self.path),
        ];
        let mut first = true;
        f.write_str("{")?;
        for (k, v) in parts {
            if let Some(v) = v {
                if !first {
                    f.write_str(", ")?;
                }
                write!(f, "{k}: {v:?}")?;
                first = false;
            }
        }
        f.write_str("}")
    }
}

/// How an element reads in messages and reports: `entry "First name" #fn at frame 'Form' / …`.
pub fn describe_element(e: &Element) -> String {
    let mut parts = Vec::new();
    if let Some(r) = &e.role {
        parts.push(r.clone());
    }
    if let Some(n) = &e.name {
        parts.push(format!("{n:?}"));
    }
    if let Some(i) = e.id.as_deref().filter(|i| !i.is_empty()) {
        parts.push(format!("#{i}"));
    }
    if let Some(p) = &e.path {
        parts.push(format!("at {p}"));
    }
    if parts.is_empty() {
        "an element without role, name or id".into()
    } else {
        parts.join(" ")
    }
}

/// `s` as a pattern that matches exactly `s`, escaping only what a regular expression reads
/// specially outside a character class, so that `^E-mail$` stays readable in a bot file.
pub fn exact(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('^');
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('$');
    out
}

/// What must hold after a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "check", rename_all = "snake_case", deny_unknown_fields)]
pub enum PostCondition {
    /// A window with this app and title exists (mapped).
    Window {
        app: String,
        title: String,
        #[serde(default = "default_timeout")]
        timeout_ms: u64,
    },
    /// A file exists and, when `content` is given, holds exactly it (trailing newlines ignored).
    /// Both may use `{{ name }}`.
    File {
        path: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<String>,
        #[serde(default = "default_timeout")]
        timeout_ms: u64,
    },
}

fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_MS
}

/// One row of parameter values, by input name.
pub type Params = BTreeMap<String, String>;

static SLOT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}").expect("slot regex"));

/// A piece of a text with slots: literal text or an input's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Literal(String),
    Param(String),
}

/// Splits `text` at its `{{ name }}` slots.
pub fn parts(text: &str) -> Vec<Part> {
    let mut out = Vec::new();
    let mut last = 0;
    for c in SLOT.captures_iter(text) {
        let m = c.get(0).expect("whole match");
        if m.start() > last {
            out.push(Part::Literal(text[last..m.start()].to_owned()));
        }
        out.push(Part::Param(c[1].to_owned()));
        last = m.end();
    }
    if last < text.len() {
        out.push(Part::Literal(text[last..].to_owned()));
    }
    out
}

/// Fills the `{{ name }}` slots of `text`; a name without a value is an error naming it.
pub fn fill(text: &str, params: &Params) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(text.len());
    for p in parts(text) {
        match p {
            Part::Literal(s) => out.push_str(&s),
            Part::Param(name) => match params.get(&name) {
                Some(v) => out.push_str(v),
                None => return Err(format!("no value for parameter {name:?}")),
            },
        }
    }
    Ok(out)
}

/// Escapes `s` for use as a literal inside a regular expression.
pub fn regex_literal(s: &str) -> String {
    regex::escape(s)
}

impl Bot {
    /// Reads and checks a bot file.
    pub fn load(path: &Path) -> Result<Bot> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Bot::parse(&text, path)
    }

    /// Parses and checks bot YAML; `path` only names the source in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Bot> {
        let bot: Bot = serde_norway::from_str(text).map_err(|e| Error::BotFile {
            path: path.to_path_buf(),
            message: match e.location() {
                Some(l) => {
                    let msg = e.to_string();
                    let suffix = format!(" at line {} column {}", l.line(), l.column());
                    let msg = msg.strip_suffix(&suffix).unwrap_or(&msg);
                    format!("line {}, column {}: {msg}", l.line(), l.column())
                }
                None => e.to_string(),
            },
        })?;
        bot.check().map_err(|e| match e {
            Error::Invalid {
                location, message, ..
            } => Error::BotFile {
                path: path.to_path_buf(),
                message: format!("{location}: {message}"),
            },
            other => other,
        })?;
        Ok(bot)
    }

    pub fn to_yaml(&self) -> Result<String> {
        serde_norway::to_string(self).map_err(|e| self.invalid("bot", e.to_string()))
    }

    fn invalid(&self, location: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid {
            bot: self.name.clone(),
            location: location.into(),
            message: message.into(),
        }
    }

    /// Checks what the types cannot: the version, that each step has the fields its action
    /// needs, that title patterns compile and that every slot names an input.
    pub fn check(&self) -> Result<()> {
        if self.api_version != API_VERSION {
            return Err(self.invalid(
                "apiVersion",
                format!("is {:?}, expected {API_VERSION:?}", self.api_version),
            ));
        }
        if self.steps.is_empty() {
            return Err(self.invalid("steps", "a bot needs at least one step"));
        }
        let names: Vec<&str> = self.inputs.iter().map(|i| i.name.as_str()).collect();
        for (k, i) in self.inputs.iter().enumerate() {
            if !SLOT.is_match(&format!("{{{{{}}}}}", i.name)) {
                return Err(self.invalid(
                    format!("inputs[{k}].name"),
                    format!("{:?} is not a name (letters, digits, _)", i.name),
                ));
            }
            if names[..k].contains(&i.name.as_str()) {
                return Err(self.invalid(
                    format!("inputs[{k}].name"),
                    format!("{:?} is declared twice", i.name),
                ));
            }
        }
        let check_slots = |location: String, text: &str| -> Result<()> {
            for p in parts(text) {
                if let Part::Param(n) = p {
                    if !names.contains(&n.as_str()) {
                        return Err(self.invalid(
                            location,
                            format!("{{{{ {n} }}}} names no input (inputs: {names:?})"),
                        ));
                    }
                }
            }
            Ok(())
        };
        for (k, s) in self.steps.iter().enumerate() {
            let at = |field: &str| format!("steps[{k}] ({}).{field}", s.action.as_str());
            if let Err(e) = s.window.regex() {
                return Err(self.invalid(at("window.title"), format!("not a valid pattern: {e}")));
            }
            if let Some(sel) = &s.selector {
                if sel.is_empty() {
                    return Err(self.invalid(
                        at("selector"),
                        "an empty selector matches every element: give role, name, id or path",
                    ));
                }
                sel.matcher().map_err(|m| {
                    let (field, msg) = m.split_once(": ").unwrap_or(("selector", &m));
                    self.invalid(at(field), msg)
                })?;
            }
            if let Some(t) = &s.target {
                if s.action != Action::Click {
                    return Err(self.invalid(at("target"), "only a click step has a target"));
                }
                if t.text.is_none() && t.image.is_none() {
                    return Err(self.invalid(at("target"), "a target needs text or image"));
                }
                if let Some(text) = &t.text {
                    if crate::vision::text_words(text).is_empty() {
                        return Err(self.invalid(
                            at("target.text"),
                            format!("{text:?} has no word to look for"),
                        ));
                    }
                }
                if let Some(image) = &t.image {
                    crate::vision::grey_of_data_uri(image)
                        .map_err(|m| self.invalid(at("target.image"), m))?;
                }
            }
            let by_position = s.fallback == Some(Fallback::Position);
            if by_position && (s.x.is_none() || s.y.is_none()) {
                return Err(self.invalid(
                    at("x"),
                    "fallback: position needs x and y (window-relative)",
                ));
            }
            match s.action {
                Action::Click if s.selector.is_none() && s.target.is_none() && !by_position => {
                    return Err(self.invalid(
                        at("selector"),
                        "a click needs a selector, a target (text or image), or x, y and `fallback: position` to click by position",
                    ));
                }
                Action::Type => match &s.text {
                    None => return Err(self.invalid(at("text"), "a type step needs text")),
                    Some(t) => check_slots(at("text"), t)?,
                },
                Action::Key if s.keys.is_none() => {
                    return Err(self.invalid(at("keys"), "a key step needs keys"));
                }
                _ => {}
            }
            if let Some(keys) = s.effective_keys() {
                crate::keys::parse(keys).map_err(|m| self.invalid(at("keys"), m))?;
            }
        }
        for (k, p) in self.postconditions.iter().enumerate() {
            match p {
                PostCondition::Window { title, .. } => {
                    Regex::new(title).map_err(|e| {
                        self.invalid(
                            format!("postconditions[{k}].title"),
                            format!("not a valid pattern: {e}"),
                        )
                    })?;
                }
                PostCondition::File { path, content, .. } => {
                    check_slots(format!("postconditions[{k}].path"), path)?;
                    if let Some(c) = content {
                        check_slots(format!("postconditions[{k}].content"), c)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The parameter names, in declaration order.
    pub fn input_names(&self) -> Vec<&str> {
        self.inputs.iter().map(|i| i.name.as_str()).collect()
    }

    /// One row of sample values (the first sample of each input; empty for a required input,
    /// which has none), for a dry run without a parameter file.
    pub fn sample_params(&self) -> Params {
        self.inputs
            .iter()
            .map(|i| {
                (
                    i.name.clone(),
                    i.samples.first().cloned().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// The required inputs that `row` leaves empty or out, in declaration order.
    pub fn missing_required<'a>(&'a self, row: &Params) -> Vec<&'a str> {
        self.inputs
            .iter()
            .filter(|i| i.required && row.get(&i.name).is_none_or(String::is_empty))
            .map(|i| i.name.as_str())
            .collect()
    }

    /// Whether any step finds its element by selector (and so needs the accessibility tree).
    pub fn uses_selectors(&self) -> bool {
        self.steps.iter().any(|s| s.selector.is_some())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn small_bot() -> Bot {
        let w = WindowMatch {
            app: "xterm".into(),
            title: "^target$".into(),
        };
        let mut focus = Step::new(Action::FocusWindow, w.clone());
        focus.timeout_ms = 2_000;
        let mut ty = Step::new(Action::Type, w.clone());
        ty.text = Some("echo {{ value }} > out.txt".into());
        let mut key = Step::new(Action::Key, w);
        key.keys = Some("enter".into());
        Bot {
            api_version: API_VERSION.into(),
            name: "small".into(),
            description: String::new(),
            source: Source {
                routine: 1,
                evidence: Evidence {
                    instances: 5,
                    users: 1,
                    standardization: 1.0,
                    hours_per_month: 0.5,
                    median_duration_s: 4.0,
                },
                variant: vec![],
            },
            inputs: vec![Input {
                name: "value".into(),
                kind: InputType::Text,
                samples: vec!["a1".into()],
                required: false,
            }],
            steps: vec![focus, ty, key],
            postconditions: vec![PostCondition::File {
                path: "out.txt".into(),
                content: Some("{{ value }}".into()),
                timeout_ms: 1000,
            }],
        }
    }

    #[test]
    fn yaml_round_trips_and_names_its_version() {
        let bot = small_bot();
        let yaml = bot.to_yaml().unwrap();
        assert!(yaml.starts_with("apiVersion: taskmine/v1\n"), "{yaml}");
        assert!(yaml.contains("check: file"), "{yaml}");
        let back = Bot::parse(&yaml, Path::new("small.yaml")).unwrap();
        assert_eq!(back, bot);
    }

    #[test]
    fn errors_name_the_file_line_and_field() {
        let yaml = small_bot().to_yaml().unwrap();
        let bad = yaml.replace("timeout_ms: 2000", "timeout_ms: soon");
        let e = Bot::parse(&bad, Path::new("b.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("b.yaml: line "), "{e}");
        assert_eq!(e.matches("line").count(), 1, "the line is named once: {e}");
        assert!(
            e.contains("timeout_ms") || e.contains("invalid type"),
            "{e}"
        );

        let bad = yaml.replace("{{ value }} > out", "{{ other }} > out");
        let e = Bot::parse(&bad, Path::new("b.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("steps[1] (type).text") && e.contains("other"),
            "{e}"
        );

        let bad = yaml.replace("keys: enter", "keys: ctrl+nosuchkey");
        let e = Bot::parse(&bad, Path::new("b.yaml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("steps[2] (key).keys") && e.contains("nosuchkey"),
            "{e}"
        );

        let bad = yaml.replace("taskmine/v1", "taskmine/v9");
        let e = Bot::parse(&bad, Path::new("b.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("apiVersion"), "{e}");

        let bad = yaml.replace("action: focus_window", "action: teleport");
        let e = Bot::parse(&bad, Path::new("b.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("teleport"), "{e}");
    }

    fn element(role: &str, name: &str, path: &str) -> Element {
        Element {
            role: Some(role.into()),
            name: Some(name.into()),
            id: None,
            path: Some(path.into()),
        }
    }

    #[test]
    fn selectors_ignore_path_indices_and_match_whole_parts() {
        let sel = Selector {
            role: Some(exact("entry")),
            name: Some(exact("E-mail")),
            id: None,
            path: Some(exact("frame 'Form' / panel / entry 'E-mail'")),
        };
        assert_eq!(sel.name.as_deref(), Some("^E-mail$"), "stays readable");
        let m = sel.matcher().unwrap();
        assert!(m.matches(&element(
            "entry",
            "E-mail",
            "frame 'Form'[0] / panel[0] / entry 'E-mail'[5]"
        )));
        // A field added above shifts the index: still the same element.
        assert!(m.matches(&element(
            "entry",
            "E-mail",
            "frame 'Form'[0] / panel[0] / entry 'E-mail'[7]"
        )));
        assert!(!m.matches(&element(
            "entry",
            "E-mail 2",
            "frame 'Form'[0] / panel[0] / entry 'E-mail'[5]"
        )));
        assert!(!m.matches(&element(
            "entry",
            "E-mail",
            "frame 'Other'[0] / panel[0] / entry 'E-mail'[5]"
        )));
        assert!(
            !m.matches(&Element::default()),
            "an empty element is no match"
        );
        assert_eq!(
            path_without_indices("frame 'A [1]'[0] / x[12]"),
            "frame 'A [1]' / x"
        );
        assert_eq!(exact("a.b(1)"), r"^a\.b\(1\)$");
        let re = Regex::new(&exact("a.b(1)+[x]{2}$^|?*\\")).unwrap();
        assert!(re.is_match("a.b(1)+[x]{2}$^|?*\\"));
    }

    #[test]
    fn a_click_needs_a_selector_or_an_explicit_position_fallback() {
        let mut bot = small_bot();
        let mut click = Step::new(Action::Click, bot.steps[0].window.clone());
        (click.x, click.y) = (Some(10), Some(20));
        bot.steps.push(click);
        let e = bot.check().unwrap_err().to_string();
        assert!(
            e.contains("steps[3] (click).selector") && e.contains("fallback: position"),
            "{e}"
        );
        bot.steps[3].fallback = Some(Fallback::Position);
        bot.check().unwrap();
        bot.steps[3].fallback = None;
        bot.steps[3].selector = Some(Selector {
            name: Some("^Save(".into()),
            ..Selector::default()
        });
        let e = bot.check().unwrap_err().to_string();
        assert!(e.contains("steps[3] (click).selector.name"), "{e}");
        bot.steps[3].selector = Some(Selector::default());
        let e = bot.check().unwrap_err().to_string();
        assert!(e.contains("empty selector"), "{e}");
        bot.steps[3].selector = Some(Selector {
            role: Some("^push button$".into()),
            ..Selector::default()
        });
        bot.check().unwrap();
        let yaml = bot.to_yaml().unwrap();
        assert_eq!(Bot::parse(&yaml, Path::new("b.yaml")).unwrap(), bot);
    }

    #[test]
    fn a_click_may_name_its_target_by_text_or_image_and_bad_ones_are_named() {
        let mut bot = small_bot();
        let mut click = Step::new(Action::Click, bot.steps[0].window.clone());
        let png = recorder::snapshot::Grey {
            width: 2,
            height: 2,
            pixels: vec![0, 255, 255, 0],
        }
        .to_png()
        .unwrap();
        click.target = Some(Target {
            text: Some("First name".into()),
            dx: 120,
            dy: -2,
            image: Some(crate::vision::to_data_uri(&png)),
        });
        bot.steps.push(click);
        bot.check().unwrap();
        let yaml = bot.to_yaml().unwrap();
        assert!(
            yaml.contains("text: First name") && yaml.contains("dx: 120"),
            "{yaml}"
        );
        assert_eq!(Bot::parse(&yaml, Path::new("b.yaml")).unwrap(), bot);

        let bad = yaml.replace("data:image/png;base64,", "data:image/png;base64,@@");
        let e = Bot::parse(&bad, Path::new("b.yaml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("steps[3] (click).target.image"), "{e}");
        let t = bot.steps[3].target.as_mut().unwrap();
        t.text = Some(" -- ".into());
        let e = bot.check().unwrap_err().to_string();
        assert!(e.contains("steps[3] (click).target.text"), "{e}");
        bot.steps[3].target = Some(Target::default());
        let e = bot.check().unwrap_err().to_string();
        assert!(e.contains("needs text or image"), "{e}");
        bot.steps[3].target = Some(Target {
            text: Some("Save".into()),
            ..Target::default()
        });
        bot.steps[1].target = bot.steps[3].target.clone();
        let e = bot.check().unwrap_err().to_string();
        assert!(
            e.contains("steps[1] (type).target") && e.contains("only a click"),
            "{e}"
        );
    }

    #[test]
    fn required_inputs_have_no_default() {
        let mut bot = small_bot();
        bot.inputs[0].samples.clear();
        bot.inputs[0].required = true;
        let row = bot.sample_params();
        assert_eq!(row["value"], "");
        assert_eq!(bot.missing_required(&row), vec!["value"]);
        let mut given = row.clone();
        given.insert("value".into(), "x".into());
        assert!(bot.missing_required(&given).is_empty());
        assert!(bot.to_yaml().unwrap().contains("required: true"));
    }

    #[test]
    fn slots_fill_from_params_and_unknown_names_fail() {
        let mut p = Params::new();
        p.insert("a".into(), "1".into());
        assert_eq!(fill("x{{a}}y{{ a }}", &p).unwrap(), "x1y1");
        assert!(fill("{{ b }}", &p).unwrap_err().contains("\"b\""));
        assert_eq!(
            parts("n={{ a }}!"),
            vec![
                Part::Literal("n=".into()),
                Part::Param("a".into()),
                Part::Literal("!".into())
            ]
        );
    }
}
