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
//! replay see a focus switch overtake the keys before it.
//!
//! A click or type step with a selector finds its element through the accessibility tree
//! (AT-SPI, [`desktop::A11y`]) in the window that has focus, and acts at the centre of the
//! element's current extents, so that a moved, resized or rearranged window does not matter. No
//! match, or more than one, stops the run before the step's input; before the first input of a
//! window, the selectors of all the steps that follow in that window are resolved, so that a bot
//! whose selector names nothing types nothing at all. Each step is then proven: after a click
//! the element under the pointer or the focused one must be the element found, and a typed value
//! must read back from it (AT-SPI text) before the next step starts. A click without a selector
//! goes to the step's window-relative position only where the bot says `fallback: position`;
//! such a step, and text typed without a selector, is reported as unverified.
//!
//! A click whose selector names nothing, or that has none (an app without an accessibility tree),
//! is found on the screen by its `target` ([`crate::vision`]): its text, read by OCR in a capture
//! of the window, else (a step without text) its snapshot by template matching; only a unique
//! match counts, and a step whose text is gone halts. These targets, too, are all looked for before
//! the window's first input. Each step's check says how its target was found (`found_by`).

use std::time::{Duration, Instant};

use enigo::{Button, Coordinate, Direction, Enigo, Key, Keyboard, Mouse, Settings};
use recorder::snapshot::Grey;
use serde::Serialize;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    ClientMessageEvent, ConnectionExt as _, EventMask, GrabMode, GrabStatus, ImageFormat,
    ImageOrder, Window,
};

use desktop::x11::XConn;
use desktop::{A11y, Found};

use crate::bot::{
    describe_element, fill, Action, Bot, Fallback, Matcher, MouseButton, Params, Selector, Step,
    Target, WindowMatch,
};
use crate::error::{Error, Result};
use crate::keys::{self, Combo, KeyName, Named};
use crate::validate::StepCheck;

/// A window as the replay sees it: the recorder's, read the same way ([`desktop::x11`]).
pub use desktop::x11::WindowInfo;

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
    /// Per step run, the failed one included: what it acted on and how that was proven.
    pub checks: Vec<StepCheck>,
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

/// The delay the X server puts before each injected key or button event, in milliseconds (XTEST's
/// `time`; enigo's default is 12). Short enough for a bot, long enough for apps that read their
/// input in bursts.
pub const INPUT_DELAY_MS: u32 = 3;

/// The X display a replay drives.
pub struct Desktop {
    x: XConn,
    enigo: Enigo,
    held_keys: Vec<Key>,
    held_buttons: Vec<Button>,
    /// The accessibility bus, connected at the first step with a selector.
    a11y: Option<A11y>,
    /// Characters whose keycode this replay has mapped already (see [`Desktop::type_text`]).
    mapped: std::collections::HashSet<char>,
}

/// Whether `c` is on the first level of the usual Latin keymaps (a key without Shift), where
/// enigo finds it without changing the keymap.
fn first_level(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || " `-=[]\\;',./".contains(c)
}

/// How long the apps get to read a changed keymap before keys mapped in it are pressed.
const KEYMAP_SETTLE: Duration = Duration::from_millis(60);

fn x_err(e: impl std::fmt::Display) -> Error {
    Error::Desktop(e.to_string())
}

/// desktop's X11 errors carry x11rb's message alone, which replay words as before.
fn x11_message(e: desktop::Error) -> String {
    match e {
        desktop::Error::X11(m) => m,
        other => other.to_string(),
    }
}

fn desktop_err(e: desktop::Error) -> Error {
    Error::Desktop(x11_message(e))
}

pub fn now_micros() -> uilog::Micros {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

impl Desktop {
    /// Connects to `display` (`None`: `$DISPLAY`).
    pub fn connect(display: Option<&str>) -> Result<Desktop> {
        let x = XConn::connect(display).map_err(|e| {
            let e = x11_message(e);
            Error::Desktop(format!(
                "cannot connect to the X display {}: {e}",
                display.map_or_else(
                    || std::env::var("DISPLAY").unwrap_or_default(),
                    str::to_owned
                )
            ))
        })?;
        let enigo = Enigo::new(&Settings {
            x11_display: display.map(str::to_owned),
            release_keys_when_dropped: true,
            linux_delay: INPUT_DELAY_MS,
            ..Settings::default()
        })
        .map_err(|e| Error::Desktop(format!("cannot start input simulation (enigo): {e}")))?;
        Ok(Desktop {
            x,
            enigo,
            held_keys: Vec::new(),
            held_buttons: Vec::new(),
            a11y: None,
            mapped: std::collections::HashSet::new(),
        })
    }

    /// The accessibility bus, connecting on first use.
    pub fn a11y(&mut self) -> std::result::Result<&A11y, String> {
        if self.a11y.is_none() {
            let a = A11y::connect().map_err(|e| {
                format!(
                    "steps with a selector need the accessibility bus (AT-SPI), which is not reachable: {e}"
                )
            })?;
            self.a11y = Some(a);
        }
        Ok(self.a11y.as_ref().expect("connected above"))
    }

    /// What the window manager calls the window: WM_CLASS, the title and the process.
    pub fn info(&self, id: Window) -> WindowInfo {
        self.x.window_info(id)
    }

    /// The window that has focus, per the window manager.
    pub fn active(&self) -> Option<WindowInfo> {
        let id = self.x.active_window().ok()??;
        Some(self.info(id))
    }

    /// The managed windows that match.
    pub fn find(&self, w: &WindowMatch, re: &regex::Regex) -> Vec<WindowInfo> {
        self.x
            .clients()
            .into_iter()
            .map(|id| self.info(id))
            .filter(|i| w.matches(re, &i.instance, &i.class, &i.title))
            .collect()
    }

    fn activate(&self, id: Window) -> Result<()> {
        // Source indication 2 (a pager): window managers honour it without focus-stealing checks.
        let msg =
            ClientMessageEvent::new(32, id, self.x.atoms().net_active_window, [2, 0, 0, 0, 0]);
        self.x
            .conn()
            .send_event(
                false,
                self.x.root(),
                EventMask::SUBSTRUCTURE_REDIRECT | EventMask::SUBSTRUCTURE_NOTIFY,
                msg,
            )
            .map_err(x_err)?;
        self.x.conn().flush().map_err(x_err)
    }

    fn origin(&self, id: Window) -> Result<(i32, i32)> {
        self.x.origin(id).map_err(desktop_err)
    }

    /// What `id` shows now, as grey with 16 levels (the way snapshots are stored, so that a step's
    /// snapshot and the window compare level for level), and the screen position of its top-left
    /// pixel. Read from the root window: the step's window has focus, so it is on top.
    pub fn capture(&self, id: Window) -> Result<(Grey, i32, i32)> {
        let (width, height) = self.x.size(id).map_err(desktop_err)?;
        let (ox, oy) = self.origin(id)?;
        let screen = self.x.screen_size();
        let x0 = ox.max(0);
        let y0 = oy.max(0);
        let x1 = (ox + i32::from(width)).min(screen.0);
        let y1 = (oy + i32::from(height)).min(screen.1);
        if x1 <= x0 || y1 <= y0 {
            return Err(Error::Desktop(format!(
                "window {id:#x} is off the screen at ({ox}, {oy})"
            )));
        }
        let (w, h) = ((x1 - x0) as u16, (y1 - y0) as u16);
        let image = self
            .x
            .conn()
            .get_image(
                ImageFormat::Z_PIXMAP,
                self.x.root(),
                x0 as i16,
                y0 as i16,
                w,
                h,
                !0,
            )
            .map_err(x_err)?
            .reply()
            .map_err(x_err)?;
        let setup = self.x.conn().setup();
        let format = setup
            .pixmap_formats
            .iter()
            .find(|f| f.depth == image.depth)
            .ok_or_else(|| Error::Desktop(format!("no pixmap format for depth {}", image.depth)))?;
        if format.bits_per_pixel != 32 || setup.image_byte_order != ImageOrder::LSB_FIRST {
            return Err(Error::Desktop(format!(
                "screen images of {} bits per pixel in byte order {:?} are not supported",
                format.bits_per_pixel, setup.image_byte_order
            )));
        }
        let pad = (usize::from(format.scanline_pad) / 8).max(1);
        let stride = (usize::from(w) * 4).div_ceil(pad) * pad;
        let mut grey = Grey::from_bgrx(u32::from(w), u32::from(h), stride, &image.data)
            .map_err(|e| Error::Desktop(e.to_string()))?;
        // 16 levels as a 4-bit PNG decodes them: 0, 17, …, 255.
        for p in &mut grey.pixels {
            *p = (*p >> 4) * 17;
        }
        Ok((grey, x0, y0))
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
        self.sync()?;
        self.wait_pointer_free();
        Ok(())
    }

    /// Waits (up to a second) until no client holds the pointer grabbed. A window manager that
    /// focuses on click grabs the button, freezing the press until it lets the press through to
    /// the app; keys are not frozen, so keys typed meanwhile reach the app before the click (seen
    /// with openbox and a Tk form: half a name in the field before). Our own grab succeeds only
    /// once the press went on; it is released at once.
    fn wait_pointer_free(&self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(1) {
            let grabbed = self
                .x
                .conn()
                .grab_pointer(
                    false,
                    self.x.root(),
                    EventMask::NO_EVENT,
                    GrabMode::ASYNC,
                    GrabMode::ASYNC,
                    x11rb::NONE,
                    x11rb::NONE,
                    x11rb::CURRENT_TIME,
                )
                .ok()
                .and_then(|c| c.reply().ok());
            match grabbed {
                Some(r) if r.status == GrabStatus::SUCCESS => {
                    let _ = self.x.conn().ungrab_pointer(x11rb::CURRENT_TIME);
                    let _ = self.x.conn().flush();
                    return;
                }
                Some(_) => std::thread::sleep(Duration::from_millis(5)),
                None => return,
            }
        }
    }

    /// Waits until the X server has delivered every event injected so far. XTEST delays each event
    /// on the server, which holds the injecting client meanwhile, so a round trip on enigo's
    /// connection (the pointer query) returns only after the last one; without it, a focus switch
    /// sent on another connection could overtake keys still waiting there.
    fn sync(&self) -> Result<()> {
        self.enigo.location().map(|_| ()).map_err(x_err)
    }

    /// Types `text`. enigo maps a character that is not on the keymap's first level (a capital,
    /// `@`) to a spare keycode just before pressing it, and an app that has not read the new
    /// mapping yet (X's MappingNotify) takes the key for nothing: a replay typed "Dahl" into
    /// Chromium and got "ahl". So each such character new to this replay is mapped first, by
    /// the release of a key that is not down (which the X server drops), and the apps get a
    /// moment to read the keymap before anything is typed. The first use of a character costs
    /// that moment, and the app's re-reading of its keymap, once per replay.
    fn type_text(&mut self, text: &str) -> Result<()> {
        let mut mapped_now = false;
        for c in text.chars().filter(|&c| !c.is_control() && !first_level(c)) {
            if self.mapped.insert(c) {
                self.enigo
                    .key(Key::Unicode(c), Direction::Release)
                    .map_err(x_err)?;
                mapped_now = true;
            }
        }
        if mapped_now {
            self.sync()?;
            std::thread::sleep(KEYMAP_SETTLE);
        }
        self.enigo.text(text).map_err(x_err)?;
        self.sync()
    }

    /// Releases every key and button a step may still hold.
    pub fn release_all(&mut self) {
        while let Some(k) = self.held_keys.pop() {
            let _ = self.enigo.key(k, Direction::Release);
        }
        while let Some(b) = self.held_buttons.pop() {
            let _ = self.enigo.button(b, Direction::Release);
        }
        let _ = self.x.conn().flush();
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
                    match (&s.selector, &s.target) {
                        (Some(sel), Some(t)) => line.push_str(&format!(" on {sel}, else {t}")),
                        (Some(sel), None) => line.push_str(&format!(" on {sel}")),
                        (None, Some(t)) => line.push_str(&format!(" on {t}")),
                        (None, None) => line.push_str(&format!(
                            " at ({}, {}) by position",
                            s.x.unwrap_or_default(),
                            s.y.unwrap_or_default()
                        )),
                    }
                    if let Some(b) = s.button.filter(|b| *b != MouseButton::Left) {
                        line.push_str(&format!(" {b:?} button").to_lowercase());
                    }
                    if let Some(n) = s.clicks.filter(|n| *n > 1) {
                        line.push_str(&format!(" x{n}"));
                    }
                }
                Action::Type => {
                    line.push_str(&format!(" {:?}", f.text.as_deref().unwrap_or("")));
                    match &s.selector {
                        Some(sel) => line.push_str(&format!(" into {sel}")),
                        None => line.push_str(" into the focused element"),
                    }
                }
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

/// What a dry run says about `row` before its steps: each required input it leaves empty.
pub fn required_notes(bot: &Bot, row: &Params) -> Vec<String> {
    bot.missing_required(row)
        .into_iter()
        .map(|n| {
            format!(
                "input {n:?} is required: the log kept no sample of it (the policy masked or hashed it); \
                 give its values with --params FILE.csv, a real run refuses to start without them"
            )
        })
        .collect()
}

/// How long one accessibility lookup may take at most.
pub const LOOKUP_BUDGET: Duration = Duration::from_millis(2_000);
/// How long a step waits for its click to land or its text to read back.
pub const PROOF_TIMEOUT: Duration = Duration::from_millis(1_500);

/// The centre of an element on screen.
pub fn centre(f: &Found) -> (i32, i32) {
    let r = &f.extents;
    (r.x + r.width / 2, r.y + r.height / 2)
}

/// An element found, as reports show it: `entry "First name" at … @(590,756 168x34)`.
pub fn describe_found(f: &Found) -> String {
    let r = &f.extents;
    format!(
        "{} @({},{} {}x{})",
        describe_element(&f.element),
        r.x,
        r.y,
        r.width,
        r.height
    )
}

/// Whether two lookups returned the same element: the same path from the window down where both
/// know one (indices included: it is the same tree, a moment apart), else the same role, name and id.
pub fn same_element(a: &uilog::Element, b: &uilog::Element) -> bool {
    match (&a.path, &b.path) {
        (Some(x), Some(y)) => x == y && a.role == b.role,
        _ => a.role == b.role && a.name == b.name && a.id == b.id,
    }
}

/// Whether a typed value reads back: the element holds exactly the text, or what it held before
/// followed by the text. A password field shows bullets, so there the length is what is compared.
pub fn reads_back(before: &str, typed: &str, after: &str, password: bool) -> bool {
    if password {
        let n = after.chars().count();
        return n == typed.chars().count() || n == before.chars().count() + typed.chars().count();
    }
    after == typed
        || (after.len() == before.len() + typed.len() && after == format!("{before}{typed}"))
}

/// The selector's one element in the window, polling until `deadline` while there are none or
/// several (a page still loading); the error names the selector and what was found.
fn resolve(
    a11y: &A11y,
    window: &WindowInfo,
    sel: &Selector,
    m: &Matcher,
    deadline: Instant,
) -> std::result::Result<Found, String> {
    let query = desktop::WindowQuery {
        pid: window.pid,
        title: Some(window.title.clone()),
    };
    // The last search that finished: a search cut short by its budget (a busy app, or the little
    // time left before the deadline) is no answer, so it neither fails the step while time is left
    // nor hides what the finished searches found.
    let mut last: Option<Vec<Found>> = None;
    loop {
        // Until one search has finished, each gets the whole budget, so that the step ends with an
        // answer even when little time is left before the deadline.
        let budget = match last {
            None => LOOKUP_BUDGET,
            Some(_) => deadline
                .saturating_duration_since(Instant::now())
                .clamp(Duration::from_millis(200), LOOKUP_BUDGET),
        };
        match a11y.find(&query, &|e| m.matches(e), budget) {
            Ok(mut found) if found.len() == 1 => return Ok(found.remove(0)),
            Ok(found) => last = Some(found),
            Err(desktop::Error::Timeout { .. }) if last.is_some() || Instant::now() < deadline => {}
            Err(e) => return Err(format!("selector {sel}: accessibility lookup failed: {e}")),
        }
        if Instant::now() >= deadline {
            let found = last.unwrap_or_default();
            return Err(match found.len() {
                0 => format!("selector {sel} matches no element in {window}"),
                n => format!(
                    "selector {sel} matches {n} elements in {window}, so the target is ambiguous: {}",
                    found
                        .iter()
                        .take(3)
                        .map(describe_found)
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Where a step's target was seen on the screen, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    /// The screen point to act on.
    pub x: i32,
    pub y: i32,
    /// `text` or `image`.
    pub by: &'static str,
    /// For the report: what matched, where and how well.
    pub detail: String,
}

/// The outcome of one look for one target in one window image.
fn look_once(
    image: &Grey,
    origin: (i32, i32),
    words: Option<&[recorder::snapshot_ocr::Word]>,
    t: &Target,
) -> std::result::Result<Sighting, String> {
    use crate::vision::{find_text, TextSearch};
    let at = |x: i32, y: i32| (origin.0 + x, origin.1 + y);
    if let Some(text) = &t.text {
        let words = words.unwrap_or_default();
        return match find_text(words, text) {
            TextSearch::Unique(hit) => {
                let (cx, cy) = hit.centre();
                let (x, y) = at(cx + t.dx, cy + t.dy);
                let (tx, ty) = at(cx, cy);
                Ok(Sighting {
                    x,
                    y,
                    by: "text",
                    detail: format!(
                        "text {text:?} @({tx},{ty}), confidence {:.0}; clicked ({x}, {y})",
                        hit.confidence
                    ),
                })
            }
            TextSearch::Missing { read } => {
                let mut m = format!(
                    "text {text:?} is not in the window (OCR read: {})",
                    if read.is_empty() {
                        "nothing".to_owned()
                    } else {
                        read.join(" ")
                    }
                );
                if t.image.is_some() {
                    m.push_str(
                        "; its image is not tried: with the text that named the target gone, a \
                         look-alike is no proof",
                    );
                }
                Err(m)
            }
            TextSearch::Unsure(hit) => {
                let (x, y) = at(hit.x, hit.y);
                Err(format!(
                    "text {text:?} @({x},{y}) is read only with confidence {:.0} (at least {:.0} needed)",
                    hit.confidence,
                    crate::vision::TEXT_MIN_CONFIDENCE
                ))
            }
            TextSearch::Ambiguous(hits) => Err(format!(
                "text {text:?} is in the window {} times, so the target is ambiguous: {}",
                hits.len(),
                hits.iter()
                    .take(3)
                    .map(|h| {
                        let (x, y) = at(h.x, h.y);
                        format!("@({x},{y})")
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
    }
    let Some(uri) = &t.image else {
        return Err("the target has neither text nor image".into());
    };
    let needle = crate::vision::grey_of_data_uri(uri).map_err(|m| format!("target.image: {m}"))?;
    let seen = crate::vision::locate_image(image, &needle)?;
    let (x, y) = at(seen.x, seen.y);
    Ok(Sighting {
        x,
        y,
        by: "image",
        detail: format!(
            "image ({}) @({x},{y}) scores {:.3}, the best other place {:.3}",
            seen.part, seen.score, seen.second
        ),
    })
}

/// How far from the click before a typed text is read back, in pixels: the field clicked (a label
/// beside it makes sparse-text OCR skip the text inside the field's frame).
const READ_BACK_REACH: (i32, i32) = (120, 20);

/// Where OCR reads `text` (whole words, once) around `at` in the window, in single-line mode.
/// `None` when it does not: a proof missing, not a failure, since OCR misreads values it has
/// never seen far more often than labels.
fn read_back_at(
    desk: &Desktop,
    window: &WindowInfo,
    text: &str,
    at: (i32, i32),
) -> Option<(i32, i32)> {
    use crate::vision::{find_text, TextSearch};
    if crate::vision::text_words(text).is_empty() {
        return None;
    }
    // The app draws the last keys a moment after they arrive.
    std::thread::sleep(Duration::from_millis(50));
    let Ok((image, x0, y0)) = desk.capture(window.id) else {
        return None;
    };
    // Only around the click: OCR of a whole window skips text inside a field's frame.
    let (w, h) = (2 * READ_BACK_REACH.0 as u32, 2 * READ_BACK_REACH.1 as u32);
    let (left, top) = (
        (at.0 - x0 - READ_BACK_REACH.0).clamp(0, (image.width as i32 - w as i32).max(0)),
        (at.1 - y0 - READ_BACK_REACH.1).clamp(0, (image.height as i32 - h as i32).max(0)),
    );
    let row = crate::vision::crop(&image, left as u32, top as u32, w, h);
    let Ok(words) = crate::vision::read_line(&row) else {
        return None;
    };
    // The exact typed text is the evidence, however unsure OCR is of a word it never saw.
    match find_text(&words, text) {
        TextSearch::Unique(hit) | TextSearch::Unsure(hit) => {
            let (cx, cy) = hit.centre();
            Some((x0 + left + cx, y0 + top + cy))
        }
        _ => None,
    }
}

/// Looks for each target in `window`, capturing and reading the window again until every one is
/// seen exactly once or `deadline` passes (an app still drawing); at least one look is made. One
/// capture and one OCR serve all targets. The error names the first target not seen and why.
fn look(
    desk: &Desktop,
    window: &WindowInfo,
    targets: &[&Target],
    deadline: Instant,
) -> std::result::Result<Vec<Sighting>, (usize, String)> {
    let need_text = targets.iter().any(|t| t.text.is_some());
    loop {
        let (image, x0, y0) = desk
            .capture(window.id)
            .map_err(|e| (0, format!("cannot capture {window}: {e}")))?;
        let words = if need_text {
            Some(crate::vision::read_grey(&image).map_err(|m| (0, format!("OCR failed: {m}")))?)
        } else {
            None
        };
        let mut seen = Vec::with_capacity(targets.len());
        let mut miss = None;
        for (i, t) in targets.iter().enumerate() {
            match look_once(&image, (x0, y0), words.as_deref(), t) {
                Ok(s) => seen.push(s),
                Err(m) => {
                    miss = Some((i, format!("{m}, in {window}")));
                    break;
                }
            }
        }
        match miss {
            None => return Ok(seen),
            Some(e) if Instant::now() >= deadline => return Err(e),
            Some(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
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
    let matchers = bot
        .steps
        .iter()
        .enumerate()
        .map(|(k, s)| {
            s.selector
                .as_ref()
                .map(|sel| sel.matcher())
                .transpose()
                .map_err(|m| Error::Invalid {
                    bot: bot.name.clone(),
                    location: format!("steps[{k}] ({})", s.action.as_str()),
                    message: m,
                })
        })
        .collect::<Result<Vec<Option<Matcher>>>>()?;
    let mut out = RunOutcome {
        row,
        params: params.clone(),
        steps_done: 0,
        failure: None,
        start_ts: now_micros(),
        end_ts: 0,
        step_ms: Vec::with_capacity(filled.len()),
        checks: Vec::with_capacity(filled.len()),
    };
    let speed = opts.speed.max(1e-3);
    let pace = Duration::from_secs_f64(opts.pace_ms as f64 / 1000.0 / speed);
    // The last step whose selector was resolved ahead of the first input in its window.
    let mut checked_ahead: Option<usize> = None;
    // Where the last click found on the screen landed, while the steps stay in its window.
    let mut last_sight: Option<(i32, i32)> = None;
    for (k, f) in filled.iter().enumerate() {
        let wait = Duration::from_secs_f64(f.step.wait_ms as f64 / 1000.0 / speed);
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        let t = Instant::now();
        let ctx = StepContext {
            k,
            filled: &filled,
            matchers: &matchers,
            checked_ahead: &mut checked_ahead,
            last_sight: &mut last_sight,
        };
        match run_step(desk, ctx) {
            Ok(check) => out.checks.push(check),
            Err(e) => {
                let (failure, check) = *e;
                desk.release_all();
                out.checks.push(check);
                out.failure = Some(failure);
                break;
            }
        }
        // The step's own time (window checks, lookups, input, its delivery and proof): what the
        // replay costs beyond the bot's declared waits and the pace.
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

struct StepContext<'a> {
    k: usize,
    filled: &'a [Filled],
    matchers: &'a [Option<Matcher>],
    checked_ahead: &'a mut Option<usize>,
    last_sight: &'a mut Option<(i32, i32)>,
}

fn is_input(a: Action) -> bool {
    matches!(
        a,
        Action::Click | Action::Type | Action::Key | Action::Copy | Action::Paste
    )
}

/// Why a step failed, and its check for the report.
type StepError = Box<(StepFailure, StepCheck)>;

fn run_step(desk: &mut Desktop, ctx: StepContext<'_>) -> std::result::Result<StepCheck, StepError> {
    let k = ctx.k;
    let f = &ctx.filled[k];
    let s = &f.step;
    let mut check = StepCheck {
        step: k + 1,
        action: s.action.as_str(),
        selector: s.selector.as_ref().map(ToString::to_string),
        found: None,
        found_by: None,
        read_back: None,
        verified: false,
        note: String::new(),
    };
    let fail = |desk: &Desktop, check: &StepCheck, message: String| -> StepError {
        let mut check = check.clone();
        check.verified = false;
        check.note = message.clone();
        Box::new((
            StepFailure {
                step: k + 1,
                action: s.action.as_str(),
                message,
                focused: desk.active(),
            },
            check,
        ))
    };
    let re = s
        .window
        .regex()
        .map_err(|e| fail(desk, &check, format!("title pattern: {e}")))?;
    let timeout = Duration::from_millis(s.timeout_ms);
    // One timeout for the whole step: finding the window, its taking focus, finding the element.
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
                return Err(fail(
                    desk,
                    &check,
                    format!("no {want} within {} ms", s.timeout_ms),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let active_ok = desk
            .active()
            .is_some_and(|a| s.window.matches(&re, &a.instance, &a.class, &a.title));
        if !active_ok {
            desk.activate(target.id)
                .map_err(|e| fail(desk, &check, e.to_string()))?;
        }
    }
    let active = wait_active(
        desk,
        &s.window,
        &re,
        deadline.saturating_duration_since(Instant::now()),
    )
    .map_err(|focused| {
        let message = format!(
            "expected the {want} to have focus within {} ms",
            s.timeout_ms
        );
        let mut c = check.clone();
        c.note = message.clone();
        Box::new((
            StepFailure {
                step: k + 1,
                action: s.action.as_str(),
                message,
                focused,
            },
            c,
        ))
    })?;

    // Before the first input in this window: every selector of the steps that follow in it must
    // name exactly one element, and every target looked for on the screen must be seen exactly
    // once, or nothing is typed or clicked at all.
    let mut pre_seen: Option<Sighting> = None;
    if is_input(s.action) && ctx.checked_ahead.is_none_or(|last| k > last) {
        let mut ahead = Vec::new();
        let mut looks: Vec<(usize, &Target)> = Vec::new();
        let mut last = k;
        for (j, g) in ctx.filled.iter().enumerate().skip(k) {
            if g.step.window != s.window
                || (j > k && matches!(g.step.action, Action::FocusWindow | Action::WaitForWindow))
            {
                break;
            }
            last = j;
            match (&g.step.selector, &ctx.matchers[j], &g.step.target) {
                (Some(sel), Some(m), t) => ahead.push((j, sel, m, t.as_ref())),
                (None, _, Some(t)) => looks.push((j, t)),
                _ => {}
            }
        }
        let cannot_run = |j: usize, message: String| {
            if j == k {
                message
            } else {
                format!(
                    "step {} ({}) cannot run, so nothing was done: {message}",
                    j + 1,
                    ctx.filled[j].step.action.as_str()
                )
            }
        };
        for (j, sel, m, t) in ahead {
            let resolved = desk
                .a11y()
                .and_then(|a11y| resolve(a11y, &active, sel, m, deadline));
            match (resolved, t) {
                (Ok(_), _) => {}
                // The selector names nothing here: the step's look on the screen decides.
                (Err(_), Some(t)) => looks.push((j, t)),
                (Err(message), None) => return Err(fail(desk, &check, cannot_run(j, message))),
            }
        }
        if !looks.is_empty() {
            looks.sort_by_key(|l| l.0);
            let targets: Vec<&Target> = looks.iter().map(|l| l.1).collect();
            match look(desk, &active, &targets, deadline) {
                Ok(seen) => {
                    // This step's own sighting is a moment old: it is what the step acts on.
                    pre_seen = looks.iter().zip(seen).find(|(l, _)| l.0 == k).map(|x| x.1);
                }
                Err((i, message)) => {
                    return Err(fail(desk, &check, cannot_run(looks[i].0, message)));
                }
            }
        }
        *ctx.checked_ahead = Some(last);
    }

    let io = |desk: &Desktop, check: &StepCheck, e: Error| fail(desk, check, e.to_string());
    // A typed run reads back where the click before it (found on the screen) landed.
    let sight_before = ctx
        .last_sight
        .take()
        .filter(|_| k > 0 && s.action == Action::Type && ctx.filled[k - 1].step.window == s.window);
    match s.action {
        Action::FocusWindow | Action::WaitForWindow | Action::AssertWindow => {
            check.verified = true;
            check.found = Some(active.to_string());
            check.note = "the window has focus".into();
        }
        Action::Click => {
            let mut selector_miss = None;
            let mut done = false;
            if let (Some(sel), Some(m)) = (&s.selector, &ctx.matchers[k]) {
                match desk
                    .a11y()
                    .and_then(|a11y| resolve(a11y, &active, sel, m, deadline))
                {
                    Ok(found) => {
                        check.found = Some(describe_found(&found));
                        check.found_by = Some("selector");
                        click_element(desk, s, &found).map_err(|m| fail(desk, &check, m))?;
                        check.verified = true;
                        done = true;
                    }
                    Err(m) if s.target.is_some() => selector_miss = Some(m),
                    Err(m) => return Err(fail(desk, &check, m)),
                }
            }
            if done {
            } else if let Some(t) = &s.target {
                let seen = match pre_seen {
                    Some(seen) => seen,
                    None => look(desk, &active, &[t], deadline)
                        .map_err(|(_, m)| {
                            let m = match &selector_miss {
                                Some(sm) => format!("{sm}; on the screen: {m}"),
                                None => m,
                            };
                            fail(desk, &check, m)
                        })?
                        .into_iter()
                        .next()
                        .expect("one target, one sighting"),
                };
                desk.click(
                    seen.x,
                    seen.y,
                    s.button.unwrap_or_default(),
                    s.clicks.unwrap_or(1),
                )
                .map_err(|e| io(desk, &check, e))?;
                desk.sync().map_err(|e| io(desk, &check, e))?;
                check.found = Some(seen.detail);
                check.found_by = Some(seen.by);
                *ctx.last_sight = Some((seen.x, seen.y));
                check.note = match selector_miss {
                    Some(m) => format!("{m}; found on the screen instead: the click is not proven"),
                    None => "found on the screen: the click is not proven (no accessibility tree)"
                        .into(),
                };
            } else if s.fallback == Some(Fallback::Position) {
                let (ox, oy) = desk.origin(active.id).map_err(|e| io(desk, &check, e))?;
                let (x, y) = (ox + s.x.unwrap_or_default(), oy + s.y.unwrap_or_default());
                desk.click(x, y, s.button.unwrap_or_default(), s.clicks.unwrap_or(1))
                    .map_err(|e| io(desk, &check, e))?;
                desk.sync().map_err(|e| io(desk, &check, e))?;
                check.found_by = Some("position");
                check.note = format!("by position ({x}, {y}): the target is not proven");
            } else {
                return Err(fail(
                    desk,
                    &check,
                    "a click needs a selector, a target or `fallback: position`".into(),
                ));
            }
        }
        Action::Type => {
            let text = f.text.as_deref().unwrap_or_default();
            match (&s.selector, &ctx.matchers[k]) {
                (Some(sel), Some(m)) => {
                    let found = desk
                        .a11y()
                        .and_then(|a11y| resolve(a11y, &active, sel, m, deadline))
                        .map_err(|m| fail(desk, &check, m))?;
                    check.found = Some(describe_found(&found));
                    check.found_by = Some("selector");
                    let (read, ok) =
                        type_into(desk, &found, text).map_err(|m| fail(desk, &check, m))?;
                    check.read_back = read.clone();
                    if !ok {
                        let msg = format!(
                            "typed {text:?} into {} but it reads back {}",
                            describe_found(&found),
                            read.map_or_else(
                                || "nothing (no text interface)".into(),
                                |r| format!("{r:?}")
                            )
                        );
                        return Err(fail(desk, &check, msg));
                    }
                    check.verified = true;
                }
                _ => {
                    desk.type_text(text).map_err(|e| io(desk, &check, e))?;
                    match sight_before {
                        Some(at) => {
                            let read = read_back_at(desk, &active, text, at);
                            check.verified = read.is_some();
                            check.note = match read {
                                Some((x, y)) => format!(
                                    "OCR reads the typed text at ({x}, {y}), beside the click before"
                                ),
                                None => format!(
                                    "typed into the focused element; OCR did not read it back beside the click at ({}, {})",
                                    at.0, at.1
                                ),
                            };
                            check.read_back = read.map(|_| text.to_owned());
                        }
                        None => {
                            check.note =
                                "typed into the focused element: no selector to read it back from"
                                    .into();
                        }
                    }
                }
            }
        }
        Action::Key | Action::Copy | Action::Paste => {
            let keys = s.effective_keys().unwrap_or_default();
            let combo = keys::parse(keys).map_err(|m| fail(desk, &check, m))?;
            desk.combo(combo).map_err(|e| io(desk, &check, e))?;
            desk.sync().map_err(|e| io(desk, &check, e))?;
            check.note = format!("keys {keys} sent to the focused window");
        }
    }
    Ok(check)
}

/// Clicks the centre of `found` and proves it landed: the element under the pointer or the one
/// with focus must be `found`.
fn click_element(desk: &mut Desktop, s: &Step, found: &Found) -> std::result::Result<(), String> {
    let (x, y) = centre(found);
    if found.extents.width <= 0 || found.extents.height <= 0 {
        return Err(format!(
            "{} has no extents on screen (hidden or not showing)",
            describe_found(found)
        ));
    }
    desk.click(x, y, s.button.unwrap_or_default(), s.clicks.unwrap_or(1))
        .map_err(|e| e.to_string())?;
    desk.sync().map_err(|e| e.to_string())?;
    prove_click(desk, found, x, y)
}

fn prove_click(
    desk: &mut Desktop,
    found: &Found,
    x: i32,
    y: i32,
) -> std::result::Result<(), String> {
    let a11y = desk.a11y()?;
    let start = Instant::now();
    loop {
        let under = a11y
            .element_at(x, y, LOOKUP_BUDGET)
            .map_err(|e| format!("accessibility lookup failed: {e}"))?;
        let focused = a11y
            .focused(LOOKUP_BUDGET)
            .map_err(|e| format!("accessibility lookup failed: {e}"))?;
        let hit = |o: &Option<Found>| {
            o.as_ref()
                .is_some_and(|g| same_element(&g.element, &found.element))
        };
        if hit(&under) || hit(&focused) {
            return Ok(());
        }
        if start.elapsed() >= PROOF_TIMEOUT {
            let show = |o: &Option<Found>| {
                o.as_ref()
                    .map_or_else(|| "no element".to_owned(), describe_found)
            };
            return Err(format!(
                "clicked ({x}, {y}) for {} but the element there is {} and the focus is on {}",
                describe_found(found),
                show(&under),
                show(&focused)
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Types `text` into `found` (giving it the focus first unless it has it) and reads it back.
/// Returns what the element holds and whether that is the typed value.
fn type_into(
    desk: &mut Desktop,
    found: &Found,
    text: &str,
) -> std::result::Result<(Option<String>, bool), String> {
    let has_focus = |a11y: &A11y| -> std::result::Result<Option<Found>, String> {
        a11y.focused(LOOKUP_BUDGET)
            .map_err(|e| format!("accessibility lookup failed: {e}"))
    };
    // The element's focused state is a snapshot: right after the click of the step before, the
    // app may not have announced the focus yet. Ask again for a moment before acting, since a
    // second click at the same point would be a double click.
    let mut focused = found.focused;
    if !focused {
        let a11y = desk.a11y()?;
        let start = Instant::now();
        while !focused && start.elapsed() < Duration::from_millis(300) {
            focused = has_focus(a11y)?.is_some_and(|g| same_element(&g.element, &found.element));
            if !focused {
                std::thread::sleep(Duration::from_millis(30));
            }
        }
    }
    if !focused {
        // Through AT-SPI first (no pointer event in the trace), by a click where the app refuses.
        let grabbed = desk.a11y()?.grab_focus(found).unwrap_or(false);
        if !grabbed {
            let (x, y) = centre(found);
            desk.click(x, y, MouseButton::Left, 1)
                .map_err(|e| e.to_string())?;
            desk.sync().map_err(|e| e.to_string())?;
        }
        // The keys must go to this element: wait until it has the focus, else type nothing.
        let a11y = desk.a11y()?;
        let start = Instant::now();
        loop {
            let f = has_focus(a11y)?;
            if f.as_ref()
                .is_some_and(|g| same_element(&g.element, &found.element))
            {
                break;
            }
            if start.elapsed() >= PROOF_TIMEOUT {
                return Err(format!(
                    "{} did not take the focus; the focus is on {}; nothing typed",
                    describe_found(found),
                    f.as_ref()
                        .map_or_else(|| "no element".to_owned(), describe_found)
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let before = {
        let a11y = desk.a11y()?;
        a11y.read_text(found)
            .map_err(|e| format!("reading {}: {e}", describe_found(found)))?
            .unwrap_or_default()
    };
    desk.type_text(text).map_err(|e| e.to_string())?;
    let a11y = desk.a11y()?;
    let start = Instant::now();
    loop {
        let after = a11y
            .read_text(found)
            .map_err(|e| format!("reading {}: {e}", describe_found(found)))?;
        let ok = after
            .as_deref()
            .is_some_and(|a| reads_back(&before, text, a, found.password));
        if ok || start.elapsed() >= PROOF_TIMEOUT {
            return Ok((after, ok));
        }
        std::thread::sleep(Duration::from_millis(30));
    }
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
                step_checks: o.checks,
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

    fn word(text: &str, x: i32, y: i32) -> recorder::snapshot_ocr::Word {
        recorder::snapshot_ocr::Word {
            text: text.into(),
            line: (1, 1, x as u32),
            x,
            y,
            width: 40,
            height: 14,
            confidence: 92.0,
        }
    }

    #[test]
    fn a_target_is_clicked_at_its_text_moved_by_the_offset_in_screen_pixels() {
        let image = Grey {
            width: 300,
            height: 200,
            pixels: vec![200; 300 * 200],
        };
        let words = [word("Save", 100, 50), word("Clear", 200, 50)];
        let t = Target {
            text: Some("save".into()),
            dx: 5,
            dy: -3,
            image: None,
        };
        let seen = look_once(&image, (1000, 500), Some(&words), &t).unwrap();
        assert_eq!(
            (seen.x, seen.y, seen.by),
            (1000 + 120 + 5, 500 + 57 - 3, "text")
        );
        let gone = Target {
            text: Some("Delete".into()),
            image: Some("data:image/png;base64,".into()),
            ..Target::default()
        };
        let e = look_once(&image, (0, 0), Some(&words), &gone).unwrap_err();
        assert!(
            e.contains("\"Delete\" is not in the window")
                && e.contains("Save Clear")
                && e.contains("image is not tried"),
            "{e}"
        );
        let twice = [word("Save", 10, 10), word("Save", 10, 100)];
        let e = look_once(&image, (0, 0), Some(&twice), &t).unwrap_err();
        assert!(e.contains("2 times") && e.contains("ambiguous"), "{e}");
    }

    #[test]
    fn a_typed_value_reads_back_only_as_itself_or_appended() {
        assert!(reads_back("", "Mira", "Mira", false));
        assert!(reads_back("Dr. ", "Mira", "Dr. Mira", false));
        assert!(!reads_back("", "Mira", "", false), "nothing arrived");
        assert!(!reads_back("", "Mira", "Mir", false), "a key was lost");
        assert!(!reads_back("", "Mira", "MiraMira", false), "typed twice");
        assert!(
            !reads_back("x", "Mira", "Mirax", false),
            "inserted before the old text"
        );
        assert!(reads_back("", "pw", "••", true), "a password shows bullets");
        assert!(!reads_back("", "pw", "•", true));
    }

    #[test]
    fn the_same_element_is_the_same_path_and_role() {
        let el = |path: Option<&str>, name: &str| uilog::Element {
            role: Some("text".into()),
            name: Some(name.into()),
            id: None,
            path: path.map(str::to_owned),
        };
        let a = el(
            Some("frame 'F' / panel[0] / text 'First name'[5]"),
            "First name",
        );
        assert!(same_element(&a, &a.clone()));
        let sibling = el(
            Some("frame 'F' / panel[0] / text 'Last name'[3]"),
            "Last name",
        );
        assert!(!same_element(&a, &sibling));
        // Two unnamed fields with the same role differ by their index in the same tree.
        let b = el(
            Some("frame 'F' / panel[0] / text 'First name'[6]"),
            "First name",
        );
        assert!(!same_element(&a, &b));
        assert!(same_element(&el(None, "x"), &el(None, "x")));
        assert!(!same_element(&el(None, "x"), &el(None, "y")));
    }

    #[test]
    fn dry_run_lines_name_selectors_and_position_fallbacks() {
        let mut bot = crate::bot::tests::small_bot();
        bot.steps[1].selector = Some(Selector {
            name: Some("^Command$".into()),
            ..Selector::default()
        });
        let mut click = Step::new(Action::Click, bot.steps[0].window.clone());
        (click.x, click.y, click.fallback) = (Some(3), Some(4), Some(Fallback::Position));
        bot.steps.push(click);
        bot.check().unwrap();
        let mut row = Params::new();
        row.insert("value".into(), "7".into());
        let lines = describe(&fill_steps(&bot, &row).unwrap());
        assert!(lines[1].contains("into {name: \"^Command$\"}"), "{lines:?}");
        assert!(lines[3].contains("at (3, 4) by position"), "{lines:?}");
        bot.inputs[0].required = true;
        assert!(required_notes(&bot, &Params::new())[0].contains("\"value\" is required"));
        assert!(required_notes(&bot, &row).is_empty());
    }

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
