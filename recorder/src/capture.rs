//! The recording loop: rdev input on a listener thread, window context and clipboard over x11rb,
//! the [`Pipeline`] in between, and the batched [`Writer`] at the end.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use desktop::x11::Window;
use desktop::{A11y, WindowQuery};

use uilog::{Micros, Store};

use crate::error::{Error, Result};
use crate::keys::Key;
use crate::pipeline::{
    Answer, Button, ClipboardRequest, ElementStats, Input, Lookup, Pipeline, Target,
    ELEMENT_WAIT_US,
};
use crate::privacy::{Privacy, Screenshots};
use crate::snapshot::{start_worker, Snapped, SnapshotStats, Worker};
use crate::writer::Writer;
use crate::x11::{Change, X11};

/// What `taskmine record` is asked to do.
#[derive(Debug, Clone)]
pub struct RecordConfig {
    pub db: PathBuf,
    /// The policy file; `None` is the default (safe) policy with its key in the config directory.
    pub policy: Option<PathBuf>,
    /// The session name; `None` names it after the start time.
    pub session: Option<String>,
}

/// Flags the loop watches: set `stop` to end the recording, `toggle_pause` to pause or resume.
#[derive(Debug, Clone, Default)]
pub struct Controls {
    pub stop: Arc<AtomicBool>,
    pub toggle_pause: Arc<AtomicBool>,
}

impl Controls {
    /// Flags wired to SIGINT and SIGTERM (stop) and SIGUSR1 (pause or resume).
    pub fn from_signals() -> Result<Controls> {
        use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
        let c = Controls::default();
        for sig in [SIGINT, SIGTERM] {
            signal_hook::flag::register(sig, Arc::clone(&c.stop)).map_err(Error::Signal)?;
        }
        signal_hook::flag::register(SIGUSR1, Arc::clone(&c.toggle_pause)).map_err(Error::Signal)?;
        Ok(c)
    }
}

/// What a status line shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Events captured so far (written or about to be).
    pub events: u64,
    /// The current app, as the log names it.
    pub app: String,
    pub paused: bool,
    /// Lines for the user since the last status: at start what is recorded, where, under which
    /// policy and whether UI elements are available; later an app that exposes no elements.
    pub notices: Vec<String>,
}

/// What a finished recording did.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub session: String,
    pub events: u64,
    /// Events deleted at start-up by the policy's retention.
    pub expired: u64,
    /// Clicks and typed runs, and how many carried a UI element.
    pub elements: ElementStats,
    /// How long element lookups took.
    pub lookups: LookupTimes,
    /// Screen snapshots (all zero with `screenshots: off`).
    pub snapshots: SnapshotSummary,
}

/// What the snapshot worker did in a recording.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SnapshotSummary {
    pub requested: u64,
    pub stored: u64,
    pub stored_bytes: u64,
    /// Dropped because the worker was behind (queue full) or got to them too late.
    pub dropped: u64,
    /// Not taken because a field the policy blanks could not be located.
    pub refused: u64,
    pub failed: u64,
}

impl SnapshotSummary {
    fn of(s: &SnapshotStats) -> SnapshotSummary {
        let g = SnapshotStats::get;
        SnapshotSummary {
            requested: g(&s.requested),
            stored: g(&s.stored),
            stored_bytes: g(&s.stored_bytes),
            dropped: g(&s.dropped) + g(&s.stale),
            refused: g(&s.refused),
            failed: g(&s.failed),
        }
    }
}

/// A snapshot not attached after this long belongs to an event that was never written.
const SNAPSHOT_KEEP: Duration = Duration::from_secs(10);

/// Element lookup times on the accessibility bus, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LookupTimes {
    pub count: usize,
    /// Lookups that ran out of time or failed on the bus.
    pub failed: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

impl LookupTimes {
    fn of(micros: &[u32], failed: usize) -> LookupTimes {
        let mut v = micros.to_vec();
        v.sort_unstable();
        let q = |p: f64| {
            v.get(((v.len().saturating_sub(1)) as f64 * p).round() as usize)
                .map_or(0.0, |&us| f64::from(us) / 1000.0)
        };
        LookupTimes {
            count: v.len(),
            failed,
            p50_ms: q(0.5),
            p95_ms: q(0.95),
            max_ms: q(1.0),
        }
    }
}

/// One element lookup's time budget on the accessibility bus: past it the event goes without.
const LOOKUP_BUDGET: Duration = Duration::from_millis(150);

/// How long after a copy shortcut the clipboard is read: the app needs a moment to take the selection.
const COPY_SETTLE: Duration = Duration::from_millis(150);
const CLIPBOARD_TIMEOUT: Duration = Duration::from_millis(200);
const STATUS_EVERY: Duration = Duration::from_millis(500);

enum Msg {
    Input(rdev::Event),
    Element(u64, Answer),
    Failed(String),
}

/// Element lookups run on a thread of their own that owns the accessibility connection, so that a
/// slow app never stalls input capture; answers come back on the capture loop's channel.
fn start_element_worker(
    a11y: A11y,
    answers: mpsc::Sender<Msg>,
    times: Arc<Mutex<(Vec<u32>, usize)>>,
) -> Result<mpsc::Sender<Lookup>> {
    let (tx, rx) = mpsc::channel::<Lookup>();
    std::thread::Builder::new()
        .name("element-lookups".into())
        .spawn(move || {
            for l in rx {
                // A lookup older than its event's wait would answer nobody: skip it, so that a
                // burst cannot build a queue.
                if now_micros() - l.ts > ELEMENT_WAIT_US {
                    let _ = answers.send(Msg::Element(l.id, Answer::Failed));
                    continue;
                }
                let window = WindowQuery {
                    pid: l.pid,
                    title: None,
                };
                let start = Instant::now();
                let found = match l.target {
                    Target::At { x, y } => a11y.element_at_in(&window, x, y, LOOKUP_BUDGET),
                    Target::Focused => {
                        let moved_at = l.focus_moved_at.map(|t| {
                            SystemTime::UNIX_EPOCH + Duration::from_micros(t.max(0) as u64)
                        });
                        a11y.focused_since(&window, moved_at, LOOKUP_BUDGET)
                    }
                };
                if let Ok(mut t) = times.lock() {
                    t.0.push(start.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    t.1 += usize::from(found.is_err());
                }
                let answer = match found {
                    Ok(Some(f)) => Answer::Found {
                        element: f.element,
                        password: f.password,
                    },
                    Ok(None) => Answer::Nothing,
                    Err(_) => Answer::Failed,
                };
                if answers.send(Msg::Element(l.id, answer)).is_err() {
                    return;
                }
            }
        })
        .map_err(|e| Error::X11(format!("cannot start the element lookup thread: {e}")))?;
    Ok(tx)
}

/// The accessibility bus, unless `TASKMINE_ELEMENTS=off`; `Err` says why there is none.
fn connect_elements() -> std::result::Result<A11y, String> {
    if std::env::var("TASKMINE_ELEMENTS").is_ok_and(|v| v == "off" || v == "0") {
        return Err("turned off by TASKMINE_ELEMENTS".into());
    }
    A11y::connect().map_err(|e| e.to_string())
}

/// One line on the policy in force.
fn describe_policy(config: &RecordConfig, privacy: &Privacy) -> String {
    let p = privacy.policy();
    let source = match &config.policy {
        Some(f) => f.display().to_string(),
        None => "the built-in default".to_owned(),
    };
    let mut parts = vec![format!("typed text {:?}", p.text).to_lowercase()];
    if p.pseudonymize.user || p.pseudonymize.host {
        parts.push("user and host pseudonymized".into());
    }
    if !p.apps.allow.is_empty() {
        parts.push(format!("only {} allowed apps", p.apps.allow.len()));
    }
    if !p.apps.deny.is_empty() {
        parts.push(format!("{} apps denied", p.apps.deny.len()));
    }
    if !p.pause_hotkey.is_empty() {
        parts.push(format!("{} pauses", p.pause_hotkey));
    }
    format!("policy: {source} ({})", parts.join(", "))
}

/// Records until `controls.stop` is set, then writes what is pending and returns.
pub fn record(
    config: &RecordConfig,
    controls: &Controls,
    mut on_status: impl FnMut(&Status),
) -> Result<Summary> {
    let privacy = Privacy::load(config.policy.as_deref())?;
    let mut store = Store::open(&config.db)?;
    let expired = match privacy.retention_cutoff(now_micros()) {
        Some(cutoff) => store.delete_before(cutoff)?,
        None => 0,
    };
    let session = config.session.clone().unwrap_or_else(|| {
        format!(
            "record-{}",
            uilog::format_ts(now_micros()).get(..19).unwrap_or("")
        )
    });
    let mut x = X11::connect()?;

    let mut notices = vec![
        format!(
            "recording clicks, typing, scrolls, window switches, copy, paste and idle time on display {} into {} (session {session})",
            std::env::var("DISPLAY").unwrap_or_default(),
            config.db.display()
        ),
        describe_policy(config, &privacy),
    ];
    let (tx, rx) = mpsc::channel();
    let times = Arc::new(Mutex::new((Vec::new(), 0)));
    let lookups = match connect_elements() {
        Ok(a11y) => {
            notices.push("UI elements: from the accessibility bus (AT-SPI)".into());
            // Without the apps' focus announcements every typed run asks for the focus, which
            // works, only slower.
            if let Err(e) = a11y.watch_focus() {
                notices.push(format!(
                    "UI elements: focus changes not announced ({e}); typed runs ask for the focus"
                ));
            }
            Some(start_element_worker(a11y, tx.clone(), Arc::clone(&times))?)
        }
        Err(why) => {
            notices.push(format!(
                "UI elements: not available ({why}); events keep positions only (see `taskmine doctor`)"
            ));
            None
        }
    };
    std::thread::Builder::new()
        .name("rdev-listener".into())
        .spawn(move || {
            let input = tx.clone();
            // `listen` only returns when it fails; the thread otherwise lives as long as the process.
            if let Err(e) = rdev::listen(move |ev| {
                let _ = input.send(Msg::Input(ev));
            }) {
                let _ = tx.send(Msg::Failed(format!("input capture (rdev) failed: {e:?}")));
            }
        })
        .map_err(|e| Error::X11(format!("cannot start the input listener: {e}")))?;

    let snaps = if privacy.policy().screenshots == Screenshots::Off {
        None
    } else {
        // The worker applies the same policy from a copy of its own.
        let copy = Privacy::load(config.policy.as_deref())?;
        let mode = format!("{:?}", privacy.policy().screenshots).to_lowercase();
        notices.push(format!(
            "snapshots: {mode} of clicked and typed-in targets; {}",
            if lookups.is_some() {
                "masked text and password fields blanked"
            } else {
                "without UI elements only apps whose text mode is plain"
            }
        ));
        Some(start_worker(copy, lookups.is_some())?)
    };
    let mut pipeline = Pipeline::new(privacy, &session, &user_name(), &host_name());
    pipeline.set_elements(lookups.is_some());
    let mut writer = Writer::new(store);
    let mut cap = Capture {
        rx,
        x: &mut x,
        pipeline: &mut pipeline,
        press_client: None,
        copy_due: None,
        shift: false,
        lookups,
        notices,
        snaps,
        pending: Vec::new(),
        attached_at: 0,
        session: session.clone(),
    };
    // Whatever ends the loop (stop, a lost X connection, a failing disk), what was captured is
    // written before returning.
    let result = capture_loop(&mut cap, &mut writer, controls, &mut on_status);
    if cap.copy_due.take().is_some() && result.is_ok() {
        let (text, source) = cap.read_clipboard();
        cap.pipeline.handle(Input::Clipboard { text, source });
    }
    // Answers already on their way still count; then what waits is released without.
    while let Ok(msg) = cap.rx.try_recv() {
        if let Msg::Element(id, answer) = msg {
            cap.pipeline.handle(Input::Element { id, answer });
        }
    }
    cap.pipeline.finish();
    writer.push(cap.pipeline.drain(), Instant::now());
    let flushed = writer.flush();
    if flushed.is_ok() {
        cap.last_snapshots(&mut writer);
    }
    let snapshots = cap
        .snaps
        .as_ref()
        .map(|w| SnapshotSummary::of(&w.stats))
        .unwrap_or_default();
    result?;
    flushed?;
    let mut notices = std::mem::take(&mut cap.notices);
    notices.extend(pipeline.take_notices());
    on_status(&Status {
        events: pipeline.emitted(),
        app: pipeline.current_app(),
        paused: pipeline.paused(),
        notices,
    });
    let lookups = times
        .lock()
        .map(|t| LookupTimes::of(&t.0, t.1))
        .unwrap_or_default();
    Ok(Summary {
        session,
        events: writer.written(),
        expired,
        elements: pipeline.element_stats(),
        lookups,
        snapshots,
    })
}

/// A batch that fails (the database busy beyond its timeout, a full disk) stays buffered and is
/// retried; this many failures in a row end the recording.
const MAX_FLUSH_FAILURES: u32 = 20;

fn capture_loop(
    cap: &mut Capture<'_>,
    writer: &mut Writer,
    controls: &Controls,
    on_status: &mut impl FnMut(&Status),
) -> Result<()> {
    cap.sync_focus(now_micros())?;
    let mut last_status = Instant::now() - STATUS_EVERY;
    let mut flush_failures = 0;
    while !controls.stop.load(Ordering::SeqCst) {
        if controls.toggle_pause.swap(false, Ordering::SeqCst) {
            let paused = cap.pipeline.paused();
            cap.pipeline.set_paused(now_micros(), !paused);
        }
        let now = Instant::now();
        let mut wait = Duration::from_millis(100);
        for d in [writer.deadline(), cap.copy_due].into_iter().flatten() {
            wait = wait.min(d.saturating_duration_since(now));
        }
        if let Some(d) = cap.pipeline.next_deadline() {
            let us = u64::try_from(d - now_micros()).unwrap_or(0);
            wait = wait.min(Duration::from_micros(us));
        }
        match cap.rx.recv_timeout(wait) {
            Ok(msg) => {
                let mut next = Some(msg);
                while let Some(msg) = next {
                    match msg {
                        Msg::Input(ev) => {
                            cap.input(ev)?;
                            cap.send_lookups();
                        }
                        Msg::Element(id, answer) => {
                            cap.pipeline.handle(Input::Element { id, answer });
                        }
                        Msg::Failed(e) => return Err(Error::X11(e)),
                    }
                    next = cap.rx.try_recv().ok();
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Error::X11("the input listener stopped".into()));
            }
        }
        cap.changes()?;
        if cap.copy_due.is_some_and(|d| Instant::now() >= d) {
            cap.copy_due = None;
            let (text, source) = cap.read_clipboard();
            cap.pipeline.handle(Input::Clipboard { text, source });
        }
        cap.pipeline.tick(now_micros());
        let now = Instant::now();
        writer.push(cap.pipeline.drain(), now);
        match writer.flush_if_due(now) {
            Ok(()) => flush_failures = 0,
            Err(e) => {
                flush_failures += 1;
                if flush_failures >= MAX_FLUSH_FAILURES {
                    return Err(e);
                }
            }
        }
        cap.attach_snapshots(writer);
        cap.notices.extend(cap.pipeline.take_notices());
        if now.duration_since(last_status) >= STATUS_EVERY || !cap.notices.is_empty() {
            last_status = now;
            on_status(&Status {
                events: cap.pipeline.emitted(),
                app: cap.pipeline.current_app(),
                paused: cap.pipeline.paused(),
                notices: std::mem::take(&mut cap.notices),
            });
        }
    }
    Ok(())
}

struct Capture<'a> {
    rx: mpsc::Receiver<Msg>,
    x: &'a mut X11,
    pipeline: &'a mut Pipeline,
    /// The window a button went down in: the release is measured relative to it.
    press_client: Option<Window>,
    copy_due: Option<Instant>,
    /// Whether Shift is held, for reading remapped key codes.
    shift: bool,
    /// The element lookup thread (`None`: no accessibility bus).
    lookups: Option<mpsc::Sender<Lookup>>,
    notices: Vec<String>,
    /// The snapshot worker (`None`: `screenshots: off`).
    snaps: Option<Worker>,
    /// Snapshots taken whose events are not written yet.
    pending: Vec<(Snapped, Instant)>,
    /// `writer.written()` when snapshots were last attached.
    attached_at: u64,
    session: String,
}

impl Capture<'_> {
    /// Hands the pipeline's new lookups to the lookup thread at once: the element under the
    /// pointer is wanted while it is still there.
    fn send_lookups(&mut self) {
        let snaps = self.pipeline.take_snapshots();
        if let Some(w) = &self.snaps {
            for r in snaps {
                w.request(r);
            }
        }
        let lookups = self.pipeline.take_lookups();
        if let Some(tx) = &self.lookups {
            for l in lookups {
                if tx.send(l).is_err() {
                    // The thread is gone: the events go without elements when their wait is over.
                    self.lookups = None;
                    break;
                }
            }
        }
    }

    /// Collects finished snapshots and, once the writer has written more events, stores those
    /// whose events are now in the log. Never fails the recording: a snapshot is extra.
    fn attach_snapshots(&mut self, writer: &mut Writer) {
        let Some(w) = &self.snaps else { return };
        self.pending
            .extend(w.done.try_iter().map(|s| (s, Instant::now())));
        if self.pending.is_empty() || writer.written() == self.attached_at {
            return;
        }
        self.attached_at = writer.written();
        let rows: Vec<uilog::store::NewSnapshot<'_>> = self
            .pending
            .iter()
            .map(|(s, _)| uilog::store::NewSnapshot {
                ts: s.ts,
                kinds: s.kinds,
                png: &s.png,
                width: s.width,
                height: s.height,
            })
            .collect();
        let Ok(found) = writer.store_mut().attach_snapshots(&self.session, &rows) else {
            return;
        };
        let stats = &w.stats;
        let mut found = found.into_iter();
        self.pending.retain(|(s, at)| {
            if found.next().unwrap_or(false) {
                stats.stored.fetch_add(1, Ordering::Relaxed);
                stats
                    .stored_bytes
                    .fetch_add(s.png.len() as u64, Ordering::Relaxed);
                false
            } else {
                at.elapsed() < SNAPSHOT_KEEP
            }
        });
    }

    /// At the end: waits a moment for snapshots still being taken, then stores what it can.
    fn last_snapshots(&mut self, writer: &mut Writer) {
        let Some(w) = &self.snaps else { return };
        let start = Instant::now();
        let g = SnapshotStats::get;
        let st = &w.stats;
        while start.elapsed() < Duration::from_millis(1500) {
            let settled =
                g(&st.taken) + g(&st.dropped) + g(&st.stale) + g(&st.refused) + g(&st.failed);
            if settled >= g(&st.requested) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.attached_at = u64::MAX;
        self.attach_snapshots(writer);
    }

    fn input(&mut self, ev: rdev::Event) -> Result<()> {
        let ts = micros(ev.time);
        match ev.event_type {
            rdev::EventType::KeyPress(k) => {
                self.sync_focus(ts)?;
                let mut name = ev.name;
                if let (rdev::Key::Unknown(code), None) = (k, &name) {
                    name = self.x.key_char(code, self.shift).map(String::from);
                }
                let key = map_key(k, name.as_deref());
                if key == Key::Shift {
                    self.shift = true;
                }
                let req = self.pipeline.handle(Input::Key {
                    ts,
                    key,
                    text: name,
                    down: true,
                });
                match req {
                    Some(ClipboardRequest::Paste) => {
                        let (text, source) = self.read_clipboard();
                        self.pipeline.handle(Input::Clipboard { text, source });
                    }
                    Some(ClipboardRequest::Copy) => {
                        self.copy_due = Some(Instant::now() + COPY_SETTLE)
                    }
                    None => {}
                }
            }
            rdev::EventType::KeyRelease(k) => {
                let key = map_key(k, None);
                if key == Key::Shift {
                    self.shift = false;
                }
                self.pipeline.handle(Input::Key {
                    ts,
                    key,
                    text: None,
                    down: false,
                });
            }
            rdev::EventType::ButtonPress(b) => {
                self.sync_focus(ts)?;
                let (at, client) = self.x.pointer()?;
                // Click to focus: the click belongs to the window it landed in, even before the
                // window manager has made it the active one.
                if let Some(w) = client.filter(|&w| Some(w) != self.pipeline.current_window()) {
                    let info = self.x.window_info(w);
                    self.pipeline.handle(Input::Focus {
                        ts,
                        window: Some(info),
                    });
                    self.x.watch(w);
                }
                self.press_client = client;
                self.pipeline.handle(Input::Button {
                    ts,
                    button: map_button(b),
                    down: true,
                    at,
                });
            }
            rdev::EventType::ButtonRelease(b) => {
                let (mut at, _) = self.x.pointer()?;
                let rel = self
                    .press_client
                    .and_then(|w| self.x.relative(w, at.x, at.y));
                (at.wx, at.wy) = (rel.map(|r| r.0), rel.map(|r| r.1));
                self.pipeline.handle(Input::Button {
                    ts,
                    button: map_button(b),
                    down: false,
                    at,
                });
            }
            rdev::EventType::Wheel { delta_x, delta_y } => {
                let (at, _) = self.x.pointer()?;
                self.pipeline.handle(Input::Wheel {
                    ts,
                    dx: delta_x,
                    dy: delta_y,
                    at,
                });
            }
            rdev::EventType::MouseMove { .. } => {
                self.pipeline.handle(Input::Move { ts });
            }
        }
        Ok(())
    }

    /// The clipboard's text and the window that owns it.
    fn read_clipboard(&mut self) -> (Option<String>, Option<crate::pipeline::WindowInfo>) {
        let source = self.x.clipboard_owner().map(|w| self.x.window_info(w));
        (self.x.read_clipboard(CLIPBOARD_TIMEOUT), source)
    }

    /// Reads `_NET_ACTIVE_WINDOW` and tells the pipeline when focus moved. One round trip, done
    /// before every key and button press so that input is never attributed to the window before.
    fn sync_focus(&mut self, ts: Micros) -> Result<()> {
        let active = self.x.active_window()?;
        if let Some(w) = active.filter(|&w| Some(w) != self.pipeline.current_window()) {
            let info = self.x.window_info(w);
            self.pipeline.handle(Input::Focus {
                ts,
                window: Some(info),
            });
            self.x.watch(w);
        }
        Ok(())
    }

    fn changes(&mut self) -> Result<()> {
        for change in self.x.poll()? {
            match change {
                Change::ActiveWindow => self.sync_focus(now_micros())?,
                Change::Title(w) if Some(w) == self.pipeline.current_window() => {
                    let title = self.x.title(w);
                    self.pipeline.handle(Input::Title { title });
                }
                Change::Title(_) => {}
            }
        }
        Ok(())
    }
}

fn map_button(b: rdev::Button) -> Button {
    match b {
        rdev::Button::Left => Button::Left,
        rdev::Button::Right => Button::Right,
        rdev::Button::Middle => Button::Middle,
        rdev::Button::Unknown(_) => Button::Other,
    }
}

/// Maps rdev's (US-layout, physical) key codes to the aggregation's keys. Character keys are named
/// by what they typed when that is known, so that shortcuts follow the active layout.
fn map_key(k: rdev::Key, name: Option<&str>) -> Key {
    use rdev::Key as R;
    let typed = || {
        name.and_then(|n| {
            let mut chars = n.chars();
            let c = chars.next()?;
            (chars.next().is_none() && !c.is_control() && !c.is_whitespace())
                .then(|| c.to_lowercase().next().unwrap_or(c))
        })
    };
    let ch = |fallback: char| Key::Char(typed().unwrap_or(fallback));
    match k {
        R::ShiftLeft | R::ShiftRight => Key::Shift,
        R::ControlLeft | R::ControlRight => Key::Ctrl,
        R::Alt => Key::Alt,
        R::AltGr => Key::AltGr,
        R::MetaLeft | R::MetaRight => Key::Super,
        R::CapsLock => Key::CapsLock,
        R::Return | R::KpReturn => Key::Enter,
        R::Tab => Key::Tab,
        R::Backspace => Key::Backspace,
        R::Delete | R::KpDelete => Key::Delete,
        R::Escape => Key::Escape,
        R::Space => Key::Space,
        R::UpArrow => Key::Up,
        R::DownArrow => Key::Down,
        R::LeftArrow => Key::Left,
        R::RightArrow => Key::Right,
        R::Home => Key::Home,
        R::End => Key::End,
        R::PageUp => Key::PageUp,
        R::PageDown => Key::PageDown,
        R::Insert => Key::Insert,
        R::F1 => Key::F(1),
        R::F2 => Key::F(2),
        R::F3 => Key::F(3),
        R::F4 => Key::F(4),
        R::F5 => Key::F(5),
        R::F6 => Key::F(6),
        R::F7 => Key::F(7),
        R::F8 => Key::F(8),
        R::F9 => Key::F(9),
        R::F10 => Key::F(10),
        R::F11 => Key::F(11),
        R::F12 => Key::F(12),
        R::KeyA => ch('a'),
        R::KeyB => ch('b'),
        R::KeyC => ch('c'),
        R::KeyD => ch('d'),
        R::KeyE => ch('e'),
        R::KeyF => ch('f'),
        R::KeyG => ch('g'),
        R::KeyH => ch('h'),
        R::KeyI => ch('i'),
        R::KeyJ => ch('j'),
        R::KeyK => ch('k'),
        R::KeyL => ch('l'),
        R::KeyM => ch('m'),
        R::KeyN => ch('n'),
        R::KeyO => ch('o'),
        R::KeyP => ch('p'),
        R::KeyQ => ch('q'),
        R::KeyR => ch('r'),
        R::KeyS => ch('s'),
        R::KeyT => ch('t'),
        R::KeyU => ch('u'),
        R::KeyV => ch('v'),
        R::KeyW => ch('w'),
        R::KeyX => ch('x'),
        R::KeyY => ch('y'),
        R::KeyZ => ch('z'),
        R::Num0 | R::Kp0 => ch('0'),
        R::Num1 | R::Kp1 => ch('1'),
        R::Num2 | R::Kp2 => ch('2'),
        R::Num3 | R::Kp3 => ch('3'),
        R::Num4 | R::Kp4 => ch('4'),
        R::Num5 | R::Kp5 => ch('5'),
        R::Num6 | R::Kp6 => ch('6'),
        R::Num7 | R::Kp7 => ch('7'),
        R::Num8 | R::Kp8 => ch('8'),
        R::Num9 | R::Kp9 => ch('9'),
        R::BackQuote => ch('`'),
        R::Minus | R::KpMinus => ch('-'),
        R::Equal => ch('='),
        R::KpPlus => ch('+'),
        R::KpMultiply => ch('*'),
        R::KpDivide => ch('/'),
        R::LeftBracket => ch('['),
        R::RightBracket => ch(']'),
        R::SemiColon => ch(';'),
        R::Quote => ch('\''),
        R::BackSlash | R::IntlBackslash => ch('\\'),
        R::Comma => ch(','),
        R::Dot => ch('.'),
        R::Slash => ch('/'),
        // Keys rdev does not know (enigo maps characters without a key onto spare key codes)
        // still type what they typed.
        R::Unknown(_) => typed().map(Key::Char).unwrap_or(Key::Other),
        _ => Key::Other,
    }
}

fn micros(t: SystemTime) -> Micros {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_micros() as Micros)
        .unwrap_or(0)
}

fn now_micros() -> Micros {
    micros(SystemTime::now())
}

/// The login name, as the OS knows it (the policy turns it into a pseudonym).
pub fn user_name() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The host name (the policy turns it into a pseudonym).
pub fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| {
            std::fs::read_to_string(p)
                .ok()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
