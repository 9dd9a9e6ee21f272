//! From captured input to UI-log events: clicks, drags, scrolls, keystroke runs, clipboard, focus
//! and idle, each given its window context and passed through the [`Privacy`] policy.
//!
//! The pipeline is pure: the capture layer (X11 or a test) feeds it [`Input`]s with timestamps and
//! drains [`Event`]s. It never sees an X connection, so it is tested without a display.
//!
//! UI elements: with [`Pipeline::set_elements`] on, every press asks for the element under the
//! pointer and every typed run for the focused element ([`Pipeline::take_lookups`]); the capture
//! layer answers with [`Input::Element`] from another thread. The event waits for its answer at
//! most [`ELEMENT_WAIT_US`] and is then released without an element: input is never dropped and
//! never held longer than that. A typed run's text is filtered only when its element is known, so
//! that a password field keeps nothing.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use uilog::{Element, Event, EventKind, Micros};

use crate::keys::{normalize_shortcut, Key, KeyAggregator, KeyOutput};
use crate::privacy::{AppIdent, Privacy, SnapshotPlan, OTHER_APP};

/// A top-level window as the capture layer reads it, before the policy sees it; one type with
/// replay's, owned by the desktop crate with the app name it gives.
pub use desktop::x11::{normalize_app, WindowInfo};

/// The parts of a window the policy's app names match.
fn ident(w: &WindowInfo) -> AppIdent<'_> {
    AppIdent {
        instance: &w.instance,
        class: &w.class,
        process: &w.process,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Left,
    Right,
    Middle,
    Other,
}

/// A pointer position: absolute, and relative to the window it is over (when known).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Point {
    pub x: i32,
    pub y: i32,
    pub wx: Option<i32>,
    pub wy: Option<i32>,
}

/// What the pipeline asks the accessibility bus for: an element for the event it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub id: u64,
    pub ts: Micros,
    pub target: Target,
    /// The process of the window the input went to, when known: only its frames are searched.
    pub pid: Option<u32>,
    /// For a typed run: when a key that may have moved the focus (Tab, Enter, a shortcut) or a
    /// window switch came after the last click. The focus an app announced before then is not
    /// where this run went.
    pub focus_moved_at: Option<Micros>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The element under a screen point (a press).
    At { x: i32, y: i32 },
    /// The element with the keyboard focus (a typed run).
    Focused,
}

/// The answer to a [`Lookup`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The element, and whether it is a password field.
    Found { element: Element, password: bool },
    /// The app exposes no element there (no accessibility tree, or none at that point).
    Nothing,
    /// The lookup failed or ran out of time.
    Failed,
}

/// A snapshot the capture layer should take at once, of the target of the event at `ts` (which
/// will have one of `kinds`). Only made when the policy allows one for the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapRequest {
    pub ts: Micros,
    pub kinds: &'static [EventKind],
    pub target: Target,
    pub pid: Option<u32>,
    pub plan: SnapshotPlan,
}

/// The kinds a press may end as.
pub const PRESS_KINDS: &[EventKind] = &[
    EventKind::Click,
    EventKind::DoubleClick,
    EventKind::RightClick,
    EventKind::Drag,
];

/// How long an event waits for its element before it is released without one.
pub const ELEMENT_WAIT_US: Micros = 200_000;

/// How many clicks and typed runs carried an element.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ElementStats {
    pub clicks: u64,
    pub clicks_with_element: u64,
    pub runs: u64,
    pub runs_with_element: u64,
}

/// What the capture layer reports.
#[derive(Debug, Clone)]
pub enum Input {
    /// The active window changed (`None`: no window has focus).
    Focus {
        ts: Micros,
        window: Option<WindowInfo>,
    },
    /// The active window's title changed without a focus change.
    Title { title: String },
    Key {
        ts: Micros,
        key: Key,
        /// What the press typed, with the modifiers then held.
        text: Option<String>,
        down: bool,
    },
    Button {
        ts: Micros,
        button: Button,
        down: bool,
        at: Point,
    },
    Wheel {
        ts: Micros,
        dx: i64,
        dy: i64,
        at: Point,
    },
    /// Pointer motion: counts as activity, never stored.
    Move { ts: Micros },
    /// The clipboard content the capture layer read for a pending [`ClipboardRequest`]
    /// (`None`: it could not be read), and the window that owns the clipboard, when known.
    Clipboard {
        text: Option<String>,
        source: Option<WindowInfo>,
    },
    /// The answer to the [`Lookup`] with this id.
    Element { id: u64, answer: Answer },
}

/// Copy or paste: a clipboard shortcut was pressed and the capture layer should read the clipboard
/// (for a copy, after the app had time to take the selection) and send [`Input::Clipboard`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipboardRequest {
    Copy,
    Paste,
}

const DOUBLE_CLICK_US: Micros = 400_000;
const DOUBLE_CLICK_PX: i32 = 4;
const DRAG_PX: i32 = 8;
/// Wheel notches closer than this in one window are one scroll event.
const SCROLL_GAP_US: Micros = 500_000;

struct Press {
    ts: Micros,
    button: Button,
    at: Point,
    lookup: Option<u64>,
}

/// An event on its way out, waiting for its element (when it asked for one).
struct Held {
    event: Event,
    lookup: Option<u64>,
    deadline: Micros,
    /// A typed run's raw text and the window it was typed in: filtered when the element is known.
    raw: Option<(String, WindowInfo)>,
}

struct Scroll {
    ts: Micros,
    last: Micros,
    dx: i64,
    dy: i64,
    at: Point,
}

struct PendingClip {
    ts: Micros,
    kind: EventKind,
    keys: String,
}

/// The state machine between capture and the writer.
pub struct Pipeline {
    privacy: Privacy,
    session: String,
    user: String,
    host: String,
    window: Option<WindowInfo>,
    /// Whether the policy records the current window's app.
    recorded: bool,
    /// The current window title after redaction.
    title: String,
    keys: KeyAggregator,
    key_out: Vec<KeyOutput>,
    press: Option<Press>,
    last_click: Option<(Micros, Point)>,
    scroll: Option<Scroll>,
    clip: Option<PendingClip>,
    pause_hotkey: String,
    paused: bool,
    idle_after: Micros,
    last_activity: Option<Micros>,
    idle: bool,
    out: VecDeque<Held>,
    emitted: u64,
    /// Whether elements are looked up at all (an accessibility bus is there).
    elements: bool,
    next_lookup: u64,
    lookups: Vec<Lookup>,
    /// Answers that came before their event was complete (a press answered before its release).
    answers: HashMap<u64, Answer>,
    /// The lookup of the typed run in progress.
    run_lookup: Option<u64>,
    /// A key or window switch since the last press that may have moved the keyboard focus.
    focus_moved_at: Option<Micros>,
    /// The latest time seen, for releasing held events.
    now: Micros,
    notices: Vec<String>,
    silent_apps: HashSet<String>,
    stats: ElementStats,
    snaps: Vec<SnapRequest>,
}

impl Pipeline {
    /// `user` and `host` are the real names; the policy decides what the log calls them.
    pub fn new(privacy: Privacy, session: &str, user: &str, host: &str) -> Pipeline {
        let policy = privacy.policy();
        let pause_hotkey = normalize_shortcut(&policy.pause_hotkey);
        let idle_after = policy.idle_after().as_micros() as Micros;
        Pipeline {
            user: privacy.user(user),
            host: privacy.host(host),
            session: session.to_owned(),
            privacy,
            window: None,
            recorded: true,
            title: String::new(),
            keys: KeyAggregator::new(),
            key_out: Vec::new(),
            press: None,
            last_click: None,
            scroll: None,
            clip: None,
            pause_hotkey,
            paused: false,
            idle_after,
            last_activity: None,
            idle: false,
            out: VecDeque::new(),
            emitted: 0,
            elements: false,
            next_lookup: 0,
            lookups: Vec::new(),
            answers: HashMap::new(),
            run_lookup: None,
            focus_moved_at: None,
            now: 0,
            notices: Vec::new(),
            silent_apps: HashSet::new(),
            stats: ElementStats::default(),
            snaps: Vec::new(),
        }
    }

    /// The snapshots the capture layer should take, oldest first.
    pub fn take_snapshots(&mut self) -> Vec<SnapRequest> {
        std::mem::take(&mut self.snaps)
    }

    /// Asks for a snapshot of the target of the event at `ts`, if the policy allows one here.
    fn snapshot(&mut self, ts: Micros, target: Target, kinds: &'static [EventKind]) {
        if self.paused || !self.recorded {
            return;
        }
        let Some(w) = &self.window else { return };
        if let Some(plan) = self
            .privacy
            .snapshot_plan(&ident(w), &w.title, self.elements)
        {
            self.snaps.push(SnapRequest {
                ts,
                kinds,
                target,
                pid: w.pid,
                plan,
            });
        }
    }

    /// Turns element lookups on or off (off: no accessibility bus).
    pub fn set_elements(&mut self, on: bool) {
        self.elements = on;
    }

    /// The lookups the capture layer should run, oldest first.
    pub fn take_lookups(&mut self) -> Vec<Lookup> {
        std::mem::take(&mut self.lookups)
    }

    /// Things the user should hear once (an app that exposes no elements).
    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }

    /// When the oldest held event is released even without its element.
    pub fn next_deadline(&self) -> Option<Micros> {
        self.out
            .iter()
            .filter(|h| h.lookup.is_some())
            .map(|h| h.deadline)
            .min()
    }

    pub fn element_stats(&self) -> ElementStats {
        self.stats
    }

    fn lookup(&mut self, ts: Micros, target: Target) -> Option<u64> {
        if !self.elements || self.paused || !self.recorded {
            return None;
        }
        let id = self.next_lookup;
        self.next_lookup += 1;
        let pid = self.window.as_ref().and_then(|w| w.pid);
        let focus_moved_at = match target {
            Target::Focused => self.focus_moved_at,
            Target::At { .. } => None,
        };
        self.lookups.push(Lookup {
            id,
            ts,
            target,
            pid,
            focus_moved_at,
        });
        Some(id)
    }

    pub fn privacy(&self) -> &Privacy {
        &self.privacy
    }

    /// Feeds one input. Returns a clipboard request when the input was a copy or paste shortcut.
    pub fn handle(&mut self, input: Input) -> Option<ClipboardRequest> {
        if let Input::Focus { ts, .. }
        | Input::Key { ts, .. }
        | Input::Button { ts, .. }
        | Input::Wheel { ts, .. }
        | Input::Move { ts } = input
        {
            self.now = self.now.max(ts);
        }
        match input {
            Input::Focus { ts, window } => {
                self.focus(ts, window);
                None
            }
            Input::Title { title } => {
                if let Some(w) = self.window.as_mut() {
                    // An unrecorded app's title is not even kept in redacted form.
                    if self.recorded {
                        self.title = self.privacy.title(&title);
                    }
                    w.title = title;
                }
                None
            }
            Input::Key {
                ts,
                key,
                text,
                down,
            } => self.key(ts, key, text.as_deref(), down),
            Input::Button {
                ts,
                button,
                down,
                at,
            } => {
                self.activity(ts);
                if down {
                    self.flush_scroll();
                    self.end_run();
                    let lookup = self.lookup(ts, Target::At { x: at.x, y: at.y });
                    // The element clicked says where the focus went from here.
                    self.focus_moved_at = None;
                    self.snapshot(ts, Target::At { x: at.x, y: at.y }, PRESS_KINDS);
                    self.press = Some(Press {
                        ts,
                        button,
                        at,
                        lookup,
                    });
                } else if let Some(p) = self.press.take() {
                    self.click(p, at);
                }
                None
            }
            Input::Wheel { ts, dx, dy, at } => {
                self.activity(ts);
                if self.paused || !self.recorded {
                    return None;
                }
                match self.scroll.as_mut() {
                    Some(s) if ts - s.last < SCROLL_GAP_US => {
                        s.dx += dx;
                        s.dy += dy;
                        s.last = ts;
                    }
                    _ => {
                        self.flush_scroll();
                        self.scroll = Some(Scroll {
                            ts,
                            last: ts,
                            dx,
                            dy,
                            at,
                        });
                    }
                }
                None
            }
            Input::Move { ts } => {
                self.activity(ts);
                None
            }
            Input::Clipboard { text, source } => {
                self.clipboard(text.as_deref(), source.as_ref());
                None
            }
            Input::Element { id, answer } => {
                self.answers.insert(id, answer);
                None
            }
        }
    }

    /// Called regularly: ends scroll gestures and starts idle periods that are due by `now`.
    pub fn tick(&mut self, now: Micros) {
        self.now = self.now.max(now);
        if self
            .scroll
            .as_ref()
            .is_some_and(|s| now - s.last >= SCROLL_GAP_US)
        {
            self.flush_scroll();
        }
        if let Some(last) = self.last_activity {
            if !self.idle && !self.paused && now - last >= self.idle_after {
                self.flush_scroll();
                self.end_run();
                self.idle = true;
                let e = self.bare(last + self.idle_after, EventKind::IdleStart);
                self.push(e);
            }
        }
    }

    /// Pauses or resumes. A pause ends the current run and shows in the log as an idle period with
    /// `reason: paused`, so that segmentation does not join work across it.
    pub fn set_paused(&mut self, ts: Micros, paused: bool) {
        if paused == self.paused {
            return;
        }
        if paused {
            self.flush_scroll();
            self.end_run();
            self.press = None;
            self.clip = None;
            let mut e = self.bare(ts, EventKind::IdleStart);
            e.attrs.insert("reason".into(), "paused".into());
            self.push(e);
            self.paused = true;
        } else {
            self.paused = false;
            self.idle = false;
            self.last_activity = Some(ts);
            let mut e = self.bare(ts, EventKind::IdleEnd);
            e.attrs.insert("reason".into(), "paused".into());
            self.push(e);
        }
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Ends what is in progress (typed run, scroll) so that it can be written before exit; held
    /// events are released with what is known now.
    pub fn finish(&mut self) {
        self.flush_scroll();
        self.end_run();
        self.now = Micros::MAX;
    }

    /// Takes the events that are ready, in the order they happened: an event waiting for its
    /// element (and every event after it) stays until the answer comes or its wait is over.
    pub fn drain(&mut self) -> Vec<Event> {
        let mut ready = Vec::new();
        while let Some(front) = self.out.front() {
            let answer = match front.lookup {
                None => None,
                Some(id) => match self.answers.remove(&id) {
                    Some(a) => Some(a),
                    None if self.now >= front.deadline => Some(Answer::Failed),
                    None => break,
                },
            };
            let held = self.out.pop_front().expect("front exists");
            ready.push(self.release(held, answer));
        }
        if self.out.is_empty() && self.press.is_none() && self.run_lookup.is_none() {
            // Answers to lookups whose events were never made (a press in a window then left).
            self.answers.clear();
        }
        ready
    }

    /// Attaches the element and filters a typed run's text.
    fn release(&mut self, held: Held, answer: Option<Answer>) -> Event {
        let Held { mut event, raw, .. } = held;
        let (element, password) = match answer {
            Some(Answer::Found { element, password }) => {
                // Element names and paths may hold data (a table cell, a mail subject): they get
                // the same redaction as titles.
                let element = Element {
                    name: element.name.map(|n| self.privacy.title(&n)),
                    path: element.path.map(|p| self.privacy.title(&p)),
                    ..element
                };
                (Some(element).filter(|e| !e.is_empty()), password)
            }
            Some(Answer::Nothing) => {
                if self.silent_apps.insert(event.app.clone()) {
                    self.notices.push(format!(
                        "no UI elements from {}: it exposes none on the accessibility bus \
                         (`taskmine doctor` says how to turn them on); its events keep positions only",
                        event.app
                    ));
                }
                (None, false)
            }
            Some(Answer::Failed) | None => (None, false),
        };
        if let Some((text, w)) = raw {
            let filtered =
                self.privacy
                    .field_text(&ident(&w), &w.title, element.as_ref(), password, &text);
            event.text = filtered.text;
            event.value_hash = filtered.value_hash;
        }
        let counted = matches!(
            event.kind,
            EventKind::Click | EventKind::DoubleClick | EventKind::RightClick | EventKind::Drag
        );
        if counted {
            self.stats.clicks += 1;
            self.stats.clicks_with_element += u64::from(element.is_some());
        } else if event.kind == EventKind::Type {
            self.stats.runs += 1;
            self.stats.runs_with_element += u64::from(element.is_some());
        }
        event.element = element;
        event
    }

    /// Events produced since the start.
    pub fn emitted(&self) -> u64 {
        self.emitted
    }

    /// The current app as the log names it (for a status line).
    pub fn current_app(&self) -> String {
        match &self.window {
            Some(_) if !self.recorded => OTHER_APP.to_owned(),
            Some(w) => w.app(),
            None => String::new(),
        }
    }

    /// The active window's id, so that the capture layer can tell whether focus moved.
    pub fn current_window(&self) -> Option<u32> {
        self.window.as_ref().map(|w| w.id)
    }

    fn focus(&mut self, ts: Micros, window: Option<WindowInfo>) {
        if window.as_ref().map(|w| w.id) == self.window.as_ref().map(|w| w.id)
            && window.as_ref().map(|w| &w.title) == self.window.as_ref().map(|w| &w.title)
        {
            return;
        }
        // The run belonged to the field of the window being left.
        self.flush_scroll();
        self.end_run();
        self.press = None;
        let was_other_app = self.window.is_some() && !self.recorded;
        let same_window = window.as_ref().map(|w| w.id) == self.window.as_ref().map(|w| w.id);
        if !same_window {
            self.focus_moved_at = Some(ts);
        }
        self.recorded = window
            .as_ref()
            .is_none_or(|w| self.privacy.records_app(&ident(w)));
        self.title = match (&window, self.recorded) {
            (Some(w), true) => self.privacy.title(&w.title),
            _ => String::new(),
        };
        self.window = window;
        if self.window.is_none() || self.paused {
            return;
        }
        if same_window && self.recorded {
            // Only the title changed: later events carry the new one; no switch happened.
            return;
        }
        if !self.recorded && was_other_app {
            // From one unrecorded app to another: still "another app", nothing new to say.
            return;
        }
        self.activity(ts);
        let e = self.event(ts, EventKind::Focus);
        self.push(e);
    }

    fn key(
        &mut self,
        ts: Micros,
        key: Key,
        text: Option<&str>,
        down: bool,
    ) -> Option<ClipboardRequest> {
        self.activity(ts);
        if !down {
            self.keys.release(key);
            return None;
        }
        self.flush_scroll();
        if self.keys.may_move_focus(key) {
            self.focus_moved_at = Some(ts);
        }
        // A key between two clicks makes them two clicks, however close: click a field, type,
        // click it again is not a double click (a fast replay does exactly that).
        self.last_click = None;
        let was_in_run = self.keys.in_run();
        self.keys.press(ts, key, text, &mut self.key_out);
        let outputs = std::mem::take(&mut self.key_out);
        let mut request = None;
        for o in outputs {
            if let KeyOutput::Shortcut { ts, name } = &o {
                if !self.pause_hotkey.is_empty() && *name == self.pause_hotkey {
                    let paused = !self.paused;
                    self.set_paused(*ts, paused);
                    continue;
                }
            }
            if self.paused || !self.recorded {
                continue;
            }
            match o {
                KeyOutput::Type { ts, end, text } => self.type_event(ts, end, &text),
                KeyOutput::Shortcut { ts, name } => match clipboard_shortcut(&name) {
                    Some(req) => {
                        self.clip = Some(PendingClip {
                            ts,
                            kind: match req {
                                ClipboardRequest::Copy => EventKind::Copy,
                                ClipboardRequest::Paste => EventKind::Paste,
                            },
                            keys: name,
                        });
                        request = Some(req);
                    }
                    None => {
                        let mut e = self.event(ts, EventKind::Shortcut);
                        e.attrs.insert("keys".into(), name);
                        self.push(e);
                    }
                },
            }
        }
        if self.paused || !self.recorded {
            // Nothing typed here may surface later under another window.
            self.keys.discard_run();
            self.run_lookup = None;
        } else if self.keys.in_run() && self.run_lookup.is_none() {
            // A run that ended above took its lookup; the run this key started asks for its own.
            self.run_lookup = self.lookup(ts, Target::Focused);
        }
        if !was_in_run && self.keys.in_run() {
            // A run starts with this key: its field is photographed now, before more is typed.
            self.snapshot(ts, Target::Focused, &[EventKind::Type]);
        }
        request
    }

    fn click(&mut self, p: Press, up: Point) {
        if self.paused || !self.recorded {
            return;
        }
        let moved = (up.x - p.at.x).abs().max((up.y - p.at.y).abs());
        let kind = if moved > DRAG_PX {
            EventKind::Drag
        } else {
            match p.button {
                Button::Right => EventKind::RightClick,
                Button::Left => {
                    let double = self.last_click.is_some_and(|(t, at)| {
                        p.ts - t <= DOUBLE_CLICK_US
                            && (at.x - p.at.x).abs() <= DOUBLE_CLICK_PX
                            && (at.y - p.at.y).abs() <= DOUBLE_CLICK_PX
                    });
                    if double {
                        EventKind::DoubleClick
                    } else {
                        EventKind::Click
                    }
                }
                Button::Middle | Button::Other => EventKind::Click,
            }
        };
        // A third click does not make a second double click.
        self.last_click = match kind {
            EventKind::Click if p.button == Button::Left => Some((p.ts, p.at)),
            _ => None,
        };
        let mut e = self.event(p.ts, kind);
        set_point(&mut e, p.at);
        match p.button {
            Button::Middle => {
                e.attrs.insert("button".into(), "middle".into());
            }
            Button::Other => {
                e.attrs.insert("button".into(), "other".into());
            }
            _ => {}
        }
        if kind == EventKind::Drag {
            e.attrs.insert("to_x".into(), up.x.to_string());
            e.attrs.insert("to_y".into(), up.y.to_string());
            if let (Some(wx), Some(wy)) = (up.wx, up.wy) {
                e.attrs.insert("to_wx".into(), wx.to_string());
                e.attrs.insert("to_wy".into(), wy.to_string());
            }
        }
        self.hold(e, p.lookup, None);
    }

    fn type_event(&mut self, ts: Micros, end: Micros, text: &str) {
        let mut e = self.event(ts, EventKind::Type);
        e.attrs
            .insert("duration_ms".into(), ((end - ts) / 1000).to_string());
        let lookup = self.run_lookup.take();
        let window = self.window.clone().unwrap_or_default();
        self.hold(e, lookup, Some((text.to_owned(), window)));
    }

    fn clipboard(&mut self, text: Option<&str>, source: Option<&WindowInfo>) {
        let Some(clip) = self.clip.take() else {
            return;
        };
        if self.paused || !self.recorded {
            return;
        }
        let mut e = self.event(clip.ts, clip.kind);
        if let (Some(text), Some(w)) = (text, &self.window) {
            let src = source.map(|s| (ident(s), s.title.as_str()));
            let src = src.as_ref().map(|(a, t)| (a, *t));
            let filtered = self.privacy.clipboard_text(&ident(w), &w.title, src, text);
            e.text = filtered.text;
            e.value_hash = filtered.value_hash;
        }
        e.attrs.insert("keys".into(), clip.keys);
        self.push(e);
    }

    fn end_run(&mut self) {
        self.keys.end_run(&mut self.key_out);
        let outputs = std::mem::take(&mut self.key_out);
        for o in outputs {
            if let KeyOutput::Type { ts, end, text } = o {
                if !self.paused && self.recorded {
                    self.type_event(ts, end, &text);
                }
            }
        }
    }

    fn flush_scroll(&mut self) {
        if let Some(s) = self.scroll.take() {
            let mut e = self.event(s.ts, EventKind::Scroll);
            set_point(&mut e, s.at);
            e.attrs.insert("dx".into(), s.dx.to_string());
            e.attrs.insert("dy".into(), s.dy.to_string());
            self.push(e);
        }
    }

    /// Records input activity: ends an idle period (the idle_end comes before the input's event).
    fn activity(&mut self, ts: Micros) {
        if self.idle && !self.paused {
            self.idle = false;
            let e = self.bare(ts, EventKind::IdleEnd);
            self.push(e);
        }
        self.last_activity = Some(ts);
    }

    /// An event with no app context (idle periods).
    fn bare(&self, ts: Micros, kind: EventKind) -> Event {
        let mut e = Event::new(&self.session, &self.user, ts, kind);
        e.host.clone_from(&self.host);
        e
    }

    /// An event in the current window, as the policy lets the log name it.
    fn event(&self, ts: Micros, kind: EventKind) -> Event {
        let mut e = self.bare(ts, kind);
        match &self.window {
            Some(_) if !self.recorded => e.app = OTHER_APP.to_owned(),
            Some(w) => {
                e.app = w.app();
                e.window.clone_from(&self.title);
                let mut attrs = BTreeMap::new();
                if !w.process.is_empty() && w.process != e.app {
                    attrs.insert("process".to_owned(), w.process.clone());
                }
                e.attrs = attrs;
            }
            None => {}
        }
        e
    }

    fn push(&mut self, e: Event) {
        self.hold(e, None, None);
    }

    fn hold(&mut self, event: Event, lookup: Option<u64>, raw: Option<(String, WindowInfo)>) {
        self.emitted += 1;
        let deadline = event.ts.saturating_add(ELEMENT_WAIT_US).max(self.now);
        self.out.push_back(Held {
            event,
            lookup,
            deadline,
            raw,
        });
    }
}

fn set_point(e: &mut Event, at: Point) {
    e.x = Some(at.x);
    e.y = Some(at.y);
    e.wx = at.wx;
    e.wy = at.wy;
}

/// Copy and paste shortcuts, including the terminal forms with shift.
fn clipboard_shortcut(name: &str) -> Option<ClipboardRequest> {
    match name {
        "ctrl+c" | "ctrl+x" | "ctrl+shift+c" | "ctrl+insert" => Some(ClipboardRequest::Copy),
        "ctrl+v" | "ctrl+shift+v" | "shift+insert" => Some(ClipboardRequest::Paste),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::privacy::Policy;

    fn pipeline(yaml: &str) -> Pipeline {
        let policy = Policy::parse(yaml, Path::new("test.yaml")).unwrap();
        Pipeline::new(
            Privacy::new(policy, &[3; 32]).unwrap(),
            "s1",
            "alice",
            "box",
        )
    }

    fn win(id: u32, app: &str, title: &str) -> WindowInfo {
        WindowInfo {
            id,
            instance: app.into(),
            class: app.to_uppercase(),
            title: title.into(),
            process: app.into(),
            pid: None,
        }
    }

    fn at(x: i32, y: i32) -> Point {
        Point {
            x,
            y,
            wx: Some(x - 100),
            wy: Some(y - 50),
        }
    }

    fn click(p: &mut Pipeline, ts: Micros, button: Button, pt: Point) {
        p.handle(Input::Button {
            ts,
            button,
            down: true,
            at: pt,
        });
        p.handle(Input::Button {
            ts: ts + 50_000,
            button,
            down: false,
            at: pt,
        });
    }

    #[test]
    fn snapshots_only_where_the_policy_allows_them() {
        let focus = |p: &mut Pipeline, w: WindowInfo| {
            p.handle(Input::Focus {
                ts: 1,
                window: Some(w),
            })
        };
        // The default policy takes none.
        let mut p = pipeline("");
        focus(&mut p, win(1, "tkform", "Form"));
        click(&mut p, 1_000, Button::Left, at(200, 100));
        typed(&mut p, 200_000, "ab");
        assert!(p.take_snapshots().is_empty());

        // Plain text without elements: the press and the first key of the run, once each.
        let mut p = pipeline("screenshots: elements\ntext: plain\n");
        focus(&mut p, win(1, "tkform", "Form"));
        click(&mut p, 1_000, Button::Left, at(200, 100));
        let end = typed(&mut p, 200_000, "abc");
        let snaps = p.take_snapshots();
        assert_eq!(snaps.len(), 2, "{snaps:?}");
        assert_eq!((snaps[0].ts, snaps[0].kinds), (1_000, PRESS_KINDS));
        assert_eq!(snaps[0].target, Target::At { x: 200, y: 100 });
        assert_eq!((snaps[1].ts, snaps[1].target), (200_000, Target::Focused));
        assert!(!snaps[1].plan.blank_fields);
        p.handle(Input::Key {
            ts: end,
            key: Key::Enter,
            text: None,
            down: true,
        });
        typed(&mut p, end + 100_000, "d");
        assert_eq!(
            p.take_snapshots().len(),
            1,
            "a new run after Enter is photographed again"
        );

        // Masked text cannot be blanked without elements: none; with elements, blanked.
        let mut p = pipeline("screenshots: on\ntext: mask\n");
        focus(&mut p, win(1, "tkform", "Form"));
        click(&mut p, 1_000, Button::Left, at(200, 100));
        assert!(p.take_snapshots().is_empty());
        p.set_elements(true);
        click(&mut p, 2_000_000, Button::Left, at(200, 100));
        let snaps = p.take_snapshots();
        assert_eq!(snaps.len(), 1);
        assert!(snaps[0].plan.blank_fields);

        // Password windows, denied apps and pauses: none.
        let mut p = pipeline("screenshots: on\ntext: plain\napps:\n  deny: [secretapp]\n");
        focus(&mut p, win(1, "tkform", "Enter password"));
        click(&mut p, 1_000, Button::Left, at(200, 100));
        focus(&mut p, win(2, "secretapp", "Notes"));
        click(&mut p, 2_000_000, Button::Left, at(200, 100));
        focus(&mut p, win(3, "tkform", "Form"));
        p.set_paused(3_000_000, true);
        click(&mut p, 3_100_000, Button::Left, at(200, 100));
        assert!(p.take_snapshots().is_empty());
        p.set_paused(4_000_000, false);
        click(&mut p, 4_100_000, Button::Left, at(200, 100));
        assert_eq!(p.take_snapshots().len(), 1, "the check above could fail");
    }

    fn typed(p: &mut Pipeline, ts: Micros, s: &str) -> Micros {
        let mut t = ts;
        for c in s.chars() {
            let key = if c == ' ' {
                Key::Space
            } else {
                Key::Char(c.to_ascii_lowercase())
            };
            p.handle(Input::Key {
                ts: t,
                key,
                text: Some(c.to_string()),
                down: true,
            });
            p.handle(Input::Key {
                ts: t + 10,
                key,
                text: None,
                down: false,
            });
            t += 100_000;
        }
        t
    }

    fn key(p: &mut Pipeline, ts: Micros, key: Key, down: bool) -> Option<ClipboardRequest> {
        p.handle(Input::Key {
            ts,
            key,
            text: None,
            down,
        })
    }

    fn kinds(events: &[Event]) -> Vec<EventKind> {
        events.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn focus_click_type_enter_come_out_in_order_with_context() {
        let mut p = pipeline("text: plain\n");
        p.handle(Input::Focus {
            ts: 1_000_000,
            window: Some(win(1, "xterm", "bash")),
        });
        click(&mut p, 2_000_000, Button::Left, at(150, 80));
        let t = typed(&mut p, 3_000_000, "ls -la");
        key(&mut p, t, Key::Enter, true);
        let ev = p.drain();
        assert_eq!(
            kinds(&ev),
            vec![
                EventKind::Focus,
                EventKind::Click,
                EventKind::Type,
                EventKind::Shortcut
            ]
        );
        assert!(ev
            .iter()
            .all(|e| e.app == "xterm" && e.window == "bash" && e.session == "s1"));
        assert_eq!(
            (ev[1].x, ev[1].y, ev[1].wx, ev[1].wy),
            (Some(150), Some(80), Some(50), Some(30))
        );
        assert_eq!(ev[2].text.as_deref(), Some("ls -la"));
        assert_eq!(ev[2].ts, 3_000_000);
        assert_eq!(ev[3].attrs["keys"], "enter");
        assert!(ev[0].user.starts_with("user-") && ev[0].host.starts_with("host-"));
    }

    #[test]
    fn runs_end_at_clicks_and_focus_changes() {
        let mut p = pipeline("text: plain\n");
        p.handle(Input::Focus {
            ts: 1,
            window: Some(win(1, "gedit", "notes")),
        });
        typed(&mut p, 10, "ab");
        click(&mut p, 1_000_000, Button::Left, at(120, 60));
        typed(&mut p, 2_000_000, "cd");
        p.handle(Input::Focus {
            ts: 3_000_000,
            window: Some(win(2, "xterm", "bash")),
        });
        let ev = p.drain();
        assert_eq!(
            kinds(&ev),
            vec![
                EventKind::Focus,
                EventKind::Type,
                EventKind::Click,
                EventKind::Type,
                EventKind::Focus
            ]
        );
        assert_eq!(ev[1].text.as_deref(), Some("ab"));
        assert_eq!(ev[3].text.as_deref(), Some("cd"));
        assert_eq!(
            ev[3].app, "gedit",
            "the run belongs to the window it was typed in"
        );
        assert_eq!(ev[4].app, "xterm");
    }

    #[test]
    fn a_key_between_two_quick_clicks_makes_them_two_clicks() {
        let mut p = pipeline("");
        p.handle(Input::Focus {
            ts: 1,
            window: Some(win(1, "form", "Customer form")),
        });
        click(&mut p, 1_000_000, Button::Left, at(200, 200));
        typed(&mut p, 1_100_000, "a");
        click(&mut p, 1_250_000, Button::Left, at(200, 200));
        let ev = p.drain();
        let clicks: Vec<_> = kinds(&ev)
            .into_iter()
            .filter(|k| matches!(k, EventKind::Click | EventKind::DoubleClick))
            .collect();
        assert_eq!(clicks, vec![EventKind::Click, EventKind::Click], "{ev:?}");
    }

    #[test]
    fn double_right_clicks_and_drags() {
        let mut p = pipeline("");
        p.handle(Input::Focus {
            ts: 1,
            window: Some(win(1, "nautilus", "Files")),
        });
        click(&mut p, 1_000_000, Button::Left, at(200, 200));
        click(&mut p, 1_200_000, Button::Left, at(201, 199));
        click(&mut p, 1_300_000, Button::Left, at(201, 199));
        click(&mut p, 3_000_000, Button::Right, at(300, 300));
        p.handle(Input::Button {
            ts: 4_000_000,
            button: Button::Left,
            down: true,
            at: at(10, 10),
        });
        p.handle(Input::Button {
            ts: 4_500_000,
            button: Button::Left,
            down: false,
            at: at(110, 60),
        });
        let ev = p.drain();
        assert_eq!(
            kinds(&ev),
            vec![
                EventKind::Focus,
                EventKind::Click,
                EventKind::DoubleClick,
                EventKind::Click,
                EventKind::RightClick,
                EventKind::Drag
            ]
        );
        assert_eq!(ev[5].attrs["to_x"], "110");
        assert_eq!(ev[5].attrs["to_wy"], "10");
    }

    #[test]
    fn wheel_notches_become_one_scroll() {
        let mut p = pipeline("");
        p.handle(Input::Focus {
            ts: 1,
            window: Some(win(1, "firefox", "News")),
        });
        for i in 0..5 {
            p.handle(Input::Wheel {
                ts: 1_000_000 + i * 100_000,
                dx: 0,
                dy: -1,
                at: at(400, 400),
            });
        }
        p.tick(1_300_000);
        assert_eq!(p.drain().len(), 1, "the gesture is still going on");
        p.tick(2_000_000);
        let ev = p.drain();
        assert_eq!(kinds(&ev), vec![EventKind::Scroll]);
        assert_eq!(ev[0].attrs["dy"], "-5");
        assert_eq!(ev[0].ts, 1_000_000);
    }

    #[test]
    fn denied_app_leaves_only_time_in_another_app() {
        let mut p = pipeline("text: plain\napps:\n  deny: [keepassxc]\n");
        p.handle(Input::Focus {
            ts: 1,
            window: Some(win(1, "xterm", "bash")),
        });
        p.handle(Input::Focus {
            ts: 1_000_000,
            window: Some(win(2, "keepassxc", "Passwords.kdbx - KeePassXC")),
        });
        click(&mut p, 1_500_000, Button::Left, at(500, 500));
        let t = typed(&mut p, 2_000_000, "topsecret");
        key(&mut p, t, Key::Enter, true);
        p.handle(Input::Wheel {
            ts: t + 1,
            dx: 0,
            dy: 1,
            at: at(500, 500),
        });
        p.handle(Input::Title {
            title: "Other.kdbx - KeePassXC".into(),
        });
        key(&mut p, t + 2, Key::Ctrl, true);
        assert_eq!(
            key(&mut p, t + 3, Key::Char('c'), true),
            None,
            "no clipboard read in a denied app"
        );
        key(&mut p, t + 4, Key::Ctrl, false);
        p.handle(Input::Focus {
            ts: 9_000_000,
            window: Some(win(1, "xterm", "bash")),
        });
        p.tick(9_100_000);
        let ev = p.drain();
        assert_eq!(
            kinds(&ev),
            vec![EventKind::Focus, EventKind::Focus, EventKind::Focus]
        );
        let other = &ev[1];
        assert_eq!(other.app, OTHER_APP);
        assert_eq!(other.window, "");
        assert!(
            other.x.is_none()
                && other.wx.is_none()
                && other.text.is_none()
                && other.value_hash.is_none()
        );
        assert!(other.attrs.is_empty());
        assert_eq!(
            ev[2].ts - ev[1].ts,
            8_000_000,
            "the time spent there is all that is kept"
        );
        let dump = format!("{ev:?}");
        assert!(!dump.contains("topsecret") && !dump.contains("kdbx") && !dump.contains("keepass"));
    }

    #[test]
    fn allow_list_records_only_listed_apps() {
        let mut p = pipeline("apps:\n  allow: [XTERM]\n");
        p.handle(Input::Focus {
            ts: 1,
            window: Some(win(1, "gedit", "secret plans")),
        });
        click(&mut p, 10, Button::Left, at(1, 1));
        p.handle(Input::Focus {
            ts: 20,
            window: Some(win(2, "xterm", "bash")),
        });
        click(&mut p, 30, Button::Left, at(1, 1));
        let ev = p.drain();
        assert_eq!(
            kinds(&ev),
            vec![EventKind::Focus, EventKind::Focus, EventKind::Click]
        );
        assert_eq!(ev[0].app, OTHER_APP);
        assert_eq!(ev[2].app, "xterm");
    }

    #[test]
    fn titles_are_redacted_and_password_windows_keep_no_text() {
        let mut p = pipeline("text: plain\n");
        p.handle(Input::Focus {
            ts: 1,
            window: Some(win(1, "xterm", "mail to bob@example.com")),
        });
        typed(&mut p, 10, "hi bob@example.com");
        p.handle(Input::Focus {
            ts: 5_000_000,
            window: Some(win(2, "xterm", "Password prompt")),
        });
        let t = typed(&mut p, 6_000_000, "hunter2");
        key(&mut p, t, Key::Enter, true);
        let ev = p.drain();
        assert_eq!(ev[0].window, "mail to <email>");
        assert_eq!(ev[1].text.as_deref(), Some("hi <email>"));
        let pw = ev
            .iter()
            .find(|e| e.kind == EventKind::Type && e.window == "Password prompt")
            .unwrap();
        assert_eq!((pw.text.as_deref(), pw.value_hash), (None, None));
    }

    #[test]
    fn clipboard_shortcuts_become_copy_and_paste_with_filtered_text() {
        let mut p = pipeline("text: plain\n");
        p.handle(Input::Focus {
            ts: 1,
            window: Some(win(1, "gedit", "notes")),
        });
        key(&mut p, 10, Key::Ctrl, true);
        assert_eq!(
            key(&mut p, 20, Key::Char('c'), true),
            Some(ClipboardRequest::Copy)
        );
        p.handle(Input::Clipboard {
            text: Some("card 4111 1111 1111 1111".into()),
            source: Some(win(1, "gedit", "notes")),
        });
        assert_eq!(
            key(&mut p, 30, Key::Char('v'), true),
            Some(ClipboardRequest::Paste)
        );
        p.handle(Input::Clipboard {
            text: None,
            source: None,
        });
        let ev = p.drain();
        assert_eq!(
            kinds(&ev),
            vec![EventKind::Focus, EventKind::Copy, EventKind::Paste]
        );
        assert_eq!(ev[1].text.as_deref(), Some("card <card>"));
        assert_eq!(ev[1].attrs["keys"], "ctrl+c");
        assert!(ev[1].value_hash.is_some());
        assert_eq!((ev[2].text.as_deref(), ev[2].value_hash), (None, None));
        assert!(!format!("{ev:?}").contains("4111"));
    }

    #[test]
    fn text_copied_in_a_denied_app_is_not_kept_where_it_is_pasted() {
        let mut p = pipeline("text: plain\napps:\n  deny: [keepassxc]\n");
        p.handle(Input::Focus {
            ts: 1,
            window: Some(win(1, "firefox", "Shop")),
        });
        key(&mut p, 10, Key::Ctrl, true);
        assert_eq!(
            key(&mut p, 20, Key::Char('v'), true),
            Some(ClipboardRequest::Paste)
        );
        p.handle(Input::Clipboard {
            text: Some("correct horse".into()),
            source: Some(win(7, "keepassxc", "db.kdbx")),
        });
        let ev = p.drain();
        assert_eq!(kinds(&ev), vec![EventKind::Focus, EventKind::Paste]);
        assert_eq!((ev[1].text.as_deref(), ev[1].value_hash), (None, None));
    }

    #[test]
    fn idle_starts_after_the_gap_and_ends_at_the_next_input() {
        let mut p = pipeline("idle_after_secs: 60\n");
        p.handle(Input::Focus {
            ts: 1_000_000,
            window: Some(win(1, "xterm", "bash")),
        });
        p.tick(30_000_000);
        p.tick(61_000_000);
        p.tick(90_000_000);
        p.handle(Input::Move { ts: 100_000_000 });
        let ev = p.drain();
        assert_eq!(
            kinds(&ev),
            vec![EventKind::Focus, EventKind::IdleStart, EventKind::IdleEnd]
        );
        assert_eq!(ev[1].ts, 61_000_000);
        assert_eq!(ev[2].ts, 100_000_000);
    }

    #[test]
    fn pause_hotkey_is_not_recorded_and_nothing_is_captured_while_paused() {
        let mut p = pipeline("text: plain\npause_hotkey: Ctrl+Alt+P\n");
        p.handle(Input::Focus {
            ts: 1,
            window: Some(win(1, "xterm", "bash")),
        });
        let hotkey = |p: &mut Pipeline, ts| {
            key(p, ts, Key::Ctrl, true);
            key(p, ts + 1, Key::Alt, true);
            key(p, ts + 2, Key::Char('p'), true);
            key(p, ts + 3, Key::Char('p'), false);
            key(p, ts + 4, Key::Alt, false);
            key(p, ts + 5, Key::Ctrl, false);
        };
        typed(&mut p, 100, "before");
        hotkey(&mut p, 1_000_000);
        assert!(p.paused());
        typed(&mut p, 2_000_000, "private");
        click(&mut p, 3_000_000, Button::Left, at(5, 5));
        hotkey(&mut p, 4_000_000);
        assert!(!p.paused());
        typed(&mut p, 5_000_000, "after");
        p.finish();
        let ev = p.drain();
        assert_eq!(
            kinds(&ev),
            vec![
                EventKind::Focus,
                EventKind::Type,
                EventKind::IdleStart,
                EventKind::IdleEnd,
                EventKind::Type
            ]
        );
        assert_eq!(ev[1].text.as_deref(), Some("before"));
        assert_eq!(ev[2].attrs["reason"], "paused");
        assert_eq!(ev[4].text.as_deref(), Some("after"));
        assert!(!format!("{ev:?}").contains("private"));
        assert!(!ev.iter().any(|e| e.kind == EventKind::Shortcut));
    }

    fn entry(name: &str) -> Answer {
        Answer::Found {
            element: Element {
                role: Some("entry".into()),
                name: Some(name.into()),
                id: Some(name.to_lowercase().replace(' ', "_")),
                path: Some(format!("frame 'Form' / entry '{name}'[0]")),
            },
            password: false,
        }
    }

    fn with_pid(mut w: WindowInfo, pid: u32) -> WindowInfo {
        w.pid = Some(pid);
        w
    }

    #[test]
    fn clicks_and_typed_runs_carry_the_element_their_lookup_answered() {
        let mut p = pipeline("text: plain\n");
        p.set_elements(true);
        p.handle(Input::Focus {
            ts: 1_000_000,
            window: Some(with_pid(win(1, "chromium", "Form"), 42)),
        });
        click(&mut p, 2_000_000, Button::Left, at(300, 200));
        let lookups = p.take_lookups();
        assert_eq!(lookups.len(), 1);
        assert_eq!(lookups[0].target, Target::At { x: 300, y: 200 });
        assert_eq!(lookups[0].pid, Some(42));
        // The click waits for its element; the focus event before it does not.
        assert_eq!(kinds(&p.drain()), vec![EventKind::Focus]);
        p.handle(Input::Element {
            id: lookups[0].id,
            answer: entry("First name"),
        });
        let t = typed(&mut p, 2_500_000, "Ann");
        let run = p.take_lookups();
        assert_eq!(run.len(), 1, "one lookup per run, not per key");
        assert_eq!(run[0].target, Target::Focused);
        assert_eq!(
            run[0].focus_moved_at, None,
            "typing right after a click goes where the click went"
        );
        p.handle(Input::Element {
            id: run[0].id,
            answer: entry("First name"),
        });
        key(&mut p, t, Key::Tab, true);
        typed(&mut p, t + 100_000, "Lee");
        let second = p.take_lookups();
        assert_eq!(second.len(), 1, "the run after Tab asks again");
        assert_eq!(
            second[0].focus_moved_at,
            Some(t),
            "Tab may have moved the focus"
        );
        p.handle(Input::Element {
            id: second[0].id,
            answer: entry("Last name"),
        });
        p.finish();
        let ev = p.drain();
        assert_eq!(
            kinds(&ev),
            vec![
                EventKind::Click,
                EventKind::Type,
                EventKind::Shortcut,
                EventKind::Type
            ]
        );
        assert_eq!(
            ev[0].element.as_ref().unwrap().name.as_deref(),
            Some("First name")
        );
        assert_eq!(
            ev[1].element.as_ref().unwrap().id.as_deref(),
            Some("first_name")
        );
        assert_eq!(ev[1].text.as_deref(), Some("Ann"));
        assert_eq!(
            ev[3].element.as_ref().unwrap().name.as_deref(),
            Some("Last name")
        );
        assert_eq!(ev[3].text.as_deref(), Some("Lee"));
        assert!(ev[2].element.is_none());
        let stats = p.element_stats();
        assert_eq!((stats.clicks, stats.clicks_with_element), (1, 1));
        assert_eq!((stats.runs, stats.runs_with_element), (2, 2));
    }

    #[test]
    fn an_unanswered_lookup_holds_its_event_only_until_the_wait_is_over() {
        let mut p = pipeline("text: plain\n");
        p.set_elements(true);
        p.handle(Input::Focus {
            ts: 1_000_000,
            window: Some(win(1, "xterm", "bash")),
        });
        click(&mut p, 2_000_000, Button::Left, at(10, 10));
        click(&mut p, 2_100_000, Button::Right, at(50, 50));
        assert_eq!(p.drain().len(), 1, "both clicks wait");
        assert_eq!(p.next_deadline(), Some(2_000_000 + ELEMENT_WAIT_US));
        p.tick(2_000_000 + ELEMENT_WAIT_US - 1);
        assert!(p.drain().is_empty());
        p.tick(2_000_000 + ELEMENT_WAIT_US);
        let ev = p.drain();
        assert_eq!(
            kinds(&ev),
            vec![EventKind::Click],
            "the later click waits for its own time"
        );
        assert!(ev[0].element.is_none());
        p.tick(2_100_000 + ELEMENT_WAIT_US);
        assert_eq!(kinds(&p.drain()), vec![EventKind::RightClick]);
        assert_eq!(p.element_stats().clicks_with_element, 0);
    }

    #[test]
    fn a_password_field_keeps_no_text_and_a_silent_app_is_named_once() {
        let mut p = pipeline("text: plain\npassword:\n  elements: ['^never$']\n");
        p.set_elements(true);
        p.handle(Input::Focus {
            ts: 1_000_000,
            window: Some(win(1, "form.py", "Customer form")),
        });
        typed(&mut p, 2_000_000, "hunter2");
        let l = p.take_lookups();
        p.handle(Input::Element {
            id: l[0].id,
            answer: Answer::Found {
                element: Element {
                    role: Some("password text".into()),
                    name: Some("Secret".into()),
                    ..Element::default()
                },
                password: false,
            },
        });
        p.finish();
        let ev = p.drain();
        let run = ev.iter().find(|e| e.kind == EventKind::Type).unwrap();
        assert_eq!((run.text.as_deref(), run.value_hash), (None, None));
        assert!(!format!("{ev:?}").contains("hunter2"));

        let mut p = pipeline("text: plain\n");
        p.set_elements(true);
        p.handle(Input::Focus {
            ts: 1_000_000,
            window: Some(win(1, "tk", "Legacy")),
        });
        for i in 0..3 {
            click(&mut p, 2_000_000 + i * 1_000_000, Button::Left, at(5, 5));
            for l in p.take_lookups() {
                p.handle(Input::Element {
                    id: l.id,
                    answer: Answer::Nothing,
                });
            }
        }
        assert_eq!(p.drain().len(), 4);
        let notices = p.take_notices();
        assert_eq!(notices.len(), 1, "{notices:?}");
        assert!(notices[0].contains("tk"));
    }

    #[test]
    fn without_elements_nothing_is_looked_up_or_held() {
        let mut p = pipeline("text: plain\n");
        p.handle(Input::Focus {
            ts: 1,
            window: Some(win(1, "xterm", "bash")),
        });
        click(&mut p, 10, Button::Left, at(1, 1));
        typed(&mut p, 20, "ls");
        p.finish();
        assert!(p.take_lookups().is_empty());
        assert_eq!(p.drain().len(), 3);
    }

    #[test]
    fn element_names_get_the_title_redaction() {
        let mut p = pipeline("text: plain\n");
        p.set_elements(true);
        p.handle(Input::Focus {
            ts: 1,
            window: Some(win(1, "thunderbird", "Inbox")),
        });
        click(&mut p, 10, Button::Left, at(1, 1));
        let l = p.take_lookups();
        p.handle(Input::Element {
            id: l[0].id,
            answer: Answer::Found {
                element: Element {
                    role: Some("table cell".into()),
                    name: Some("bob@example.com".into()),
                    path: Some("frame 'Inbox' / table cell 'bob@example.com'[3]".into()),
                    ..Element::default()
                },
                password: false,
            },
        });
        let ev = p.drain();
        let el = ev[1].element.as_ref().unwrap();
        assert_eq!(el.name.as_deref(), Some("<email>"));
        assert!(!el.path.as_deref().unwrap().contains("bob@"));
    }
}
