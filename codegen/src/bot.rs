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
    /// 0–1, see `miner::score::Score::standardization`.
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
    /// Values seen in the log, where the privacy policy kept them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<String>,
    /// Shown when no sample was kept (text hashed or masked): a developer fills it in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
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
    /// The element clicked, when the log knew it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<Element>,
    /// Window-relative position of a click.
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
            element: None,
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
            match s.action {
                Action::Click if s.x.is_none() || s.y.is_none() => {
                    return Err(self.invalid(at("x"), "a click needs x and y (window-relative)"));
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

    /// One row of sample values (the first sample of each input, else its placeholder), for a
    /// dry run without a parameter file.
    pub fn sample_params(&self) -> Params {
        self.inputs
            .iter()
            .map(|i| {
                let v = i
                    .samples
                    .first()
                    .cloned()
                    .or_else(|| i.placeholder.clone())
                    .unwrap_or_default();
                (i.name.clone(), v)
            })
            .collect()
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
                placeholder: None,
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
