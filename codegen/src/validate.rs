//! Validation of a replay: the recorded trace against the routine's dominant variant, and the
//! bot's post-conditions.
//!
//! The trace is abstracted the way the miner labels events (kind, app, title template, element),
//! and compared action by action with the variant the bot came from. Window switches are left out
//! on both sides: a replay activates windows through the window manager, a person by clicking, and
//! either is the same routine. Where the routine's action has a selector, the trace's event must
//! carry an element that fits it: the replay must have acted on the same element, not only in the
//! same window. The first action that differs is the divergence.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use uilog::{Event, EventKind, Micros, Store};

use crate::bot::{describe_element, fill, Bot, ExpectedAction, Params, PostCondition, WindowMatch};
use crate::error::{Error, Result};
use crate::generate::title_pattern;

/// Where a replay first differs from the routine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Divergence {
    /// 1-based position among the compared (non-focus) actions of the variant.
    pub step: usize,
    /// The variant's action there, `None` when the replay did more than the variant.
    pub expected: Option<String>,
    /// What the replay did there, `None` when it stopped short.
    pub got: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceCheck {
    pub matched: bool,
    /// Actions compared (focus switches left out).
    pub compared: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub divergence: Option<Divergence>,
}

fn label(kind: EventKind, app: &str, title: &str, element: &str) -> String {
    let mut s = format!("{kind} {app} \"{title}\"");
    if !element.is_empty() {
        s.push(' ');
        s.push_str(element);
    }
    s
}

fn compared(kind: EventKind) -> bool {
    !matches!(
        kind,
        EventKind::Focus | EventKind::IdleStart | EventKind::IdleEnd
    )
}

/// Compares a replayed trace with the variant the bot was drafted from.
pub fn compare(variant: &[ExpectedAction], trace: &[Event]) -> TraceCheck {
    let expected: Vec<&ExpectedAction> = variant.iter().filter(|a| compared(a.kind)).collect();
    let got: Vec<&Event> = trace.iter().filter(|e| compared(e.kind)).collect();
    let patterns: Vec<Option<regex::Regex>> = expected
        .iter()
        .map(|a| regex::Regex::new(&title_pattern(&a.title)).ok())
        .collect();
    let matchers: Vec<Option<crate::bot::Matcher>> = expected
        .iter()
        .map(|a| a.selector.as_ref().and_then(|s| s.matcher().ok()))
        .collect();
    let matches = |i: usize, e: &Event| {
        let a = expected[i];
        a.kind == e.kind
            && a.app.eq_ignore_ascii_case(&e.app)
            && patterns[i].as_ref().is_none_or(|re| re.is_match(&e.window))
            && matchers[i]
                .as_ref()
                .is_none_or(|m| e.element.as_ref().is_some_and(|el| m.matches(el)))
    };
    let describe = |e: &Event| {
        let element = match &e.element {
            Some(el) if !el.is_empty() => describe_element(el),
            _ => "(no element)".to_owned(),
        };
        label(e.kind, &e.app, &e.window, &element)
    };
    let expect = |a: &ExpectedAction| {
        let element = match &a.selector {
            Some(s) => format!("element {s}"),
            None => a.element.clone(),
        };
        label(a.kind, &a.app, &a.title, &element)
    };
    let n = expected.len().max(got.len());
    for i in 0..n {
        let (x, g) = (expected.get(i), got.get(i));
        let ok = match (x, g) {
            (Some(_), Some(e)) => matches(i, e),
            _ => false,
        };
        if !ok {
            return TraceCheck {
                matched: false,
                compared: expected.len(),
                divergence: Some(Divergence {
                    step: i + 1,
                    expected: x.map(|a| expect(a)),
                    got: g.map(|e| describe(e)),
                }),
            };
        }
    }
    TraceCheck {
        matched: true,
        compared: expected.len(),
        divergence: None,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostConditionCheck {
    /// The condition with parameters filled in.
    pub condition: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// Checks the post-conditions of `bot` for one parameter row, waiting up to each one's timeout.
/// `window_exists` answers whether a window matching app and title pattern is there.
pub fn check_postconditions(
    bot: &Bot,
    params: &Params,
    window_exists: &mut dyn FnMut(&WindowMatch) -> bool,
) -> Vec<PostConditionCheck> {
    bot.postconditions
        .iter()
        .map(|p| match p {
            PostCondition::Window {
                app,
                title,
                timeout_ms,
            } => {
                let w = WindowMatch {
                    app: app.clone(),
                    title: title.clone(),
                };
                let ok = poll(*timeout_ms, || window_exists(&w));
                PostConditionCheck {
                    condition: format!("window {app} /{title}/"),
                    ok,
                    message: if ok {
                        String::new()
                    } else {
                        format!(
                            "no {app} window with a title matching /{title}/ after {timeout_ms} ms"
                        )
                    },
                }
            }
            PostCondition::File {
                path,
                content,
                timeout_ms,
            } => {
                let filled = |t: &str| fill(t, params);
                let (path, content) =
                    match (filled(path), content.as_deref().map(filled).transpose()) {
                        (Ok(p), Ok(c)) => (p, c),
                        (Err(m), _) | (_, Err(m)) => {
                            return PostConditionCheck {
                                condition: format!("file {path}"),
                                ok: false,
                                message: m,
                            }
                        }
                    };
                let mut last = String::new();
                let ok = poll(*timeout_ms, || match std::fs::read_to_string(&path) {
                    Err(e) => {
                        last = format!("{path}: {e}");
                        false
                    }
                    Ok(text) => match &content {
                        Some(c) if text.trim_end_matches(['\n', '\r']) != c => {
                            last = format!("{path} holds {text:?}, expected {c:?}");
                            false
                        }
                        _ => true,
                    },
                });
                PostConditionCheck {
                    condition: match &content {
                        Some(c) => format!("file {path} holds {c:?}"),
                        None => format!("file {path} exists"),
                    },
                    ok,
                    message: if ok { String::new() } else { last },
                }
            }
        })
        .collect()
}

fn poll(timeout_ms: u64, mut ok: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if ok() {
            return true;
        }
        if start.elapsed() >= Duration::from_millis(timeout_ms) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What one step of a run acted on: the proof that it did what its selector said.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepCheck {
    /// 1-based.
    pub step: usize,
    pub action: &'static str,
    /// The step's selector as written in the bot, `None` for a step without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// The element the selector found, with its extents on screen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    /// How the step's target was found: `selector` (accessibility tree), `text` (OCR), `image`
    /// (template matching) or `position` (`fallback: position`); `None` for a step without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found_by: Option<&'static str>,
    /// What the element held after a type step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_back: Option<String>,
    /// The step acted on the element its selector named (after a click the element under the
    /// pointer or the focus agreed; a typed value read back). `false` for steps that cannot be
    /// proven (no selector: by position, or typed into whatever had focus) and for a failed step.
    pub verified: bool,
    /// Why a step is not verified, or how it was.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl StepCheck {
    /// One line for the terminal.
    pub fn line(&self) -> String {
        let mut s = format!(
            "  step {} ({}): {}",
            self.step,
            self.action,
            if self.verified {
                "verified"
            } else {
                "unverified"
            }
        );
        if let Some(sel) = &self.selector {
            s.push_str(&format!("; selector {sel}"));
        }
        if let Some(f) = &self.found {
            match self.found_by {
                Some(by) => s.push_str(&format!("; found by {by}: {f}")),
                None => s.push_str(&format!("; found {f}")),
            }
        }
        if let Some(r) = &self.read_back {
            s.push_str(&format!("; read back {r:?}"));
        }
        if !self.note.is_empty() {
            s.push_str(&format!("; {}", self.note));
        }
        s
    }
}

/// The verdict on one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    pub row: usize,
    pub params: Params,
    pub steps: usize,
    pub steps_done: usize,
    /// Why the run stopped early, as `step N (action): …; focused: …`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// `None` when the replay was not recorded.
    pub trace: Option<TraceCheck>,
    pub postconditions: Vec<PostConditionCheck>,
    /// Per step: its own time beyond its declared wait and the pace, in milliseconds.
    pub step_ms: Vec<f64>,
    /// Per step run (the failed one included): selector, element found, value read back.
    pub step_checks: Vec<StepCheck>,
    pub passed: bool,
}

impl RunReport {
    /// One line for the terminal.
    pub fn verdict_line(&self) -> String {
        let mut s = format!(
            "run {}: {} ({}/{} steps",
            self.row + 1,
            if self.passed { "pass" } else { "FAIL" },
            self.steps_done,
            self.steps
        );
        match &self.trace {
            Some(t) if t.matched => s.push_str(&format!(
                ", trace matches the routine's {} actions",
                t.compared
            )),
            Some(t) => {
                if let Some(d) = &t.divergence {
                    s.push_str(&format!(
                        ", trace diverges at action {}: expected {}, got {}",
                        d.step,
                        d.expected.as_deref().unwrap_or("nothing more"),
                        d.got.as_deref().unwrap_or("nothing")
                    ));
                }
            }
            None => s.push_str(", not recorded"),
        }
        let held = self.postconditions.iter().filter(|p| p.ok).count();
        s.push_str(&format!(
            ", {held}/{} post-conditions hold)",
            self.postconditions.len()
        ));
        let unverified = self
            .step_checks
            .iter()
            .filter(|c| !c.verified && c.selector.is_none() && c.note.starts_with("by position"))
            .count();
        if unverified > 0 {
            s.push_str(&format!(
                "\n  {unverified} clicks by position (fallback): their targets are not proven"
            ));
        }
        if let Some(f) = &self.failure {
            s.push_str(&format!("\n  stopped at {f}"));
        }
        for c in &self.step_checks {
            s.push('\n');
            s.push_str(&c.line());
        }
        for p in self.postconditions.iter().filter(|p| !p.ok) {
            s.push_str(&format!("\n  post-condition failed: {}", p.message));
        }
        s
    }
}

/// The JSON report of `taskmine replay`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub bot: String,
    pub routine: u32,
    pub runs: Vec<RunReport>,
    /// Every run passed.
    pub passed: bool,
}

/// The events of each run: run `i` owns the trace from its start to the next run's start.
pub fn split_trace(events: &[Event], starts: &[Micros]) -> Vec<Vec<Event>> {
    (0..starts.len())
        .map(|i| {
            let end = starts.get(i + 1).copied().unwrap_or(Micros::MAX);
            events
                .iter()
                .filter(|e| e.ts >= starts[i] && e.ts < end)
                .cloned()
                .collect()
        })
        .collect()
}

/// A recorder running in a process of its own while a bot replays (capture and replay in one
/// process would share the X input listener's lifetime with the replay's).
pub struct TraceRecorder {
    child: Option<Child>,
    pub db: PathBuf,
    stderr: Arc<Mutex<String>>,
}

impl TraceRecorder {
    /// Starts `command`, which must record into `db` (`taskmine record --db …`), and waits until it
    /// captures: its first event (the focused window) is in the database, or the database has
    /// existed for 3 s.
    pub fn start(mut command: Command, db: &Path) -> Result<TraceRecorder> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Recorder(format!("cannot start {command:?}: {e}")))?;
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(pipe) = child.stderr.take() {
            let sink = Arc::clone(&stderr);
            std::thread::spawn(move || {
                use std::io::Read;
                let mut pipe = pipe;
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    sink.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        let mut rec = TraceRecorder {
            child: Some(child),
            db: db.to_path_buf(),
            stderr,
        };
        let start = Instant::now();
        loop {
            let events = db
                .exists()
                .then(|| Store::open(db).ok()?.stats().ok())
                .flatten()
                .map_or(0, |s| s.events);
            // A desktop where no window has focus gives no first event: a database that has
            // existed for a while with the recorder alive is taken as ready too.
            if events > 0 || (db.exists() && start.elapsed() > Duration::from_secs(3)) {
                break;
            }
            if let Some(status) = rec.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                return Err(Error::Recorder(format!(
                    "exited early ({status}): {}",
                    rec.stderr()
                )));
            }
            if start.elapsed() > Duration::from_secs(20) {
                return Err(Error::Recorder(format!(
                    "no event recorded within 20 s: {}",
                    rec.stderr()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // The first event comes from the main loop; the input listener enables its capture on its
        // own thread a moment later.
        std::thread::sleep(Duration::from_millis(800));
        Ok(rec)
    }

    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stops the recorder with SIGTERM (it writes what is pending) and returns what it recorded.
    pub fn stop(&mut self) -> Result<Vec<Event>> {
        // Let the last keystrokes reach the recorder before it stops.
        std::thread::sleep(Duration::from_millis(400));
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let start = Instant::now();
            let status = loop {
                if let Some(s) = child
                    .try_wait()
                    .map_err(|e| Error::Recorder(e.to_string()))?
                {
                    break s;
                }
                if start.elapsed() > Duration::from_secs(10) {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(Error::Recorder(format!(
                        "did not stop on SIGTERM: {}",
                        self.stderr()
                    )));
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            if !status.success() {
                return Err(Error::Recorder(format!(
                    "failed ({status}): {}",
                    self.stderr()
                )));
            }
        }
        Ok(Store::open(&self.db)?.events()?)
    }
}

impl Drop for TraceRecorder {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(kind: EventKind, title: &str) -> ExpectedAction {
        ExpectedAction {
            kind,
            app: "xterm".into(),
            title: title.into(),
            element: String::new(),
            selector: None,
        }
    }

    fn ev(kind: EventKind, title: &str) -> Event {
        let mut e = Event::new("s", "u", 0, kind);
        e.app = "xterm".into();
        e.window = title.into();
        e
    }

    #[test]
    fn the_trace_matches_without_focus_switches_and_names_the_first_difference() {
        let variant = vec![
            exp(EventKind::Focus, "target"),
            exp(EventKind::Type, "job <n>"),
            exp(EventKind::Shortcut, "job <n>"),
        ];
        let ok = [
            ev(EventKind::Focus, "other"),
            ev(EventKind::Type, "job 7"),
            ev(EventKind::Shortcut, "job 7"),
        ];
        let c = compare(&variant, &ok);
        assert!(c.matched && c.compared == 2, "{c:?}");

        let wrong = [ev(EventKind::Type, "job 7"), ev(EventKind::Click, "job 7")];
        let c = compare(&variant, &wrong);
        let d = c.divergence.unwrap();
        assert_eq!(d.step, 2);
        assert!(d.expected.unwrap().starts_with("shortcut"));
        assert!(d.got.unwrap().starts_with("click"));

        let short = [ev(EventKind::Type, "job 7")];
        assert_eq!(compare(&variant, &short).divergence.unwrap().got, None);
        let long = [ok[1].clone(), ok[2].clone(), ev(EventKind::Type, "job 7")];
        assert_eq!(compare(&variant, &long).divergence.unwrap().expected, None);
    }

    #[test]
    fn the_trace_matches_at_element_level_where_the_routine_has_a_selector() {
        let mut click = exp(EventKind::Click, "form");
        click.selector = Some(crate::bot::Selector {
            role: Some("^entry$".into()),
            name: Some("^First name$".into()),
            ..crate::bot::Selector::default()
        });
        let variant = vec![click];
        let on = |role: &str, name: &str| {
            let mut e = ev(EventKind::Click, "form");
            e.element = Some(uilog::Element {
                role: Some(role.into()),
                name: Some(name.into()),
                ..uilog::Element::default()
            });
            e
        };
        assert!(compare(&variant, &[on("entry", "First name")]).matched);
        let c = compare(&variant, &[on("entry", "Last name")]);
        assert!(!c.matched, "another element is another action");
        let d = c.divergence.unwrap();
        assert!(
            d.got.as_deref().unwrap().contains("Last name")
                && d.expected.as_deref().unwrap().contains("First name"),
            "{d:?}"
        );
        let bare = ev(EventKind::Click, "form");
        let c = compare(&variant, &[bare]);
        assert!(!c.matched, "a click on no element proves nothing");
        assert!(c.divergence.unwrap().got.unwrap().contains("no element"));
    }

    #[test]
    fn file_postconditions_fill_parameters_and_compare_content() {
        let dir = tempfile::tempdir().unwrap();
        let mut bot = crate::bot::tests::small_bot();
        bot.postconditions = vec![PostCondition::File {
            path: format!("{}/out-{{{{ value }}}}.txt", dir.path().display()),
            content: Some("{{ value }}".into()),
            timeout_ms: 100,
        }];
        let mut p = Params::new();
        p.insert("value".into(), "42".into());
        let mut no_windows = |_: &WindowMatch| false;
        let r = check_postconditions(&bot, &p, &mut no_windows);
        assert!(!r[0].ok && r[0].message.contains("out-42.txt"), "{r:?}");
        std::fs::write(dir.path().join("out-42.txt"), "41\n").unwrap();
        let r = check_postconditions(&bot, &p, &mut no_windows);
        assert!(
            !r[0].ok && r[0].message.contains("expected \"42\""),
            "{r:?}"
        );
        std::fs::write(dir.path().join("out-42.txt"), "42\n").unwrap();
        assert!(check_postconditions(&bot, &p, &mut no_windows)[0].ok);
    }
}
