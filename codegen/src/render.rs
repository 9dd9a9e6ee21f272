//! Rendering a bot as scripts through tera templates (Robot Framework, Python with pyautogui and
//! gi's Atspi for selectors).
//!
//! The templates are plain files in `templates/bot/`; the built-in copies are compiled in, and a
//! folder given with `--templates` overrides any of them by file name. Templates get the bot as
//! `bot`, and per step the pieces a script needs already worked out (text split into literals and
//! parameters, keys in each tool's names), so that they stay free of logic.

use std::path::Path;

use serde::Serialize;
use tera::{Context, Tera};

use crate::bot::{parts, Action, Bot, Part, PostCondition};
use crate::error::{Error, Result};
use crate::keys::{self, KeyName, Named};

/// An output format of `taskmine bots`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Robot,
    Python,
}

impl Format {
    pub fn parse(s: &str) -> std::result::Result<Format, String> {
        match s.trim() {
            "yaml" => Ok(Format::Yaml),
            "robot" => Ok(Format::Robot),
            "python" => Ok(Format::Python),
            other => Err(format!(
                "unknown format {other:?} (expected yaml, robot or python)"
            )),
        }
    }

    /// The template a format renders through; `None` for YAML, which is the bot itself.
    pub fn template(self) -> Option<&'static str> {
        match self {
            Format::Yaml => None,
            Format::Robot => Some("robot.tera"),
            Format::Python => Some("python.tera"),
        }
    }

    /// The file name the rendered bot gets in its folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Yaml => "bot.yaml",
            Format::Robot => "bot.robot",
            Format::Python => "bot.py",
        }
    }
}

/// The built-in templates, by file name.
pub const BUILTIN: [(&str, &str); 2] = [
    ("robot.tera", include_str!("../../templates/bot/robot.tera")),
    (
        "python.tera",
        include_str!("../../templates/bot/python.tera"),
    ),
];

/// The bot templates, built in or overridden from a folder.
pub struct Renderer {
    tera: Tera,
}

impl Renderer {
    /// The built-in templates, with any file of the same name in `dir` taking their place.
    pub fn new(dir: Option<&Path>) -> Result<Renderer> {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![]);
        for (name, builtin) in BUILTIN {
            let text = match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
                Some(p) => {
                    std::fs::read_to_string(&p).map_err(|source| Error::Io { path: p, source })?
                }
                None => builtin.to_owned(),
            };
            tera.add_raw_template(name, &text)
                .map_err(|e| Error::Template {
                    name: name.to_owned(),
                    message: tera_message(&e),
                })?;
        }
        tera.register_filter("robot", robot_filter);
        Ok(Renderer { tera })
    }

    /// Renders `bot` in `format` (YAML is the bot file itself).
    pub fn render(&self, bot: &Bot, format: Format) -> Result<String> {
        let Some(name) = format.template() else {
            return bot.to_yaml();
        };
        let mut ctx = Context::new();
        ctx.insert("bot", bot);
        ctx.insert("steps", &steps(bot));
        ctx.insert("postconditions", &postconditions(bot));
        ctx.insert("defaults", &bot.sample_params());
        let required: Vec<&str> = bot
            .inputs
            .iter()
            .filter(|i| i.required)
            .map(|i| i.name.as_str())
            .collect();
        ctx.insert("required", &required);
        self.tera.render(name, &ctx).map_err(|e| Error::Template {
            name: name.to_owned(),
            message: tera_message(&e),
        })
    }
}

fn tera_message(e: &tera::Error) -> String {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

/// Escapes a literal for a Robot Framework cell: variables, escapes, comments and runs of spaces
/// would otherwise change its meaning.
fn robot_escape(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\\' | '$' | '@' | '&' | '%' | '#' | '=' => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == 0 || i + 1 == chars.len() || chars[i - 1] == ' ' => {
                out.push_str("${SPACE}")
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            _ => out.push(c),
        }
    }
    out
}

fn robot_filter(
    value: &tera::Value,
    _: &std::collections::HashMap<String, tera::Value>,
) -> tera::Result<tera::Value> {
    match value.as_str() {
        Some(s) => Ok(tera::Value::String(robot_escape(s))),
        None => Err(tera::Error::msg("the robot filter takes a string")),
    }
}

#[derive(Serialize)]
struct StepView<'a> {
    /// 1-based.
    number: usize,
    action: &'static str,
    app: &'a str,
    title: &'a str,
    x: Option<i32>,
    y: Option<i32>,
    /// The element to act on; `None` for steps without one.
    selector: Option<&'a crate::bot::Selector>,
    /// The bot file allows a click by `x`, `y` (`fallback: position`).
    by_position: bool,
    button: &'static str,
    clicks: u8,
    /// The text to type, split at its slots.
    text: Vec<Part>,
    /// The keys in xdotool's and pyautogui's names.
    xdotool_keys: String,
    pyautogui_keys: Vec<String>,
    timeout_s: f64,
    wait_s: f64,
}

fn steps(bot: &Bot) -> Vec<StepView<'_>> {
    bot.steps
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let combo = s.effective_keys().and_then(|k| keys::parse(k).ok());
            StepView {
                number: k + 1,
                action: s.action.as_str(),
                app: &s.window.app,
                title: &s.window.title,
                x: s.x,
                y: s.y,
                selector: s.selector.as_ref(),
                by_position: s.fallback == Some(crate::bot::Fallback::Position),
                button: match s.button.unwrap_or_default() {
                    crate::bot::MouseButton::Left => "left",
                    crate::bot::MouseButton::Right => "right",
                    crate::bot::MouseButton::Middle => "middle",
                },
                clicks: s.clicks.unwrap_or(1),
                text: match (&s.action, &s.text) {
                    (Action::Type, Some(t)) => parts(t),
                    _ => Vec::new(),
                },
                xdotool_keys: combo.map(xdotool_keys).unwrap_or_default(),
                pyautogui_keys: combo.map(pyautogui_keys).unwrap_or_default(),
                timeout_s: s.timeout_ms as f64 / 1000.0,
                wait_s: s.wait_ms as f64 / 1000.0,
            }
        })
        .collect()
}

#[derive(Serialize)]
struct PostView {
    check: &'static str,
    app: String,
    title: String,
    path: Vec<Part>,
    content: Option<Vec<Part>>,
    timeout_s: f64,
}

fn postconditions(bot: &Bot) -> Vec<PostView> {
    bot.postconditions
        .iter()
        .map(|p| match p {
            PostCondition::Window {
                app,
                title,
                timeout_ms,
            } => PostView {
                check: "window",
                app: app.clone(),
                title: title.clone(),
                path: Vec::new(),
                content: None,
                timeout_s: *timeout_ms as f64 / 1000.0,
            },
            PostCondition::File {
                path,
                content,
                timeout_ms,
            } => PostView {
                check: "file",
                app: String::new(),
                title: String::new(),
                path: parts(path),
                content: content.as_deref().map(parts),
                timeout_s: *timeout_ms as f64 / 1000.0,
            },
        })
        .collect()
}

fn mods(c: &keys::Combo, names: [&str; 4]) -> Vec<String> {
    let m = c.mods;
    [m.ctrl, m.alt, m.shift, m.sup]
        .iter()
        .zip(names)
        .filter(|(on, _)| **on)
        .map(|(_, n)| n.to_owned())
        .collect()
}

fn xdotool_keys(c: keys::Combo) -> String {
    let key = match c.key {
        KeyName::Char(ch) => match ch {
            '+' => "plus".to_owned(),
            '-' => "minus".to_owned(),
            ' ' => "space".to_owned(),
            ch => ch.to_string(),
        },
        KeyName::Named(n) => match n {
            Named::Enter => "Return".into(),
            Named::Tab => "Tab".into(),
            Named::Backspace => "BackSpace".into(),
            Named::Delete => "Delete".into(),
            Named::Escape => "Escape".into(),
            Named::Space => "space".into(),
            Named::Up => "Up".into(),
            Named::Down => "Down".into(),
            Named::Left => "Left".into(),
            Named::Right => "Right".into(),
            Named::Home => "Home".into(),
            Named::End => "End".into(),
            Named::PageUp => "Prior".into(),
            Named::PageDown => "Next".into(),
            Named::Insert => "Insert".into(),
            Named::F(n) => format!("F{n}"),
        },
    };
    let mut all = mods(&c, ["ctrl", "alt", "shift", "super"]);
    all.push(key);
    all.join("+")
}

fn pyautogui_keys(c: keys::Combo) -> Vec<String> {
    let key = match c.key {
        KeyName::Char(ch) => ch.to_string(),
        KeyName::Named(n) => match n {
            Named::Enter => "enter".into(),
            Named::Tab => "tab".into(),
            Named::Backspace => "backspace".into(),
            Named::Delete => "delete".into(),
            Named::Escape => "esc".into(),
            Named::Space => "space".into(),
            Named::Up => "up".into(),
            Named::Down => "down".into(),
            Named::Left => "left".into(),
            Named::Right => "right".into(),
            Named::Home => "home".into(),
            Named::End => "end".into(),
            Named::PageUp => "pageup".into(),
            Named::PageDown => "pagedown".into(),
            Named::Insert => "insert".into(),
            Named::F(n) => format!("f{n}"),
        },
    };
    let mut all = mods(&c, ["ctrl", "alt", "shift", "win"]);
    all.push(key);
    all
}

/// Writes a draft's folder: the bot in each format and its parameter file (`params.csv`).
/// Returns the files written.
pub fn write_draft(
    draft: &crate::Draft,
    dir: &Path,
    formats: &[Format],
    renderer: &Renderer,
) -> Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    let mut write = |name: &str, text: String| -> Result<()> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        files.push(path);
        Ok(())
    };
    for &f in formats {
        write(f.file_name(), renderer.render(&draft.bot, f)?)?;
    }
    write(
        "params.csv",
        crate::params::to_csv(&draft.bot, &draft.rows)?,
    )?;
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robot_cells_escape_variables_comments_and_space_runs() {
        assert_eq!(robot_escape("a ${x}  #b\\"), "a \\${x} ${SPACE}\\#b\\\\");
        assert_eq!(robot_escape(" x "), "${SPACE}x${SPACE}");
    }

    #[test]
    fn a_template_folder_overrides_by_file_name_and_errors_name_the_template() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("python.tera"), "steps={{ steps | length }}").unwrap();
        let r = Renderer::new(Some(dir.path())).unwrap();
        let bot = crate::bot::tests::small_bot();
        assert_eq!(r.render(&bot, Format::Python).unwrap(), "steps=3");
        assert!(r
            .render(&bot, Format::Robot)
            .unwrap()
            .contains("*** Test Cases ***"));
        std::fs::write(dir.path().join("robot.tera"), "{% if %}").unwrap();
        let e = Renderer::new(Some(dir.path())).err().unwrap().to_string();
        assert!(e.starts_with("template robot.tera"), "{e}");
    }
}
