//! Replaying a bot on an X11 desktop: enigo presses and clicks, x11rb says which window has focus.
//!
//! Before every step the window the step expects must have focus (`_NET_ACTIVE_WINDOW`, its
//! `WM_CLASS` and title), waiting up to the step's timeout; `focus_window` asks the window manager
//! to activate the window first. On a mismatch or a timeout the run stops at once, every key and
//! button the bot holds is released, and the failure names the step and the window that had focus
//! instead. Nothing is typed or clicked before the check of its step passed.
//!
//! After each input step the replay waits until the X server has delivered the injected events,
//! and steps start at least `pace_ms` apart, so that neither the apps nor a recorder watching the
//! replay see a focus switch overtake the keys before it. Clicks go to the step's window-relative
//! position: X11 exposes no accessibility tree, so a step's `element` documents the target but
//! cannot locate it.

use std::time::{Duration, Instant};

use enigo::{Button, Coordinate, Direction, Enigo, Key, Keyboard, Mouse, Settings};
use serde::Serialize;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ClientMessageEvent, ConnectionExt as _, EventMask, Window,
};
use x11rb::rust_connection::RustConnection;

use crate::bot::{fill, Action, Bot, MouseButton, Params, Step, WindowMatch};
use crate::error::{Error, Result};
use crate::keys::{self, Combo, KeyName, Named};

/// A window as the replay sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowInfo {
    pub id: u32,
    /// WM_CLASS instance and class.
    pub instance: String,
    pub class: String,
    pub title: String,
}

impl std::fmt::Display for WindowInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}", self.instance, self.title)
    }
}

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepFailure {
    /// 1-based.
    pub step: usize,
    pub action: &'static str,
    pub message: String,
    /// The window that had focus when the step failed.
    pub focused: Option<WindowInfo>,
}

impl std::fmt::Display for StepFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "step {} ({}): {}; focused: ",
            self.step, self.action, self.message
        )?;
        match &self.focused {
            Some(w) => write!(f, "{w}"),
            None => write!(f, "no window"),
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunOutcome {
    /// The parameter row (0-based).
    pub row: usize,
    pub params: Params,
    pub steps_done: usize,
    pub failure: Option<StepFailure>,
    /// UTC microseconds, to find the run in a recorded trace.
    pub start_ts: uilog::Micros,
    pub end_ts: uilog::Micros,
    /// Per step done: its own time, beyond its declared wait and the pace, in milliseconds.
    pub step_ms: Vec<f64>,
}

#[derive(Debug, Clone, Copy)]
pub struct ReplayOptions {
    /// Declared waits and the pace are divided by this.
    pub speed: f64,
    /// The least time from the start of one step to the start of the next, in milliseconds. Apps
    /// and the recorder that watches a replay read the desktop's state (pointer, focus) as events
    /// arrive; a bot much faster than a person outruns them.
    pub pace_ms: u64,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            speed: 1.0,
            pace_ms: crate::DEFAULT_PACE_MS,
        }
    }
}

struct Atoms {
    net_active_window: Atom,
    net_client_list: Atom,
    net_wm_name: Atom,
    utf8_string: Atom,
}

/// The delay the X server puts before each injected key or button event, in milliseconds (XTEST's
/// `time`; enigo's default is 12). Short enough for a bot, long enough for apps that read their
/// input in bursts.
pub const INPUT_DELAY_MS: u32 = 3;

/// The X display a replay drives.
pub struct Desktop {
    conn: RustConnection,
    root: Window,
    atoms: Atoms,
    enigo: Enigo,
    held_keys: Vec<Key>,
    held_buttons: Vec<Button>,
}

fn x_err(e: impl std::fmt::Display) -> Error {
    Error::Desktop(e.to_string())
}

pub fn now_micros() -> uilog::Micros {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

impl Desktop {
    /// Connects to `display` (`None`: `$DISPLAY`).
    pub fn connect(display: Option<&str>) -> Result<Desktop> {
        let (conn, screen) = x11rb::connect(display).map_err(|e| {
            Error::Desktop(format!(
                "cannot connect to the X display {}: {e}",
                display.map_or_else(
                    || std::env::var("DISPLAY").unwrap_or_default(),
                    str::to_owned
                )
            ))
        })?;
        let root = conn.setup().roots[screen].root;
        let intern = |name: &[u8]| -> Result<Atom> {
            Ok(conn
                .intern_atom(false, name)
                .map_err(x_err)?
                .reply()
                .map_err(x_err)?
                .atom)
        };
        let atoms = Atoms {
            net_active_window: intern(b"_NET_ACTIVE_WINDOW")?,
            net_client_list: intern(b"_NET_CLIENT_LIST")?,
            net_wm_name: intern(b"_NET_WM_NAME")?,
            utf8_string: intern(b"UTF8_STRING")?,
        };
        let enigo = Enigo::new(&Settings {
            x11_display: display.map(str::to_owned),
            release_keys_when_dropped: true,
            linux_delay: INPUT_DELAY_MS,
            ..Settings::default()
        })
        .map_err(|e| Error::Desktop(format!("cannot start input simulation (enigo): {e}")))?;
        Ok(Desktop {
            conn,
            root,
            atoms,
            enigo,
            held_keys: Vec::new(),
            held_buttons: Vec::new(),
        })
    }

    fn property(&self, window: Window, property: Atom, kind: Atom) -> Option<Vec<u8>> {
        let reply = self
            .conn
            .get_property(false, window, property, kind, 0, 4096)
            .ok()?
            .reply()
            .ok()?;
        (reply.format != 0).then_some(reply.value)
    }

    fn windows_property(&self, window: Window, property: Atom) -> Vec<Window> {
        self.property(window, property, AtomEnum::WINDOW.into())
            .map(|v| {
                v.chunks_exact(4)
                    .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// What the window manager calls the window: WM_CLASS and the title (`_NET_WM_NAME`, else
    /// `WM_NAME`: xterm sets only the latter).
    pub fn info(&self, id: Window) -> WindowInfo {
        let class = self
            .property(id, AtomEnum::WM_CLASS.into(), AtomEnum::STRING.into())
            .unwrap_or_default();
        let mut parts = class
            .split(|&b| b == 0)
            .map(|p| String::from_utf8_lossy(p).into_owned());
        let instance = parts.next().unwrap_or_default();
        let class = parts.next().unwrap_or_default();
        let title = self
            .property(id, self.atoms.net_wm_name, self.atoms.utf8_string)
            .filter(|t| !t.is_empty())
            .or_else(|| self.property(id, AtomEnum::WM_NAME.into(), AtomEnum::ANY.into()))
            .map(|t| String::from_utf8_lossy(&t).into_owned())
            .unwrap_or_default();
        WindowInfo {
            id,
            instance,
            class,
            title,
        }
    }

    /// The window that has focus, per the window manager.
    pub fn active(&self) -> Option<WindowInfo> {
        let id = *self
            .windows_property(self.root, self.atoms.net_active_window)
            .first()?;
        (id != 0).then(|| self.info(id))
    }

    /// The managed windows that match.
    pub fn find(&self, w: &WindowMatch, re: &regex::Regex) -> Vec<WindowInfo> {
        self.windows_property(self.root, self.atoms.net_client_list)
            .into_iter()
            .map(|id| self.info(id))
            .filter(|i| w.matches(re, &i.instance, &i.class, &i.title))
            .collect()
    }

    fn activate(&self, id: Window) -> Result<()> {
        // Source indication 2 (a pager): window managers honour it without focus-stealing checks.
        let msg = ClientMessageEvent::new(32, id, self.atoms.net_active_window, [2, 0, 0, 0, 0]);
        self.conn
            .send_event(
                false,
                self.root,
                EventMask::SUBSTRUCTURE_REDIRECT | EventMask::SUBSTRUCTURE_NOTIFY,
                msg,
            )
            .map_err(x_err)?;
        self.conn.flush().map_err(x_err)
    }

    fn origin(&self, id: Window) -> Result<(i32, i32)> {
        let r = self
            .conn
            .translate_coordinates(id, self.root, 0, 0)
            .map_err(x_err)?
            .reply()
            .map_err(x_err)?;
        Ok((r.dst_x.into(), r.dst_y.into()))
    }

    fn press(&mut self, key: Key) -> Result<()> {
        self.enigo.key(key, Direction::Press).map_err(x_err)?;
        self.held_keys.push(key);
        Ok(())
    }

    fn combo(&mut self, c: Combo) -> Result<()> {
        let mods = [
            (c.mods.ctrl, Key::Control),
            (c.mods.alt, Key::Alt),
            (c.mods.shift, Key::Shift),
            (c.mods.sup, Key::Meta),
        ];
        for (on, k) in mods {
            if on {
                self.press(k)?;
            }
        }
        let result = self
            .enigo
            .key(enigo_key(c.key)?, Direction::Click)
            .map_err(x_err);
        self.release_all();
        result
    }

    fn click(&mut self, x: i32, y: i32, button: MouseButton, clicks: u8) -> Result<()> {
        self.enigo
            .move_mouse(x, y, Coordinate::Abs)
            .map_err(x_err)?;
        let b = match button {
            MouseButton::Left => Button::Left,
            MouseButton::Right => Button::Right,
            MouseButton::Middle => Button::Middle,
        };
        for _ in 0..clicks.max(1) {
            self.enigo.button(b, Direction::Press).map_err(x_err)?;
            self.held_buttons.push(b);
            self.enigo.button(b, Direction::Release).map_err(x_err)?;
            self.held_buttons.pop();
        }
        Ok(())
    }

    /// Waits until the X server has delivered every event injected so far. XTEST delays each event
    /// on the server, which holds the injecting client meanwhile, so a round trip on enigo's
    /// connection (the pointer query) returns only after the last one; without it, a focus switch
    /// sent on another connection could overtake keys still waiting there.
    fn sync(&self) -> Result<()> {
        self.enigo.location().map(|_| ()).map_err(x_err)
    }

    /// Releases every key and button a step may still hold.
    pub fn release_all(&mut self) {
        while let Some(k) = self.held_keys.pop() {
            let _ = self.enigo.key(k, Direction::Release);
        }
        while let Some(b) = self.held_buttons.pop() {
            let _ = self.enigo.button(b, Direction::Release);
        }
        let _ = self.conn.flush();
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        self.release_all();
    }
}

fn enigo_key(k: KeyName) -> Result<Key> {
    Ok(match k {
        KeyName::Char(c) => Key::Unicode(c),
        KeyName::Named(n) => match n {
            Named::Enter => Key::Return,
            Named::Tab => Key::Tab,
            Named::Backspace => Key::Backspace,
            Named::Delete => Key::Delete,
            Named::Escape => Key::Escape,
            Named::Space => Key::Space,
            Named::Up => Key::UpArrow,
            Named::Down => Key::DownArrow,
            Named::Left => Key::LeftArrow,
            Named::Right => Key::RightArrow,
            Named::Home => Key::Home,
            Named::End => Key::End,
            Named::PageUp => Key::PageUp,
            Named::PageDown => Key::PageDown,
            Named::Insert => Key::Insert,
            Named::F(n) => {
                const F: [Key; 12] = [
                    Key::F1,
                    Key::F2,
                    Key::F3,
                    Key::F4,
                    Key::F5,
                    Key::F6,
                    Key::F7,
                    Key::F8,
                    Key::F9,
                    Key::F10,
                    Key::F11,
                    Key::F12,
                ];
                *F.get(usize::from(n).wrapping_sub(1))
                    .ok_or_else(|| Error::Desktop(format!("key f{n} cannot be replayed")))?
            }
        },
    })
}

/// A step with its parameters filled in, ready to run or to print.
#[derive(Debug, Clone, PartialEq)]
pub struct Filled {
    pub step: Step,
    pub text: Option<String>,
}

/// Fills every step of `bot` with `params`; a missing parameter fails before anything runs.
pub fn fill_steps(bot: &Bot, params: &Params) -> Result<Vec<Filled>> {
    bot.steps
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let text = match &s.text {
                Some(t) => Some(fill(t, params).map_err(|m| Error::Invalid {
                    bot: bot.name.clone(),
                    location: format!("steps[{k}] ({}).text", s.action.as_str()),
                    message: m,
                })?),
                None => None,
            };
            Ok(Filled {
                step: s.clone(),
                text,
            })
        })
        .collect()
}

/// One line per step, as `--dry-run` prints them.
pub fn describe(filled: &[Filled]) -> Vec<String> {
    filled
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let s = &f.step;
            let mut line = format!(
                "{:>3}. {:<15} {} /{}/",
                k + 1,
                s.action.as_str(),
                s.window.app,
                s.window.title
            );
            match s.action {
                Action::Click => {
                    line.push_str(&format!(
                        " at ({}, {})",
                        s.x.unwrap_or_default(),
                        s.y.unwrap_or_default()
                    ));
                    if let Some(b) = s.button.filter(|b| *b != MouseButton::Left) {
                        line.push_str(&format!(" {b:?} button").to_lowercase());
                    }
                    if let Some(n) = s.clicks.filter(|n| *n > 1) {
                        line.push_str(&format!(" x{n}"));
                    }
                }
                Action::Type => line.push_str(&format!(" {:?}", f.text.as_deref().unwrap_or(""))),
                _ => {}
            }
            if let Some(k) = s.effective_keys() {
                line.push_str(&format!(" keys {k}"));
            }
            if s.wait_ms > 0 {
                line.push_str(&format!(" after {} ms", s.wait_ms));
            }
            line.push_str(&format!(" (timeout {} ms)", s.timeout_ms));
            line
        })
        .collect()
}

/// Polls until the active window matches or the timeout passes.
fn wait_active(
    desk: &Desktop,
    w: &WindowMatch,
    re: &regex::Regex,
    timeout: Duration,
) -> std::result::Result<WindowInfo, Option<WindowInfo>> {
    let start = Instant::now();
    loop {
        let active = desk.active();
        if let Some(a) = &active {
            if w.matches(re, &a.instance, &a.class, &a.title) {
                return Ok(a.clone());
            }
        }
        if start.elapsed() >= timeout {
            return Err(active);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `bot` once with `params`.
pub fn run(
    desk: &mut Desktop,
    bot: &Bot,
    row: usize,
    params: &Params,
    opts: &ReplayOptions,
) -> Result<RunOutcome> {
    let filled = fill_steps(bot, params)?;
    let mut out = RunOutcome {
        row,
        params: params.clone(),
        steps_done: 0,
        failure: None,
        start_ts: now_micros(),
        end_ts: 0,
        step_ms: Vec::with_capacity(filled.len()),
    };
    let speed = opts.speed.max(1e-3);
    let pace = Duration::from_secs_f64(opts.pace_ms as f64 / 1000.0 / speed);
    for (k, f) in filled.iter().enumerate() {
        let wait = Duration::from_secs_f64(f.step.wait_ms as f64 / 1000.0 / speed);
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        let t = Instant::now();
        if let Err(failure) = run_step(desk, k, f) {
            desk.release_all();
            out.failure = Some(*failure);
            break;
        }
        // The step's own time (window checks, input and its delivery): what the replay costs
        // beyond the bot's declared waits and the pace.
        let active = t.elapsed();
        out.step_ms.push(active.as_secs_f64() * 1e3);
        out.steps_done += 1;
        if active < pace && k + 1 < filled.len() {
            std::thread::sleep(pace - active);
        }
    }
    desk.release_all();
    out.end_ts = now_micros();
    Ok(out)
}

fn run_step(desk: &mut Desktop, k: usize, f: &Filled) -> std::result::Result<(), Box<StepFailure>> {
    let s = &f.step;
    let fail = |desk: &Desktop, message: String| {
        Box::new(StepFailure {
            step: k + 1,
            action: s.action.as_str(),
            message,
            focused: desk.active(),
        })
    };
    let re = s
        .window
        .regex()
        .map_err(|e| fail(desk, format!("title pattern: {e}")))?;
    let timeout = Duration::from_millis(s.timeout_ms);
    // One timeout for the whole step: finding the window and its taking focus.
    let deadline = Instant::now() + timeout;
    let want = format!(
        "{} window with a title matching /{}/",
        s.window.app, s.window.title
    );
    if s.action == Action::FocusWindow {
        let start = Instant::now();
        let target = loop {
            if let Some(w) = desk.find(&s.window, &re).into_iter().next() {
                break w;
            }
            if start.elapsed() >= timeout {
                return Err(fail(desk, format!("no {want} within {} ms", s.timeout_ms)));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let active_ok = desk
            .active()
            .is_some_and(|a| s.window.matches(&re, &a.instance, &a.class, &a.title));
        if !active_ok {
            desk.activate(target.id)
                .map_err(|e| fail(desk, e.to_string()))?;
        }
    }
    let active = wait_active(
        desk,
        &s.window,
        &re,
        deadline.saturating_duration_since(Instant::now()),
    )
    .map_err(|focused| StepFailure {
        step: k + 1,
        action: s.action.as_str(),
        message: format!(
            "expected the {want} to have focus within {} ms",
            s.timeout_ms
        ),
        focused,
    })?;
    let io = |desk: &Desktop, e: Error| fail(desk, e.to_string());
    let result = match s.action {
        Action::FocusWindow | Action::WaitForWindow | Action::AssertWindow => Ok(()),
        Action::Click => {
            let (ox, oy) = desk.origin(active.id).map_err(|e| io(desk, e))?;
            let (x, y) = (ox + s.x.unwrap_or_default(), oy + s.y.unwrap_or_default());
            desk.click(x, y, s.button.unwrap_or_default(), s.clicks.unwrap_or(1))
                .map_err(|e| io(desk, e))
        }
        Action::Type => {
            let text = f.text.as_deref().unwrap_or_default();
            desk.enigo.text(text).map_err(|e| io(desk, x_err(e)))
        }
        Action::Key | Action::Copy | Action::Paste => {
            let keys = s.effective_keys().unwrap_or_default();
            let combo = keys::parse(keys).map_err(|m| fail(desk, m))?;
            desk.combo(combo).map_err(|e| io(desk, e))
        }
    };
    result?;
    desk.sync().map_err(|e| io(desk, e))
}

/// Runs `bot` once per row of `rows`, checks each run's post-conditions, and, when a recorder is
/// given, compares each run's recorded trace with the routine. Stops after the first run that
/// fails a step: the desktop is then in a state no later row expects.
pub fn replay_all(
    desk: &mut Desktop,
    bot: &Bot,
    rows: &[Params],
    opts: &ReplayOptions,
    recorder: Option<crate::validate::TraceRecorder>,
) -> Result<crate::validate::Report> {
    use crate::validate::{check_postconditions, compare, split_trace, Report, RunReport};

    for row in rows {
        fill_steps(bot, row)?;
    }
    let mut recorder = recorder;
    let mut runs: Vec<(RunOutcome, Vec<crate::validate::PostConditionCheck>)> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let outcome = run(desk, bot, i, row, opts)?;
        let post = if outcome.failure.is_none() {
            let d = &*desk;
            check_postconditions(bot, row, &mut |w| {
                w.regex().is_ok_and(|re| !d.find(w, &re).is_empty())
            })
        } else {
            Vec::new()
        };
        let stop = outcome.failure.is_some();
        runs.push((outcome, post));
        if stop {
            break;
        }
    }
    let traces = match recorder.as_mut() {
        Some(r) => {
            let events = r.stop()?;
            let starts: Vec<uilog::Micros> = runs.iter().map(|(o, _)| o.start_ts).collect();
            Some(split_trace(&events, &starts))
        }
        None => None,
    };
    let reports: Vec<RunReport> = runs
        .into_iter()
        .enumerate()
        .map(|(i, (o, post))| {
            let trace = traces.as_ref().map(|t| compare(&bot.source.variant, &t[i]));
            let passed = o.failure.is_none()
                && trace.as_ref().is_none_or(|t| t.matched)
                && post.iter().all(|p| p.ok);
            RunReport {
                row: o.row,
                params: o.params,
                steps: bot.steps.len(),
                steps_done: o.steps_done,
                failure: o.failure.map(|f| f.to_string()),
                trace,
                postconditions: post,
                step_ms: o.step_ms,
                passed,
            }
        })
        .collect();
    let passed = reports.len() == rows.len() && reports.iter().all(|r| r.passed);
    Ok(Report {
        bot: bot.name.clone(),
        routine: bot.source.routine,
        runs: reports,
        passed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_run_lines_fill_parameters_and_a_missing_one_names_the_step() {
        let bot = crate::bot::tests::small_bot();
        let mut row = Params::new();
        row.insert("value".into(), "7".into());
        let lines = describe(&fill_steps(&bot, &row).unwrap());
        assert_eq!(lines.len(), 3);
        assert!(
            lines[0].contains("focus_window") && lines[0].contains("/^target$/"),
            "{lines:?}"
        );
        assert!(lines[1].contains("\"echo 7 > out.txt\""), "{lines:?}");
        assert!(lines[2].contains("keys enter"), "{lines:?}");
        let e = fill_steps(&bot, &Params::new()).unwrap_err().to_string();
        assert!(
            e.contains("steps[1] (type).text") && e.contains("\"value\""),
            "{e}"
        );
    }
}
