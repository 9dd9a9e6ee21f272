//! The desktop as taskmine sees it: UI elements through the accessibility tree (AT-SPI over
//! D-Bus). The recorder asks it which element a click or typed run targeted; replay asks it to find
//! a bot step's element again and to read back what was typed. A leaf crate: it knows the event
//! model's [`uilog::Element`] and nothing of capture, mining or bots.
//!
//! ```no_run
//! use std::time::Duration;
//! use desktop::{A11y, WindowQuery};
//!
//! let a11y = A11y::connect()?;
//! // The element under the pointer, as the recorder stores it with a click.
//! if let Some(found) = a11y.element_at(640, 480, Duration::from_millis(20))? {
//!     println!("{:?} at {:?}", found.element, found.extents);
//! }
//! // Replay: the entries named "First name" in the frame titled "Customer form".
//! let window = WindowQuery { pid: None, title: Some("Customer form".into()) };
//! let hits = a11y.find(&window, &|e| e.name.as_deref() == Some("First name"), Duration::from_secs(2))?;
//! for hit in &hits {
//!     println!("{:?} holds {:?}", hit.element.path, a11y.read_text(hit)?);
//! }
//! # Ok::<(), desktop::Error>(())
//! ```
//!
//! How an [`Element`] is filled:
//! - `role`: the AT-SPI role name (`push button`, `entry`, `text`, `password text`, `table cell`);
//!   GTK3 entries say `text`, Chromium's `<input>` says `entry`.
//! - `name`: the accessible name (usually the label).
//! - `id`: the accessible id, or for web content the DOM `id` from the object's attributes.
//! - `path`: from the window's frame down, one `role 'name'[index]` step per level joined by ` / `
//!   (`frame 'Customer form' / filler[0] / text 'First name'[2]`); the frame step has no index, a
//!   step without a name has no quotes, and a `'` or `\` inside a name is escaped with `\`.
//!
//! A hit on a label or a button's text gives the nearest ancestor that can be acted on (it has the
//! Action interface, an interactive role or the editable state): the button, not its label.
//!
//! Every lookup runs under a time budget and caps its depth, because an app may be slow or hung
//! and Chromium answers a hit-test on a leaf with the same leaf forever.
//!
//! `element_at` and `focused` reuse an object's description (role, name, id, path) for up to 3 s
//! after describing it, since the same few fields are hit again and again; extents and states are
//! always read fresh. A name that changed within those seconds shows on the next lookup after.
//! `find` and `read_text` never use it.
//!
//! What it does not do: it never moves the pointer or types (replay does that with its own input
//! library), and it does not listen to accessibility events.

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use atspi::proxy::accessible::AccessibleProxy;
use atspi::proxy::action::ActionProxy;
use atspi::proxy::application::ApplicationProxy;
use atspi::proxy::bus::BusProxy;
use atspi::proxy::collection::CollectionProxy;
use atspi::proxy::component::ComponentProxy;
use atspi::proxy::registry::RegistryProxy;
use atspi::proxy::text::TextProxy;
use atspi::{
    CoordType, Interface, InterfaceSet, MatchType, ObjectMatchRule, ObjectRefOwned, Role,
    SortOrder, State, StateSet,
};
use futures_lite::{future, StreamExt};
use futures_util::future::join_all;
pub use uilog::Element;
use zbus::proxy::CacheProperties;

pub mod x11;

/// The one error type of the desktop crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No accessibility bus: no session bus, no `at-spi-bus-launcher`, or it did not answer.
    #[error("no accessibility bus: {why}")]
    NoBus { why: String },
    /// A lookup did not finish within its budget (a slow or hung app).
    #[error("{what} took longer than its budget of {} ms", budget.as_millis())]
    Timeout {
        what: &'static str,
        budget: Duration,
    },
    /// An accessibility call failed (the object went away, the app closed, a protocol error).
    #[error("accessibility bus: {0}")]
    Bus(String),
    /// The X server could not be reached or answered something unusable ([`x11`]).
    #[error("X11: {0}")]
    X11(String),
}

impl From<zbus::Error> for Error {
    fn from(e: zbus::Error) -> Error {
        Error::Bus(e.to_string())
    }
}

impl From<zbus::fdo::Error> for Error {
    fn from(e: zbus::fdo::Error) -> Error {
        Error::Bus(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where a lookup's time goes, for tuning: with `TASKMINE_A11Y_TRACE` naming a file, every
/// `element_at`/`focused` lookup appends one line to it with its total time, the time of each
/// phase, and per kind of D-Bus call how many were made and their summed time (concurrent calls
/// overlap, so the sums may exceed the total). Off, it costs one atomic load per call.
mod trace {
    use std::cell::RefCell;
    use std::fmt::Write as _;
    use std::future::Future;
    use std::io::Write as _;
    use std::sync::{Mutex, OnceLock};
    use std::time::{Duration, Instant};

    #[derive(Clone, Copy)]
    pub(crate) enum Call {
        AtPoint,
        Extents,
        Role,
        Name,
        State,
        Interfaces,
        Attributes,
        AccessibleId,
        Children,
        Parent,
        Index,
        Matches,
    }
    const KINDS: usize = 12;
    const NAMES: [&str; KINDS] = [
        "at_point", "extents", "role", "name", "state", "ifaces", "attrs", "acc_id", "children",
        "parent", "index", "matches",
    ];

    struct Record {
        start: Instant,
        mark: Instant,
        phases: String,
        calls: [(u32, Duration); KINDS],
    }

    thread_local! {
        static CURRENT: RefCell<Option<Record>> = const { RefCell::new(None) };
    }

    fn sink() -> Option<&'static Mutex<std::fs::File>> {
        static SINK: OnceLock<Option<Mutex<std::fs::File>>> = OnceLock::new();
        SINK.get_or_init(|| {
            let path = std::env::var_os("TASKMINE_A11Y_TRACE")?;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok()
                .map(Mutex::new)
        })
        .as_ref()
    }

    pub(crate) fn begin() {
        if sink().is_some() {
            let now = Instant::now();
            CURRENT.with(|c| {
                *c.borrow_mut() = Some(Record {
                    start: now,
                    mark: now,
                    phases: String::new(),
                    calls: [(0, Duration::ZERO); KINDS],
                })
            });
        }
    }

    /// Ends the phase `name` of the current lookup.
    pub(crate) fn phase(name: &str) {
        CURRENT.with(|c| {
            if let Some(r) = c.borrow_mut().as_mut() {
                let now = Instant::now();
                let _ = write!(
                    r.phases,
                    " {name}={:.2}",
                    (now - r.mark).as_secs_f64() * 1e3
                );
                r.mark = now;
            }
        });
    }

    /// Adds a remark to the current lookup's line.
    pub(crate) fn note(what: &str) {
        CURRENT.with(|c| {
            if let Some(r) = c.borrow_mut().as_mut() {
                let _ = write!(r.phases, " [{what}]");
            }
        });
    }

    pub(crate) fn end(what: &str, outcome: &str) {
        let Some(r) = CURRENT.with(|c| c.borrow_mut().take()) else {
            return;
        };
        let mut line = format!(
            "{what} {:.2}ms {outcome} |{} |",
            r.start.elapsed().as_secs_f64() * 1e3,
            r.phases
        );
        let mut total = 0;
        for (i, (n, t)) in r.calls.iter().enumerate() {
            if *n > 0 {
                total += n;
                let _ = write!(line, " {}={n}/{:.2}", NAMES[i], t.as_secs_f64() * 1e3);
            }
        }
        let _ = writeln!(line, " | calls={total}");
        if let Some(s) = sink() {
            if let Ok(mut f) = s.lock() {
                let _ = f.write_all(line.as_bytes());
            }
        }
    }

    /// Awaits one D-Bus call, counted and timed as `kind` when a lookup is being traced.
    pub(crate) async fn call<T>(kind: Call, f: impl Future<Output = T>) -> T {
        if sink().is_none() {
            return f.await;
        }
        let t = Instant::now();
        let out = f.await;
        let took = t.elapsed();
        CURRENT.with(|c| {
            if let Some(r) = c.borrow_mut().as_mut() {
                r.calls[kind as usize].0 += 1;
                r.calls[kind as usize].1 += took;
            }
        });
        out
    }
}
use trace::Call;

/// A rectangle in screen coordinates (pixels).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rect {
    pub x: i32,
    pub y: i32,
    pub width: i32,
    pub height: i32,
}

impl Rect {
    pub fn contains(&self, x: i32, y: i32) -> bool {
        self.width > 0
            && self.height > 0
            && x >= self.x
            && y >= self.y
            && x < self.x + self.width
            && y < self.y + self.height
    }

    /// The centre, where replay clicks.
    pub fn center(&self) -> (i32, i32) {
        (self.x + self.width / 2, self.y + self.height / 2)
    }
}

/// Where an accessible object lives: the app's unique bus name and the object's path. Valid while
/// the object exists; apps recreate objects, so a handle is for now, not for a bot file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Handle {
    bus: String,
    path: String,
}

impl Handle {
    pub fn bus(&self) -> &str {
        &self.bus
    }
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// An element found on the desktop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Role, name, id and path, as the UI log stores them.
    pub element: Element,
    /// Where it is now, in screen coordinates.
    pub extents: Rect,
    /// A password field (role `password text`, or web content of input type password): its text
    /// must never be stored.
    pub password: bool,
    /// It has the keyboard focus.
    pub focused: bool,
    /// The accessible name of its application (`form.py`, `Chromium`).
    pub app: String,
    /// The process that exposes it, when the bus knows.
    pub pid: Option<u32>,
    pub handle: Handle,
}

/// The window (top-level frame) to search under: the frame of an app with this process id,
/// and/or whose name (the window title) contains `title`. Both `None` means every frame.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowQuery {
    pub pid: Option<u32>,
    pub title: Option<String>,
}

/// What an application on the accessibility bus exposes, for `taskmine doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppInfo {
    /// Its accessible name (`form.py`, `Chromium`).
    pub name: String,
    pub pid: Option<u32>,
    /// Its toolkit (`GTK`, `Chromium`, `Qt`), as it says.
    pub toolkit: String,
    /// Its top-level frames' names (window titles).
    pub windows: Vec<String>,
    /// Elements found below its frames, counted up to [`AppInfo::COUNT_CAP`].
    pub elements: usize,
    /// Web documents with nothing inside: a browser that registered but keeps its pages'
    /// accessibility off (Chromium without `--force-renderer-accessibility`).
    pub empty_documents: usize,
}

impl AppInfo {
    /// Counting stops here: enough to tell an app that exposes its controls from one that doesn't.
    pub const COUNT_CAP: usize = 300;

    /// Whether the app shows its controls: more than its bare frames, and no empty web document.
    pub fn exposes_elements(&self) -> bool {
        self.elements > self.windows.len() && self.empty_documents == 0
    }
}

const REGISTRY: &str = "org.a11y.atspi.Registry";
const ROOT_PATH: &str = "/org/a11y/atspi/accessible/root";
/// Hit-testing deeper than this is a loop, not a tree.
const MAX_DEPTH: usize = 40;
/// How far above a hit a label looks for the control it belongs to.
const MAX_CLIMB: usize = 4;
/// `find` visits at most this many objects: a huge web page must not stall replay.
const MAX_VISIT: usize = 20_000;
/// How long the list of apps and their frames is reused before it is read again.
const FRAMES_FRESH: Duration = Duration::from_millis(1000);

#[derive(Clone)]
struct Frame {
    obj: Obj,
    app: String,
    pid: Option<u32>,
}

#[derive(Default)]
struct Cache {
    frames: Vec<Frame>,
    read_at: Option<Instant>,
    pids: HashMap<String, Option<u32>>,
    /// Recently described objects (bus, path) → their element and whether they are a password
    /// field: users click and type into the same few fields again and again, and describing one
    /// (role, name, id, the path up to the frame) costs most of a lookup's calls.
    described: HashMap<(String, String), Described>,
    /// Ancestors of recently described objects (bus, path) → when their roles, names and indices
    /// were read, the line of objects from it up to the top of its path, and its path (the part
    /// a child's step is appended to). A page's containers outlive many clicks and the climb to
    /// them costs a round trip per level; the line's links are kept, its steps are read again
    /// once older than [`DESCRIBED_FRESH`].
    ancestry: HashMap<(String, String), Ancestry>,
    /// Apps (bus names) whose last hit test answered from the frame straight with the leaf
    /// (Chromium): the next one asks about that answer along with checking it is the leaf.
    flat: HashMap<String, bool>,
    /// The frame (bus, path) the last hit test started from.
    last_frame: Option<(String, String)>,
    /// The frame and the object the last focus lookup found or the last click hit.
    last_focus: Option<((String, String), Obj)>,
    /// The object an app last announced as focused (with [`A11y::watch_focus`]) and when the
    /// announcement came (also by the wall clock, which input events are stamped with).
    announced: Option<((String, String), Instant, SystemTime)>,
    /// [`A11y::watch_focus`] listens.
    watching: bool,
    /// The target of the last click lookup and when that lookup began.
    last_click: Option<((String, String), Instant)>,
}

struct Described {
    at: Instant,
    element: Element,
    password: bool,
    /// Where it was then.
    extents: Rect,
    /// Its parent then: when the description is due again the parent most likely still is, and
    /// the parent's path is read along with the object's own facts.
    parent: Option<Obj>,
}

#[derive(Clone)]
struct Ancestry {
    read_at: Instant,
    line: Vec<Obj>,
    prefix: String,
}

/// What a lookup has read about an object already: describing it does not ask again.
#[derive(Default, Clone, Copy)]
struct Known {
    extents: Option<Rect>,
    state: Option<StateSet>,
}

/// How long a focus lookup after a key that may have moved the focus waits for the app to
/// announce where it went before asking. Chromium announces a focus that Enter or Tab moved
/// before the next key comes; when none comes the key left the focus where it was, and the app,
/// busy with the key for 20–35 ms, answers a question quicker for having been left alone a bit.
pub const FOCUS_SETTLE: Duration = Duration::from_millis(10);

/// What the focus announcements say for a focus lookup.
enum Announced {
    /// The focused element, described moments ago.
    Found(Found),
    /// Current and in the window, but not described lately: the bus is asked.
    Undescribed,
    /// Current, but not in the window asked about.
    Elsewhere,
    /// Nothing announced, or not known to be current.
    Unknown,
}

/// How long a described element is reused. A name or title that changes shows after this.
const DESCRIBED_FRESH: Duration = Duration::from_secs(3);
/// The described-element cache is emptied when it holds this many objects.
const DESCRIBED_MAX: usize = 512;

/// One long-lived connection to the accessibility bus. `Send + Sync`: calls from several threads
/// share the connection (zbus runs its own executor thread and matches replies to calls).
pub struct A11y {
    conn: zbus::Connection,
    /// Shared with the focus-event thread ([`A11y::watch_focus`]).
    cache: Arc<Mutex<Cache>>,
}

impl fmt::Debug for A11y {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("A11y")
            .field("bus", &self.conn.unique_name())
            .finish()
    }
}

/// How long `connect` waits for the session bus and the accessibility bus to answer.
const CONNECT_BUDGET: Duration = Duration::from_secs(3);

impl A11y {
    /// Connects to the accessibility bus: `$AT_SPI_BUS_ADDRESS` when set, else the address the
    /// session bus's `org.a11y.Bus` gives (which starts `at-spi-bus-launcher` when needed).
    pub fn connect() -> Result<A11y> {
        let session = std::env::var("DBUS_SESSION_BUS_ADDRESS").ok();
        A11y::connect_with(session.as_deref())
    }

    /// [`A11y::connect`] through the session bus at `address` (a test's own `dbus-daemon`), or
    /// the environment's session bus when `None`.
    pub fn connect_session(address: &str) -> Result<A11y> {
        A11y::connect_with(Some(address))
    }

    fn connect_with(session_address: Option<&str>) -> Result<A11y> {
        let no_bus = |why: String| Error::NoBus { why };
        let conn = block_on_within(CONNECT_BUDGET, "connecting", async {
            let address = match std::env::var("AT_SPI_BUS_ADDRESS") {
                Ok(a) if !a.is_empty() && session_address.is_none() => a,
                _ => {
                    let session = match session_address {
                        Some(a) => zbus::connection::Builder::address(a)?.build().await,
                        None => zbus::Connection::session().await,
                    }
                    .map_err(|e| {
                        no_bus(format!(
                            "no session bus ({e}); is DBUS_SESSION_BUS_ADDRESS set?"
                        ))
                    })?;
                    let bus = BusProxy::new(&session).await?;
                    bus.get_address().await.map_err(|e| {
                        no_bus(format!(
                            "the session bus has no org.a11y.Bus ({e}); install at-spi2-core"
                        ))
                    })?
                }
            };
            let conn = zbus::connection::Builder::address(address.as_str())
                .map_err(|e| no_bus(format!("bad address {address:?}: {e}")))?
                .build()
                .await
                .map_err(|e| no_bus(format!("cannot connect to {address}: {e}")))?;
            Ok(conn)
        })
        .map_err(|e| match e {
            Error::Timeout { .. } => no_bus("the bus did not answer within 3 s".into()),
            Error::Bus(why) => no_bus(why),
            other => other,
        })?;
        let a11y = A11y {
            conn,
            cache: Arc::new(Mutex::new(Cache::default())),
        };
        // The registry answering is what makes the bus usable.
        block_on_within(CONNECT_BUDGET, "reading the registry", async {
            a11y.obj(REGISTRY, ROOT_PATH).children().await
        })
        .map_err(|e| no_bus(format!("the registry does not answer: {e}")))?;
        Ok(a11y)
    }

    /// Listens for the apps' focus announcements (`object:state-changed:focused`) on a thread of
    /// its own, so that [`A11y::focused_in`] can answer without asking anyone when the announced
    /// object was described moments ago. That matters in Chromium, whose first answer after a key
    /// press takes 20–35 ms whatever is asked, and typing is when the recorder asks for the focus.
    /// Apps emit only the events someone registered for, so this costs them and us one signal
    /// per focus change.
    pub fn watch_focus(&self) -> Result<()> {
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .interface("org.a11y.atspi.Event.Object")?
            .member("StateChanged")?
            .arg(0, "focused")?
            .build();
        let mut stream = block_on_within(CONNECT_BUDGET, "listening for focus changes", async {
            let stream = zbus::MessageStream::for_match_rule(rule, &self.conn, Some(64)).await?;
            RegistryProxy::new(&self.conn)
                .await?
                .register_event("object:state-changed:focused")
                .await?;
            Ok(stream)
        })?;
        if let Ok(mut c) = self.cache.lock() {
            c.watching = true;
        }
        let cache = Arc::downgrade(&self.cache);
        std::thread::Builder::new()
            .name("focus-events".into())
            .spawn(move || {
                while let Some(msg) = async_io::block_on(stream.next()) {
                    let Some(cache) = cache.upgrade() else { return };
                    let Ok(event) = msg.map_err(drop).and_then(|m| {
                        atspi::events::object::StateChangedEvent::try_from(&m).map_err(drop)
                    }) else {
                        continue;
                    };
                    let Some(bus) = event.item.name_as_str() else {
                        continue;
                    };
                    if event.state != State::Focused {
                        continue;
                    }
                    let key = (bus.to_owned(), event.item.path_as_str().to_owned());
                    let Ok(mut c) = cache.lock() else { return };
                    if event.enabled {
                        c.announced = Some((key, Instant::now(), SystemTime::now()));
                    } else if c.announced.as_ref().is_some_and(|(k, _, _)| *k == key) {
                        c.announced = None;
                    }
                }
                // The bus is gone: what was announced last is no longer news of the focus.
                if let Some(Ok(mut c)) = cache.upgrade().as_ref().map(|c| c.lock()) {
                    c.watching = false;
                    c.announced = None;
                }
            })
            .map_err(|e| {
                if let Ok(mut c) = self.cache.lock() {
                    c.watching = false;
                }
                Error::Bus(format!("cannot start the focus-event thread: {e}"))
            })?;
        Ok(())
    }

    /// The object last announced as focused, when [`A11y::watch_focus`] listens and an app has
    /// announced one (and not taken it back).
    pub fn announced_focus(&self) -> Option<Handle> {
        let c = self.cache.lock().ok()?;
        c.announced.as_ref().map(|((bus, path), _, _)| Handle {
            bus: bus.clone(),
            path: path.clone(),
        })
    }

    /// The focused element as announced, answered without a call. The announcement must be
    /// current: a click or a key (`moved_at`) moves the focus and its announcement may still be on
    /// the way, so one older than the last click is trusted only about the clicked object, and one
    /// older than `moved_at` not at all. It must lie in a frame `window` names (by pid: a title
    /// would need asking), and have been described moments ago.
    fn announced_in(&self, window: &WindowQuery, moved_at: Option<SystemTime>) -> Announced {
        if window.title.is_some() {
            return Announced::Unknown;
        }
        let Ok(c) = self.cache.lock() else {
            return Announced::Unknown;
        };
        let Some((key, at, wall)) = c.announced.as_ref() else {
            return Announced::Unknown;
        };
        if let Some((clicked, clicked_at)) = &c.last_click {
            if clicked != key && at < clicked_at {
                return Announced::Unknown;
            }
        }
        if moved_at.is_some_and(|t| *wall < t) {
            return Announced::Unknown;
        }
        let Some(frame) = c
            .frames
            .iter()
            .find(|f| f.obj.bus == key.0 && (window.pid.is_none() || f.pid == window.pid))
        else {
            return Announced::Elsewhere;
        };
        let Some(d) = c
            .described
            .get(key)
            .filter(|d| d.at.elapsed() < DESCRIBED_FRESH)
        else {
            return Announced::Undescribed;
        };
        Announced::Found(Found {
            element: d.element.clone(),
            extents: d.extents,
            password: d.password,
            focused: true,
            app: frame.app.clone(),
            pid: frame.pid,
            handle: Handle {
                bus: key.0.clone(),
                path: key.1.clone(),
            },
        })
    }

    /// [`A11y::announced_in`], waiting up to `settle` for an announcement when the one at hand is
    /// older than `moved_at`: the app announces where a key moved the focus a few milliseconds
    /// after the key, and waiting for that costs no calls.
    fn announced_after(
        &self,
        window: &WindowQuery,
        moved_at: Option<SystemTime>,
        settle: Duration,
    ) -> Option<Found> {
        let start = Instant::now();
        loop {
            match self.announced_in(window, moved_at) {
                Announced::Found(f) => return Some(f),
                Announced::Unknown if moved_at.is_some() && start.elapsed() < settle => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                _ => return None,
            }
        }
    }

    /// The element at a screen point, or `None` when no frame on the bus covers it.
    pub fn element_at(&self, x: i32, y: i32, budget: Duration) -> Result<Option<Found>> {
        self.element_at_in(&WindowQuery::default(), x, y, budget)
    }

    /// [`A11y::element_at`] among the frames `window` names (the recorder knows the window's pid,
    /// which spares asking every app).
    pub fn element_at_in(
        &self,
        window: &WindowQuery,
        x: i32,
        y: i32,
        budget: Duration,
    ) -> Result<Option<Found>> {
        trace::begin();
        let found = block_on_within(budget, "element lookup", async {
            let (frames, stale) = self.listed_frames(window).await?;
            trace::phase("frames");
            if !stale {
                return self.element_among(&frames, x, y).await;
            }
            // The list of frames is due to be read again: that goes on beside the lookup among
            // the frames listed before, whose answer stands unless the window's frames changed.
            let (fresh, found) =
                future::zip(self.frames(window), self.element_among(&frames, x, y)).await;
            let fresh = fresh?;
            if same_frames(&fresh, &frames) {
                found
            } else {
                self.element_among(&fresh, x, y).await
            }
        });
        trace::phase("describe");
        trace::end("at", outcome(&found));
        found
    }

    /// The accessible that has the keyboard focus, in the active frame (or the frames `window`
    /// names).
    pub fn focused(&self, budget: Duration) -> Result<Option<Found>> {
        self.focused_in(&WindowQuery::default(), budget)
    }

    /// [`A11y::focused`] among the frames `window` names.
    pub fn focused_in(&self, window: &WindowQuery, budget: Duration) -> Result<Option<Found>> {
        self.focused_since(window, None, budget)
    }

    /// [`A11y::focused_in`] when a key pressed at `moved_at` (Tab, Enter, a shortcut) may have
    /// moved the focus: with [`A11y::watch_focus`] on, a focus announced before that key is not
    /// taken for the answer, and one announced after it is waited for a moment
    /// ([`FOCUS_SETTLE`]) before the bus is asked.
    pub fn focused_since(
        &self,
        window: &WindowQuery,
        moved_at: Option<SystemTime>,
        budget: Duration,
    ) -> Result<Option<Found>> {
        trace::begin();
        let start = Instant::now();
        let watching = self.cache.lock().is_ok_and(|c| c.watching);
        let settle = if watching {
            FOCUS_SETTLE.min(budget)
        } else {
            Duration::ZERO
        };
        if let Some(found) = self.announced_after(window, moved_at, settle) {
            trace::phase("announced");
            trace::end("focus", "found");
            return Ok(Some(found));
        }
        trace::phase("settle");
        let budget = budget.saturating_sub(start.elapsed());
        let found = block_on_within(budget, "focus lookup", async {
            let (frames, stale) = self.listed_frames(window).await?;
            trace::phase("frames");
            if !stale {
                return self.focused_among(&frames).await;
            }
            let (fresh, found) =
                future::zip(self.frames(window), self.focused_among(&frames)).await;
            let fresh = fresh?;
            if same_frames(&fresh, &frames) {
                found
            } else {
                self.focused_among(&fresh).await
            }
        });
        trace::phase("describe");
        trace::end("focus", outcome(&found));
        found
    }

    /// Every element under the frames `window` names for which `matches` holds, in tree order
    /// (breadth first). `matches` sees role, name, id and path.
    pub fn find(
        &self,
        window: &WindowQuery,
        matches: &dyn Fn(&Element) -> bool,
        budget: Duration,
    ) -> Result<Vec<Found>> {
        block_on_within(budget, "element search", async {
            let frames = self.frames(window).await?;
            let mut hits = Vec::new();
            for frame in &frames {
                let root = frame.obj.summary(None).await?;
                let mut level = vec![(frame.obj.clone(), root.step(None))];
                let mut visited = 0;
                while !level.is_empty() && visited < MAX_VISIT {
                    visited += level.len();
                    let children = join_all(level.iter().map(|(o, _)| o.children())).await;
                    let mut next = Vec::new();
                    for ((_, path), kids) in level.iter().zip(children) {
                        // An object that vanished mid-walk takes its subtree with it; the rest stands.
                        let Ok(kids) = kids else { continue };
                        let objs: Vec<Obj> = kids.iter().filter_map(|r| self.obj_ref(r)).collect();
                        let sums = join_all(
                            objs.iter()
                                .enumerate()
                                .map(|(i, o)| o.summary(Some(i as i32))),
                        )
                        .await;
                        for (o, s) in objs.into_iter().zip(sums) {
                            let Ok(s) = s else { continue };
                            let p = format!("{path} / {}", s.step(s.index));
                            let element = s.element(&p);
                            if matches(&element) {
                                hits.push(self.describe_known(&o, frame, element, &s).await?);
                            }
                            next.push((o, p));
                        }
                    }
                    level = next;
                }
            }
            Ok(hits)
        })
    }

    /// The element's text (Text interface), or `None` when it has none.
    pub fn read_text(&self, found: &Found) -> Result<Option<String>> {
        block_on_within(Duration::from_secs(2), "reading text", async {
            let obj = self.obj(&found.handle.bus, &found.handle.path);
            if !obj.interfaces().await?.contains(Interface::Text) {
                return Ok(None);
            }
            let text = obj.text_proxy().await?;
            let n = text.character_count().await?;
            Ok(Some(text.get_text(0, n).await?))
        })
    }

    /// The element's extents now (it may have moved since it was found).
    pub fn extents(&self, found: &Found) -> Result<Rect> {
        block_on_within(Duration::from_secs(2), "reading extents", async {
            self.obj(&found.handle.bus, &found.handle.path)
                .extents()
                .await
        })
    }

    /// Gives the element the keyboard focus. `false` when the app refused.
    pub fn grab_focus(&self, found: &Found) -> Result<bool> {
        block_on_within(Duration::from_secs(2), "focusing", async {
            let obj = self.obj(&found.handle.bus, &found.handle.path);
            Ok(obj.component().await?.grab_focus().await?)
        })
    }

    /// The names of the element's actions (`click`, `press`, `activate`), empty without the Action
    /// interface.
    pub fn actions(&self, found: &Found) -> Result<Vec<String>> {
        block_on_within(Duration::from_secs(2), "reading actions", async {
            let obj = self.obj(&found.handle.bus, &found.handle.path);
            if !obj.interfaces().await?.contains(Interface::Action) {
                return Ok(Vec::new());
            }
            action_names(&obj.action_proxy().await?).await
        })
    }

    /// Performs the element's action named `name`. `false` when it has no such action or the app
    /// refused.
    pub fn do_action(&self, found: &Found, name: &str) -> Result<bool> {
        block_on_within(Duration::from_secs(2), "acting", async {
            let obj = self.obj(&found.handle.bus, &found.handle.path);
            if !obj.interfaces().await?.contains(Interface::Action) {
                return Ok(false);
            }
            let proxy = obj.action_proxy().await?;
            let actions = action_names(&proxy).await?;
            match actions.iter().position(|a| a == name) {
                Some(i) => Ok(proxy.do_action(i as i32).await?),
                None => Ok(false),
            }
        })
    }

    /// The applications on the bus and what they expose.
    pub fn apps(&self) -> Result<Vec<AppInfo>> {
        block_on_within(Duration::from_secs(10), "listing apps", async {
            let root = self.obj(REGISTRY, ROOT_PATH);
            let mut apps = Vec::new();
            for app_ref in root.children().await? {
                let Some(app) = self.obj_ref(&app_ref) else {
                    continue;
                };
                // An app that quit between the listing and now is simply not there.
                let Ok(name) = app.name().await else { continue };
                let toolkit = match app.application().await {
                    Ok(a) => a.toolkit_name().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                let pid = self.pid_of(&app.bus).await;
                let frames: Vec<Obj> = app
                    .children()
                    .await
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|r| self.obj_ref(r))
                    .collect();
                let mut info = AppInfo {
                    name,
                    pid,
                    toolkit,
                    windows: Vec::new(),
                    elements: 0,
                    empty_documents: 0,
                };
                for f in &frames {
                    info.windows.push(f.name().await.unwrap_or_default());
                }
                count_elements(&frames, &mut info).await;
                apps.push(info);
            }
            Ok(apps)
        })
    }

    fn obj(&self, bus: &str, path: &str) -> Obj {
        Obj {
            conn: self.conn.clone(),
            bus: bus.to_owned(),
            path: path.to_owned(),
        }
    }

    fn obj_ref(&self, r: &ObjectRefOwned) -> Option<Obj> {
        if r.is_null() {
            return None;
        }
        Some(self.obj(r.name_as_str()?, r.path_as_str()))
    }

    async fn pid_of(&self, bus: &str) -> Option<u32> {
        if let Some(p) = self.cache.lock().ok()?.pids.get(bus) {
            return *p;
        }
        let pid = async {
            let dbus = zbus::fdo::DBusProxy::new(&self.conn).await.ok()?;
            let name = zbus::names::BusName::try_from(bus).ok()?;
            dbus.get_connection_unix_process_id(name).await.ok()
        }
        .await;
        if let Ok(mut c) = self.cache.lock() {
            c.pids.insert(bus.to_owned(), pid);
        }
        pid
    }

    /// The frames `window` names as last listed, and whether that list is due to be read again;
    /// read now when there is none yet.
    async fn listed_frames(&self, window: &WindowQuery) -> Result<(Vec<Frame>, bool)> {
        let listed = self.cache.lock().ok().and_then(|c| {
            c.read_at
                .map(|t| (c.frames.clone(), t.elapsed() >= FRAMES_FRESH))
        });
        match listed {
            Some((all, stale)) => Ok((self.filter_frames(all, window).await, stale)),
            None => Ok((self.frames(window).await?, false)),
        }
    }

    /// [`A11y::element_at_in`] among `frames`.
    async fn element_among(&self, frames: &[Frame], x: i32, y: i32) -> Result<Option<Found>> {
        let began = Instant::now();
        // The frame of the last lookup (or the only one) likely holds the point again: its hit
        // test starts while the frames' extents and states are read, one round trip less.
        let last = self.cache.lock().ok().and_then(|c| c.last_frame.clone());
        let guess = match frames {
            [only] => Some(only),
            _ => frames.iter().find(|f| last.as_ref() == Some(&f.obj.key())),
        };
        let (frame, first) = match guess {
            Some(g) => {
                let (frame, first) =
                    future::zip(self.frame_at(frames, x, y), self.at_point(&g.obj, x, y)).await;
                let frame = frame?;
                let hit = frame.as_ref().is_some_and(|f| f.obj.key() == g.obj.key());
                (frame, hit.then_some(first))
            }
            None => (self.frame_at(frames, x, y).await?, None),
        };
        let Some(frame) = frame else {
            return Ok(None);
        };
        if let Ok(mut c) = self.cache.lock() {
            c.last_frame = Some(frame.obj.key());
        }
        trace::phase("frame_at");
        let (chain, leaf_facts) = self.hit_test(&frame.obj, x, y, first).await?;
        let mut hits = Hits {
            chain,
            confirmed: None,
        };
        trace::phase("hit_test");
        let (target, known) = self.actionable(&mut hits, leaf_facts).await?;
        trace::phase("actionable");
        let found = self
            .describe_in(&target, &frame, Some(&mut hits), known)
            .await?;
        // Typing mostly goes where the last click went.
        if let Ok(mut c) = self.cache.lock() {
            c.last_click = Some((target.key(), began));
            c.last_focus = Some((frame.obj.key(), target));
        }
        Ok(Some(found))
    }

    /// [`A11y::focused_in`] among `frames`.
    async fn focused_among(&self, frames: &[Frame]) -> Result<Option<Found>> {
        // Typing mostly goes on in the frame and field of the last lookup: the frame's
        // focus is searched and the field's extents and state are read while the frames' states
        // are, so that the usual lookup is one round trip.
        let last = self.cache.lock().ok().and_then(|c| c.last_focus.clone());
        let guess = match frames {
            [only] => Some(only),
            _ => frames
                .iter()
                .find(|f| last.as_ref().is_some_and(|(k, _)| *k == f.obj.key())),
        };
        let last_obj = last.map(|(_, o)| o);
        let (states, (mut first, field)) = future::zip(
            join_all(frames.iter().map(|f| f.obj.state())),
            future::zip(
                async {
                    match guess {
                        Some(g) => Some(self.focused_below(&g.obj).await),
                        None => None,
                    }
                },
                async {
                    match &last_obj {
                        Some(o) => Some(future::zip(o.extents(), o.state()).await),
                        None => None,
                    }
                },
            ),
        )
        .await;
        trace::phase("states");
        // The active frame first: a focused entry in a background window is not where typing goes.
        let mut order: Vec<&Frame> = Vec::new();
        // Without a window manager no frame is active; the focused object still says so.
        for (f, s) in frames.iter().zip(&states) {
            match s {
                Ok(s) if s.contains(State::Active) => order.insert(0, f),
                Ok(s) if s.contains(State::Showing) => order.push(f),
                _ => {}
            }
        }
        for frame in order {
            let below = match guess {
                Some(g) if g.obj.key() == frame.obj.key() && first.is_some() => {
                    first.take().expect("checked")
                }
                _ => self.focused_below(&frame.obj).await,
            };
            let Some(obj) = below? else { continue };
            trace::phase("matches");
            let mut known = Known::default();
            if let Some((Err(e), _)) = &field {
                trace::note(&format!("extents: {e}"));
            }
            if let (Some(o), Some((extents, Ok(state)))) = (&last_obj, &field) {
                if o.key() == obj.key() {
                    known = Known {
                        extents: extents.as_ref().ok().copied(),
                        state: Some(*state),
                    };
                }
            }
            if let Ok(mut c) = self.cache.lock() {
                c.last_focus = Some((frame.obj.key(), obj.clone()));
            }
            return self.describe_in(&obj, frame, None, known).await.map(Some);
        }
        Ok(None)
    }

    /// The top-level frames of every app, filtered by `window`. The list is reused for a moment:
    /// reading it costs a call per app, and windows come and go far slower than clicks.
    async fn frames(&self, window: &WindowQuery) -> Result<Vec<Frame>> {
        let cached = self.cache.lock().ok().and_then(|c| {
            c.read_at
                .filter(|t| t.elapsed() < FRAMES_FRESH)
                .map(|_| c.frames.clone())
        });
        let all = match cached {
            Some(f) => f,
            None => {
                let f = self.read_frames().await?;
                if let Ok(mut c) = self.cache.lock() {
                    c.frames.clone_from(&f);
                    c.read_at = Some(Instant::now());
                }
                f
            }
        };
        Ok(self.filter_frames(all, window).await)
    }

    async fn filter_frames(&self, all: Vec<Frame>, window: &WindowQuery) -> Vec<Frame> {
        let mut out = Vec::new();
        for f in all {
            if window.pid.is_some() && f.pid != window.pid {
                continue;
            }
            if let Some(t) = &window.title {
                let name = f.obj.name().await.unwrap_or_default();
                if !name.contains(t.as_str()) {
                    continue;
                }
            }
            out.push(f);
        }
        out
    }

    async fn read_frames(&self) -> Result<Vec<Frame>> {
        let root = self.obj(REGISTRY, ROOT_PATH);
        let apps: Vec<Obj> = root
            .children()
            .await?
            .iter()
            .filter_map(|r| self.obj_ref(r))
            .collect();
        let kids = join_all(apps.iter().map(|a| a.children())).await;
        let names = join_all(apps.iter().map(|a| a.name())).await;
        let mut frames = Vec::new();
        for ((app, kids), name) in apps.iter().zip(kids).zip(names) {
            let Ok(kids) = kids else { continue };
            let pid = self.pid_of(&app.bus).await;
            let name = name.unwrap_or_default();
            frames.extend(
                kids.iter()
                    .filter_map(|r| self.obj_ref(r))
                    .map(|obj| Frame {
                        obj,
                        app: name.clone(),
                        pid,
                    }),
            );
        }
        Ok(frames)
    }

    /// The frame that holds the point: the active one when several overlap, else the first
    /// showing one.
    async fn frame_at(&self, frames: &[Frame], x: i32, y: i32) -> Result<Option<Frame>> {
        let extents = join_all(frames.iter().map(|f| f.obj.extents())).await;
        let states = join_all(frames.iter().map(|f| f.obj.state())).await;
        let mut best: Option<(bool, &Frame)> = None;
        for ((f, e), s) in frames.iter().zip(extents).zip(states) {
            let (Ok(e), Ok(s)) = (e, s) else { continue };
            if !e.contains(x, y) || !s.contains(State::Showing) {
                continue;
            }
            let active = s.contains(State::Active);
            if best.is_none_or(|(a, _)| active && !a) {
                best = Some((active, f));
            }
        }
        Ok(best.map(|(_, f)| f.clone()))
    }

    /// What `obj` answers for a hit test at the point: `None` at the bottom (no Component
    /// interface, nothing there, or the object itself, which is how Chromium answers a leaf).
    async fn at_point(&self, obj: &Obj, x: i32, y: i32) -> Result<Option<Obj>> {
        let c = obj.component().await?;
        let Ok(next) = trace::call(
            Call::AtPoint,
            c.get_accessible_at_point(x, y, CoordType::Screen),
        )
        .await
        else {
            return Ok(None);
        };
        Ok(self
            .obj_ref(&next)
            .filter(|n| !(n.bus == obj.bus && n.path == obj.path)))
    }

    /// Hit-tests down from `frame`: the objects from the frame to the deepest one at the point,
    /// and what the deepest one says about itself when that was asked along the way. `first` is
    /// the frame's answer when already asked.
    async fn hit_test(
        &self,
        frame: &Obj,
        x: i32,
        y: i32,
        first: Option<Result<Option<Obj>>>,
    ) -> Result<(Vec<Obj>, Option<Facts>)> {
        let flat = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.flat.get(&frame.bus).copied())
            .unwrap_or(false);
        let mut chain = vec![frame.clone()];
        let mut next = match first {
            Some(answer) => answer?,
            None => self.at_point(frame, x, y).await?,
        };
        let mut facts = None;
        while let Some(n) = next.take() {
            if chain.len() > MAX_DEPTH {
                break;
            }
            chain.push(n);
            let current = chain.last().expect("just pushed");
            // An app that answered the frame's hit test with the leaf last time likely does so
            // again: the leaf is asked about while the hit test is checked at it.
            if flat && chain.len() == 2 {
                let (below, f) = future::zip(self.at_point(current, x, y), current.facts()).await;
                next = below?;
                if next.is_none() {
                    facts = f.ok();
                }
            } else {
                next = self.at_point(current, x, y).await?;
            }
        }
        if let Ok(mut c) = self.cache.lock() {
            c.flat.insert(frame.bus.clone(), chain.len() == 2);
        }
        Ok((chain, facts))
    }

    /// The nearest object at or above the hit that can be acted on, or the hit itself.
    /// With `leaf_facts` (the leaf's, read along the hit test) and a leaf that is the target,
    /// its extents and state come back too.
    async fn actionable(&self, hits: &mut Hits, leaf_facts: Option<Facts>) -> Result<(Obj, Known)> {
        let leaf = hits.leaf().clone();
        let (climb, known) = match leaf_facts {
            Some(f) => (
                acts(f.ifaces, f.role, f.state),
                Known {
                    extents: Some(f.extents),
                    state: Some(f.state),
                },
            ),
            None => (acts_now(&leaf).await?, Known::default()),
        };
        match climb {
            Climb::Here | Climb::Stop => return Ok((leaf, known)),
            Climb::Up => {}
        }
        let leaf = self.actionable_above(hits, leaf).await?;
        Ok((leaf, Known::default()))
    }

    async fn actionable_above(&self, hits: &mut Hits, leaf: Obj) -> Result<Obj> {
        if let Some(line) = hits.line(self).await {
            // The levels above are known: asked about at once.
            let levels: Vec<&Obj> = line.iter().rev().skip(1).take(MAX_CLIMB).collect();
            let facts = join_all(levels.iter().map(|o| acts_now(o))).await;
            for (level, climb) in levels.into_iter().zip(facts) {
                match climb? {
                    Climb::Here => return Ok(level.clone()),
                    Climb::Stop => break,
                    Climb::Up => {}
                }
            }
            return Ok(leaf);
        }
        let mut current = leaf.clone();
        for _ in 0..MAX_CLIMB {
            match self.obj_ref(&current.parent().await?) {
                Some(p) => current = p,
                None => break,
            }
            match acts_now(&current).await? {
                Climb::Here => return Ok(current),
                Climb::Stop => break,
                Climb::Up => {}
            }
        }
        Ok(leaf)
    }

    async fn focused_below(&self, frame: &Obj) -> Result<Option<Obj>> {
        // at-spi2-atk treats a criterion of match type "invalid" as failing, not as absent: the
        // unused criteria are "all of nothing", which everything satisfies.
        let rule = ObjectMatchRule::builder()
            .states([State::Focused], MatchType::All)
            .attributes(HashMap::new(), MatchType::All)
            .roles(&[], MatchType::All)
            .interfaces(InterfaceSet::empty(), MatchType::All)
            .build();
        // A frame without the Collection interface answers with an error: no focus found there.
        let c = frame.collection().await?;
        let Ok(hits) = trace::call(
            Call::Matches,
            c.get_matches(rule, SortOrder::Canonical, 1, true),
        )
        .await
        else {
            return Ok(None);
        };
        Ok(hits.first().and_then(|r| self.obj_ref(r)))
    }

    /// Role, name, id, path, extents and states of `obj`, whose frame is `frame`. A recently
    /// described object costs only its extents and state, and nothing of what `known` holds.
    /// `hits`, when `obj` is at or above a hit test's hits, may spare climbing to the frame (see
    /// [`Self::prefix_of`]).
    async fn describe_in(
        &self,
        obj: &Obj,
        frame: &Frame,
        hits: Option<&mut Hits>,
        known: Known,
    ) -> Result<Found> {
        let key = (obj.bus.clone(), obj.path.clone());
        let (cached, guess) = self
            .cache
            .lock()
            .ok()
            .and_then(|c| {
                let d = c.described.get(&key)?;
                if d.at.elapsed() < DESCRIBED_FRESH {
                    return Some((Some((d.element.clone(), d.password)), None));
                }
                let parent = d
                    .parent
                    .clone()
                    .filter(|p| c.ancestry.contains_key(&p.key()));
                Some((None, parent))
            })
            .unwrap_or((None, None));
        if let Some((element, password)) = cached {
            trace::phase("cached");
            let (extents, state) = future::zip(
                async {
                    match known.extents {
                        Some(e) => Ok(e),
                        None => obj.extents().await,
                    }
                },
                async {
                    match known.state {
                        Some(s) => Ok(s),
                        None => obj.state().await,
                    }
                },
            )
            .await;
            return Ok(Found {
                element,
                extents: extents.unwrap_or_default(),
                password,
                focused: state?.contains(State::Focused),
                app: frame.app.clone(),
                pid: frame.pid,
                handle: Handle {
                    bus: obj.bus.clone(),
                    path: obj.path.clone(),
                },
            });
        }
        trace::phase("miss");
        // Everything the object says about itself, its parent and index and where it is, at once;
        // and the path of the parent it had before, which it most likely still has.
        let ((summary, ((parent, index), (extents, state))), guessed) = future::zip(
            future::zip(
                obj.summary(None),
                future::zip(
                    future::zip(obj.parent(), obj.index_in_parent()),
                    future::zip(obj.extents(), obj.state()),
                ),
            ),
            async {
                match &guess {
                    Some(g) => Some(self.prefix_of(g, &frame.obj, None).await),
                    None => None,
                }
            },
        )
        .await;
        let summary = summary?;
        trace::phase("summary");
        let top =
            is_frame(summary.role) || (obj.path == frame.obj.path && obj.bus == frame.obj.bus);
        let parent = parent
            .ok()
            .and_then(|p| self.obj_ref(&p))
            .filter(|p| p.path != ROOT_PATH && p.bus == obj.bus);
        let path = match &parent {
            // A frame-like object starts its own path; one without a parent in its app is a path.
            _ if top => summary.step(None),
            None => summary.step(None),
            Some(parent) => {
                let prefix = match (guess, guessed) {
                    (Some(g), Some(prefix)) if g.key() == parent.key() => prefix?,
                    _ => self.prefix_of(parent, &frame.obj, hits).await?,
                };
                let index = index.map_err(|e| Error::Bus(e.to_string()))?;
                format!("{prefix} / {}", summary.step(Some(index)))
            }
        };
        trace::phase("path");
        let element = summary.element(&path);
        let found = self.found(obj, frame, element, &summary, extents, state?);
        if let Ok(mut c) = self.cache.lock() {
            if c.described.len() >= DESCRIBED_MAX {
                c.described.clear();
            }
            c.described.insert(
                key,
                Described {
                    at: Instant::now(),
                    element: found.element.clone(),
                    password: found.password,
                    extents: found.extents,
                    parent: if top { None } else { parent },
                },
            );
        }
        Ok(found)
    }

    async fn describe_known(
        &self,
        obj: &Obj,
        frame: &Frame,
        element: Element,
        s: &Summary,
    ) -> Result<Found> {
        let (extents, state) = future::zip(obj.extents(), obj.state()).await;
        Ok(self.found(obj, frame, element, s, extents, state?))
    }

    fn found(
        &self,
        obj: &Obj,
        frame: &Frame,
        element: Element,
        s: &Summary,
        extents: Result<Rect>,
        state: StateSet,
    ) -> Found {
        let input_type = s.attrs.get("input-type").or_else(|| s.attrs.get("type"));
        Found {
            password: s.role == Role::PasswordText
                || input_type.is_some_and(|t| t.eq_ignore_ascii_case("password")),
            focused: state.contains(State::Focused),
            extents: extents.unwrap_or_default(),
            element,
            app: frame.app.clone(),
            pid: frame.pid,
            handle: Handle {
                bus: obj.bus.clone(),
                path: obj.path.clone(),
            },
        }
    }

    /// The path of `parent` as its children's paths begin: from the top frame-like object above
    /// it (or the app's topmost object) down to `parent`, whose step has its index unless it is
    /// the top. The line of objects above is taken from the hit test when it is a line of
    /// parents, else from the cache, else climbed one parent per level; then every level is
    /// described at once. The lines and paths of every level are kept for the next lookups.
    async fn prefix_of(
        &self,
        parent: &Obj,
        frame: &Obj,
        hits: Option<&mut Hits>,
    ) -> Result<String> {
        let key = (parent.bus.clone(), parent.path.clone());
        let cached = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.ancestry.get(&key).cloned());
        let line = match cached {
            Some(a) if a.read_at.elapsed() < DESCRIBED_FRESH => return Ok(a.prefix),
            Some(a) => a.line,
            None => self.line_above(parent, frame, hits).await?,
        };
        trace::phase("climb");
        let (summaries, indices) = future::zip(
            join_all(line.iter().map(|o| o.brief())),
            // The top step has no index; the top of the line is not asked for one.
            join_all(
                line.iter()
                    .take(line.len() - 1)
                    .map(|o| o.index_in_parent()),
            ),
        )
        .await;
        let mut all = Vec::new();
        for s in summaries {
            all.push(s?);
        }
        // The topmost frame-like object starts the path (a frame may hold inner windows).
        let top = all
            .iter()
            .rposition(|s| is_frame(s.role))
            .unwrap_or(all.len() - 1);
        // From the top down: each level's path is the one above plus its own step.
        let now = Instant::now();
        let mut prefixes: Vec<String> = vec![String::new(); top + 1];
        for i in (0..=top).rev() {
            let step = if i == top {
                all[i].step(None)
            } else {
                let index = *indices[i].as_ref().map_err(|e| Error::Bus(e.to_string()))?;
                format!("{} / {}", prefixes[i + 1], all[i].step(Some(index)))
            };
            prefixes[i] = step;
        }
        let prefix = prefixes[0].clone();
        if let Ok(mut c) = self.cache.lock() {
            if c.ancestry.len() >= DESCRIBED_MAX {
                c.ancestry.clear();
            }
            for (i, p) in prefixes.into_iter().enumerate() {
                let o = &line[i];
                c.ancestry.insert(
                    (o.bus.clone(), o.path.clone()),
                    Ancestry {
                        read_at: now,
                        line: line[i..].to_vec(),
                        prefix: p,
                    },
                );
            }
        }
        Ok(prefix)
    }

    /// The objects from `parent` up to the frame (or below the app's root): from the hit test's
    /// chain when it is a line of parents that holds `parent`, else climbed, one parent a level.
    async fn line_above(
        &self,
        parent: &Obj,
        frame: &Obj,
        hits: Option<&mut Hits>,
    ) -> Result<Vec<Obj>> {
        if let Some(h) = hits {
            if let Some(l) = h.line(self).await {
                if let Some(at) = l
                    .iter()
                    .position(|o| o.bus == parent.bus && o.path == parent.path)
                {
                    return Ok(l[..=at].iter().rev().cloned().collect());
                }
            }
        }
        let mut line = vec![parent.clone()];
        if parent.path == frame.path && parent.bus == frame.bus {
            return Ok(line);
        }
        let mut current = parent.clone();
        for _ in 0..MAX_DEPTH {
            let Some(up) = self.obj_ref(&current.parent().await?) else {
                break;
            };
            if up.path == ROOT_PATH || up.bus != parent.bus {
                break;
            }
            line.push(up.clone());
            // The frame the lookup started from is the top: no need to ask above it.
            if up.path == frame.path && up.bus == frame.bus {
                break;
            }
            current = up;
        }
        Ok(line)
    }
}

/// Counts elements below `frames` (breadth first, up to the cap) and empty web documents.
async fn count_elements(frames: &[Obj], info: &mut AppInfo) {
    let mut level: Vec<Obj> = frames.to_vec();
    while !level.is_empty() && info.elements < AppInfo::COUNT_CAP {
        info.elements += level.len();
        let kids = join_all(level.iter().map(|o| o.children())).await;
        let roles = join_all(level.iter().map(|o| o.role())).await;
        let mut next = Vec::new();
        for ((o, kids), role) in level.iter().zip(kids).zip(roles) {
            let kids = kids.unwrap_or_default();
            if matches!(role, Ok(Role::DocumentWeb)) && kids.is_empty() {
                info.empty_documents += 1;
            }
            next.extend(kids.iter().filter(|r| !r.is_null()).filter_map(|r| {
                Some(Obj {
                    conn: o.conn.clone(),
                    bus: r.name_as_str()?.to_owned(),
                    path: r.path_as_str().to_owned(),
                })
            }));
        }
        level = next;
    }
    info.elements = info.elements.min(AppInfo::COUNT_CAP);
}

/// The action names (`click`), asked one by one: `GetActions` gives localized names.
async fn action_names(proxy: &ActionProxy<'_>) -> Result<Vec<String>> {
    let n = proxy.n_actions().await?;
    let names = join_all((0..n).map(|i| proxy.get_name(i))).await;
    Ok(names.into_iter().collect::<Result<_, _>>()?)
}

/// AT-SPI's name of a role, as libatspi and the toolkits spell it: the `atspi` crate's table
/// says `button` where everyone else says `push button`.
fn role_name(role: Role) -> &'static str {
    match role {
        Role::Button => "push button",
        other => other.name(),
    }
}

fn is_frame(role: Role) -> bool {
    matches!(
        role,
        Role::Frame | Role::Window | Role::Dialog | Role::Alert
    )
}

/// Roles a user acts on even when the app gives them no Action interface.
/// What the climb to an actionable object does at one level.
enum Climb {
    /// This object is the target.
    Here,
    /// Go on to the parent.
    Up,
    /// A frame or the app: nothing above is the target.
    Stop,
}

fn acts(ifaces: InterfaceSet, role: Role, state: StateSet) -> Climb {
    if is_frame(role) || role == Role::Application {
        return Climb::Stop;
    }
    // Text leaves are never the target: Chromium gives them a `click-ancestor` action, which is
    // the ancestor's, not theirs.
    let text_leaf = matches!(role, Role::Static | Role::Label);
    if !text_leaf && ifaces.contains(Interface::Action)
        || is_interactive(role)
        || state.contains(State::Editable)
    {
        Climb::Here
    } else {
        Climb::Up
    }
}

/// What a hit test's leaf says about itself: whether it is the target, and where it is.
struct Facts {
    ifaces: InterfaceSet,
    role: Role,
    state: StateSet,
    extents: Rect,
}

async fn acts_now(o: &Obj) -> Result<Climb> {
    let (ifaces, (role, state)) =
        future::zip(o.interfaces(), future::zip(o.role(), o.state())).await;
    Ok(acts(ifaces?, role?, state?))
}

/// The objects a hit test passed through, from the frame down to the deepest one at the point.
struct Hits {
    chain: Vec<Obj>,
    /// Whether each object of `chain` is the parent of the next, once asked.
    confirmed: Option<bool>,
}

impl Hits {
    fn leaf(&self) -> &Obj {
        self.chain.last().expect("the chain starts at the frame")
    }

    /// The chain when it is a line of parents, else `None`: a toolkit's hit test may answer a
    /// deeper descendant than a child, and then the chain is not the path. All parents are asked
    /// at once, one round trip where climbing takes one per level, and only when first needed
    /// (most lookups hit an actionable leaf that was described a moment ago).
    async fn line(&mut self, a11y: &A11y) -> Option<&[Obj]> {
        if self.confirmed.is_none() {
            let parents = join_all(self.chain.iter().skip(1).map(|o| o.parent())).await;
            let ok = self.chain.iter().zip(parents).all(|(above, parent)| {
                parent
                    .ok()
                    .and_then(|p| a11y.obj_ref(&p))
                    .is_some_and(|p| p.bus == above.bus && p.path == above.path)
            });
            self.confirmed = Some(ok);
        }
        self.confirmed
            .unwrap_or(false)
            .then_some(self.chain.as_slice())
    }
}

fn is_interactive(role: Role) -> bool {
    matches!(
        role,
        Role::Button
            | Role::ToggleButton
            | Role::CheckBox
            | Role::RadioButton
            | Role::Entry
            | Role::PasswordText
            | Role::Text
            | Role::ComboBox
            | Role::Link
            | Role::MenuItem
            | Role::CheckMenuItem
            | Role::RadioMenuItem
            | Role::PageTab
            | Role::ListItem
            | Role::TableCell
            | Role::SpinButton
            | Role::Slider
            | Role::TreeItem
            | Role::PushButtonMenu
    )
}

/// What one object says about itself: enough for an [`Element`] and a path step.
#[derive(Debug, Clone)]
struct Summary {
    role: Role,
    role_name: String,
    name: String,
    accessible_id: String,
    attrs: HashMap<String, String>,
    index: Option<i32>,
}

impl Summary {
    /// `role 'name'[index]`.
    fn step(&self, index: Option<i32>) -> String {
        let mut s = self.role_name.clone();
        if !self.name.is_empty() {
            s.push_str(" '");
            for c in self.name.chars() {
                if c == '\'' || c == '\\' {
                    s.push('\\');
                }
                s.push(c);
            }
            s.push('\'');
        }
        if let Some(i) = index {
            s.push_str(&format!("[{i}]"));
        }
        s
    }

    fn element(&self, path: &str) -> Element {
        let some = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
        Element {
            role: some(&self.role_name),
            name: some(&self.name),
            id: some(&self.accessible_id).or_else(|| self.attrs.get("id").and_then(|id| some(id))),
            path: some(path),
        }
    }
}

/// An accessible object: the app's bus name and the object path. Proxies are built per call
/// without property caching, which would cost a `GetAll` and a signal subscription each.
#[derive(Clone)]
struct Obj {
    conn: zbus::Connection,
    bus: String,
    path: String,
}

macro_rules! proxy_fn {
    ($fn:ident, $ty:ident) => {
        async fn $fn(&self) -> Result<$ty<'static>> {
            Ok($ty::builder(&self.conn)
                .destination(self.bus.clone())?
                .path(self.path.clone())?
                .cache_properties(CacheProperties::No)
                .build()
                .await?)
        }
    };
}

impl Obj {
    fn key(&self) -> (String, String) {
        (self.bus.clone(), self.path.clone())
    }

    proxy_fn!(accessible, AccessibleProxy);
    proxy_fn!(component, ComponentProxy);
    proxy_fn!(collection, CollectionProxy);
    proxy_fn!(text_proxy, TextProxy);
    proxy_fn!(action_proxy, ActionProxy);
    proxy_fn!(application, ApplicationProxy);

    async fn children(&self) -> Result<Vec<ObjectRefOwned>> {
        Ok(trace::call(Call::Children, self.accessible().await?.get_children()).await?)
    }
    async fn name(&self) -> Result<String> {
        Ok(trace::call(Call::Name, self.accessible().await?.name()).await?)
    }
    async fn role(&self) -> Result<Role> {
        Ok(trace::call(Call::Role, self.accessible().await?.get_role()).await?)
    }
    async fn state(&self) -> Result<StateSet> {
        Ok(trace::call(Call::State, self.accessible().await?.get_state()).await?)
    }
    async fn interfaces(&self) -> Result<InterfaceSet> {
        Ok(trace::call(Call::Interfaces, self.accessible().await?.get_interfaces()).await?)
    }
    async fn parent(&self) -> Result<ObjectRefOwned> {
        Ok(trace::call(Call::Parent, self.accessible().await?.parent()).await?)
    }
    async fn index_in_parent(&self) -> Result<i32> {
        Ok(trace::call(Call::Index, self.accessible().await?.get_index_in_parent()).await?)
    }
    async fn extents(&self) -> Result<Rect> {
        let c = self.component().await?;
        let (x, y, width, height) =
            trace::call(Call::Extents, c.get_extents(CoordType::Screen)).await?;
        Ok(Rect {
            x,
            y,
            width,
            height,
        })
    }

    /// Interfaces, role, state and extents, asked at once.
    async fn facts(&self) -> Result<Facts> {
        let ((ifaces, role), (state, extents)) = future::zip(
            future::zip(self.interfaces(), self.role()),
            future::zip(self.state(), self.extents()),
        )
        .await;
        Ok(Facts {
            ifaces: ifaces?,
            role: role?,
            state: state?,
            extents: extents?,
        })
    }

    /// Role, name, accessible id and attributes, asked at once. The role's name is AT-SPI's
    /// standard English one (`push button`), the same the toolkits give, without asking.
    async fn summary(&self, index: Option<i32>) -> Result<Summary> {
        let a = self.accessible().await?;
        let ((role, name), (id, attrs)) = future::zip(
            future::zip(
                trace::call(Call::Role, a.get_role()),
                trace::call(Call::Name, a.name()),
            ),
            future::zip(
                trace::call(Call::AccessibleId, a.accessible_id()),
                trace::call(Call::Attributes, a.get_attributes()),
            ),
        )
        .await;
        let role = role?;
        Ok(Summary {
            role,
            role_name: role_name(role).to_owned(),
            name: name?,
            // Older toolkits lack the property; that is an empty id, not a failure.
            accessible_id: id.unwrap_or_default(),
            attrs: attrs.unwrap_or_default(),
            index,
        })
    }

    /// Role and name only: what a path step needs.
    async fn brief(&self) -> Result<Summary> {
        let a = self.accessible().await?;
        let (role, name) = future::zip(
            trace::call(Call::Role, a.get_role()),
            trace::call(Call::Name, a.name()),
        )
        .await;
        let role = role?;
        Ok(Summary {
            role,
            role_name: role_name(role).to_owned(),
            name: name?,
            accessible_id: String::new(),
            attrs: HashMap::new(),
            index: None,
        })
    }
}

/// Whether two lists of frames hold the same frames.
fn same_frames(a: &[Frame], b: &[Frame]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.obj.key() == b.obj.key())
}

fn outcome(found: &Result<Option<Found>>) -> &'static str {
    match found {
        Ok(Some(_)) => "found",
        Ok(None) => "none",
        Err(Error::Timeout { .. }) => "timeout",
        Err(_) => "error",
    }
}

/// Runs `fut` to completion on this thread, giving up after `budget`.
fn block_on_within<T>(
    budget: Duration,
    what: &'static str,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    async_io::block_on(future::or(fut, async {
        async_io::Timer::after(budget).await;
        Err(Error::Timeout { what, budget })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(role: Role, role_name: &str, name: &str) -> Summary {
        Summary {
            role,
            role_name: role_name.into(),
            name: name.into(),
            accessible_id: String::new(),
            attrs: HashMap::new(),
            index: None,
        }
    }

    #[test]
    fn steps_quote_names_escape_quotes_and_index_children() {
        let s = summary(Role::Entry, "entry", "Bob's 'name'");
        assert_eq!(s.step(Some(2)), r"entry 'Bob\'s \'name\''[2]");
        let s = summary(Role::Filler, "filler", "");
        assert_eq!(s.step(Some(0)), "filler[0]");
        let s = summary(Role::Frame, "frame", "Customer form");
        assert_eq!(s.step(None), "frame 'Customer form'");
    }

    #[test]
    fn element_takes_the_dom_id_when_the_accessible_id_is_empty() {
        let mut s = summary(Role::Entry, "entry", "City");
        s.attrs.insert("id".into(), "f2".into());
        let e = s.element("frame 'x' / entry 'City'[0]");
        assert_eq!(e.id.as_deref(), Some("f2"));
        s.accessible_id = "city-entry".into();
        assert_eq!(s.element("p").id.as_deref(), Some("city-entry"));
        let empty = summary(Role::Filler, "filler", "").element("");
        assert_eq!((empty.name, empty.id, empty.path), (None, None, None));
    }

    #[test]
    fn role_names_are_the_ones_toolkits_use() {
        assert_eq!(role_name(Role::Button), "push button");
        assert_eq!(role_name(Role::PasswordText), "password text");
        assert_eq!(role_name(Role::Entry), "entry");
        assert_eq!(role_name(Role::Text), "text");
        assert_eq!(role_name(Role::DocumentWeb), "document web");
        assert_eq!(role_name(Role::TableCell), "table cell");
    }

    #[test]
    fn rect_contains_its_inside_only() {
        let r = Rect {
            x: 10,
            y: 20,
            width: 100,
            height: 30,
        };
        assert!(r.contains(10, 20) && r.contains(109, 49));
        assert!(!r.contains(110, 20) && !r.contains(50, 50) && !r.contains(9, 25));
        assert_eq!(r.center(), (60, 35));
        assert!(
            !Rect::default().contains(0, 0),
            "an empty rect holds nothing"
        );
    }

    #[test]
    fn app_info_tells_bare_frames_and_empty_documents_from_real_trees() {
        let mut a = AppInfo {
            name: "Chromium".into(),
            pid: None,
            toolkit: "Chromium".into(),
            windows: vec!["Form - Chromium".into()],
            elements: 40,
            empty_documents: 1,
        };
        assert!(!a.exposes_elements());
        a.empty_documents = 0;
        assert!(a.exposes_elements());
        a.elements = 1;
        assert!(!a.exposes_elements());
    }
}
