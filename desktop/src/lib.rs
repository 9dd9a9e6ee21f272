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
use std::sync::Mutex;
use std::time::{Duration, Instant};

use atspi::proxy::accessible::AccessibleProxy;
use atspi::proxy::action::ActionProxy;
use atspi::proxy::application::ApplicationProxy;
use atspi::proxy::bus::BusProxy;
use atspi::proxy::collection::CollectionProxy;
use atspi::proxy::component::ComponentProxy;
use atspi::proxy::text::TextProxy;
use atspi::{
    CoordType, Interface, InterfaceSet, MatchType, ObjectMatchRule, ObjectRefOwned, Role,
    SortOrder, State, StateSet,
};
use futures_lite::future;
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
    described: HashMap<(String, String), (Instant, Element, bool)>,
}

/// How long a described element is reused. A name or title that changes shows after this.
const DESCRIBED_FRESH: Duration = Duration::from_secs(3);
/// The described-element cache is emptied when it holds this many objects.
const DESCRIBED_MAX: usize = 512;

/// One long-lived connection to the accessibility bus. `Send + Sync`: calls from several threads
/// share the connection (zbus runs its own executor thread and matches replies to calls).
pub struct A11y {
    conn: zbus::Connection,
    cache: Mutex<Cache>,
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
            cache: Mutex::new(Cache::default()),
        };
        // The registry answering is what makes the bus usable.
        block_on_within(CONNECT_BUDGET, "reading the registry", async {
            a11y.obj(REGISTRY, ROOT_PATH).children().await
        })
        .map_err(|e| no_bus(format!("the registry does not answer: {e}")))?;
        Ok(a11y)
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
        block_on_within(budget, "element lookup", async {
            let frames = self.frames(window).await?;
            let Some(frame) = self.frame_at(&frames, x, y).await? else {
                return Ok(None);
            };
            let mut hits = Hits {
                chain: self.hit_test(&frame.obj, x, y).await?,
                confirmed: None,
            };
            let target = self.actionable(&mut hits).await?;
            self.describe_in(&target, &frame, Some(&mut hits))
                .await
                .map(Some)
        })
    }

    /// The accessible that has the keyboard focus, in the active frame (or the frames `window`
    /// names).
    pub fn focused(&self, budget: Duration) -> Result<Option<Found>> {
        self.focused_in(&WindowQuery::default(), budget)
    }

    /// [`A11y::focused`] among the frames `window` names.
    pub fn focused_in(&self, window: &WindowQuery, budget: Duration) -> Result<Option<Found>> {
        block_on_within(budget, "focus lookup", async {
            let frames = self.frames(window).await?;
            let states = join_all(frames.iter().map(|f| f.obj.state())).await;
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
                if let Some(obj) = self.focused_below(&frame.obj).await? {
                    return self.describe(&obj, frame).await.map(Some);
                }
            }
            Ok(None)
        })
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
        Ok(out)
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

    /// Hit-tests down from `frame`: the objects from the frame to the deepest one at the point.
    async fn hit_test(&self, frame: &Obj, x: i32, y: i32) -> Result<Vec<Obj>> {
        let mut chain = vec![frame.clone()];
        for _ in 0..MAX_DEPTH {
            let current = chain.last().expect("starts with the frame");
            // An object without the Component interface answers with an error: it is the bottom.
            let Ok(next) = current
                .component()
                .await?
                .get_accessible_at_point(x, y, CoordType::Screen)
                .await
            else {
                break;
            };
            let Some(next) = self.obj_ref(&next) else {
                break;
            };
            // Chromium answers a leaf with itself: that is the bottom, not a step down.
            if next.bus == current.bus && next.path == current.path {
                break;
            }
            chain.push(next);
        }
        Ok(chain)
    }

    /// The nearest object at or above the hit that can be acted on, or the hit itself.
    async fn actionable(&self, hits: &mut Hits) -> Result<Obj> {
        let leaf = hits.leaf().clone();
        match acts_now(&leaf).await? {
            Climb::Here | Climb::Stop => return Ok(leaf),
            Climb::Up => {}
        }
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
        let Ok(hits) = frame
            .collection()
            .await?
            .get_matches(rule, SortOrder::Canonical, 1, true)
            .await
        else {
            return Ok(None);
        };
        Ok(hits.first().and_then(|r| self.obj_ref(r)))
    }

    /// Role, name, id, path, extents and states of `obj`, whose frame is `frame`.
    /// A recently described object costs only its extents and state.
    async fn describe(&self, obj: &Obj, frame: &Frame) -> Result<Found> {
        self.describe_in(obj, frame, None).await
    }

    /// [`Self::describe`] of an object at or above the hits of a hit test, whose line of parents
    /// then spares climbing to the frame (see [`Self::path_of`]).
    async fn describe_in(
        &self,
        obj: &Obj,
        frame: &Frame,
        hits: Option<&mut Hits>,
    ) -> Result<Found> {
        let key = (obj.bus.clone(), obj.path.clone());
        let cached = self.cache.lock().ok().and_then(|c| {
            c.described
                .get(&key)
                .filter(|(t, _, _)| t.elapsed() < DESCRIBED_FRESH)
                .map(|(_, e, p)| (e.clone(), *p))
        });
        if let Some((element, password)) = cached {
            let (extents, state) = future::zip(obj.extents(), obj.state()).await;
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
        let summary = obj.summary(None).await?;
        let line = match hits {
            Some(h) => h.line(self).await,
            None => None,
        };
        let path = self.path_of(obj, &summary, &frame.obj, line).await?;
        let element = summary.element(&path);
        let found = self.describe_known(obj, frame, element, &summary).await?;
        if let Ok(mut c) = self.cache.lock() {
            if c.described.len() >= DESCRIBED_MAX {
                c.described.clear();
            }
            c.described
                .insert(key, (Instant::now(), found.element.clone(), found.password));
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
        let state = state?;
        let input_type = s.attrs.get("input-type").or_else(|| s.attrs.get("type"));
        Ok(Found {
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
        })
    }

    /// The path from the frame above `obj` down to it. The climb asks one thing per level (the
    /// parent) and stops below the app's root; then every level is described at once, so that a
    /// deep web page costs one round trip per level, not four.
    /// When `line` (from the frame down) holds `obj`, its part above `obj` is the climb.
    async fn path_of(
        &self,
        obj: &Obj,
        summary: &Summary,
        frame: &Obj,
        line: Option<&[Obj]>,
    ) -> Result<String> {
        let mut chain = vec![obj.clone()];
        let known = line.and_then(|l| {
            l.iter()
                .position(|o| o.bus == obj.bus && o.path == obj.path)
                .map(|at| &l[..=at])
        });
        if is_frame(summary.role) || obj.path == frame.path {
            // A frame-like object starts its own path.
        } else if let Some(known) = known {
            chain = known.iter().rev().cloned().collect();
        } else {
            let mut current = obj.clone();
            for _ in 0..MAX_DEPTH {
                let Some(parent) = self.obj_ref(&current.parent().await?) else {
                    break;
                };
                if parent.path == ROOT_PATH || parent.bus != obj.bus {
                    break;
                }
                chain.push(parent.clone());
                // The frame the lookup started from is the top: no need to ask above it.
                if parent.path == frame.path && parent.bus == frame.bus {
                    break;
                }
                current = parent;
            }
        }
        let (summaries, indices) = future::zip(
            join_all(chain.iter().skip(1).map(|o| o.brief())),
            // The top step has no index; the frame is not asked for one.
            join_all(
                chain
                    .iter()
                    .take(chain.len() - 1)
                    .map(|o| o.index_in_parent()),
            ),
        )
        .await;
        let mut all = vec![summary.clone()];
        for s in summaries {
            all.push(s?);
        }
        // The topmost frame-like object starts the path (a frame may hold inner windows).
        let top = all
            .iter()
            .rposition(|s| is_frame(s.role))
            .unwrap_or(all.len() - 1);
        let mut steps = Vec::new();
        for (i, s) in all.iter().enumerate().take(top + 1) {
            if i == top {
                steps.push(s.step(None));
            } else {
                steps.push(s.step(Some(
                    *indices[i].as_ref().map_err(|e| Error::Bus(e.to_string()))?,
                )));
            }
        }
        steps.reverse();
        Ok(steps.join(" / "))
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
    proxy_fn!(accessible, AccessibleProxy);
    proxy_fn!(component, ComponentProxy);
    proxy_fn!(collection, CollectionProxy);
    proxy_fn!(text_proxy, TextProxy);
    proxy_fn!(action_proxy, ActionProxy);
    proxy_fn!(application, ApplicationProxy);

    async fn children(&self) -> Result<Vec<ObjectRefOwned>> {
        Ok(self.accessible().await?.get_children().await?)
    }
    async fn name(&self) -> Result<String> {
        Ok(self.accessible().await?.name().await?)
    }
    async fn role(&self) -> Result<Role> {
        Ok(self.accessible().await?.get_role().await?)
    }
    async fn state(&self) -> Result<StateSet> {
        Ok(self.accessible().await?.get_state().await?)
    }
    async fn interfaces(&self) -> Result<InterfaceSet> {
        Ok(self.accessible().await?.get_interfaces().await?)
    }
    async fn parent(&self) -> Result<ObjectRefOwned> {
        Ok(self.accessible().await?.parent().await?)
    }
    async fn index_in_parent(&self) -> Result<i32> {
        Ok(self.accessible().await?.get_index_in_parent().await?)
    }
    async fn extents(&self) -> Result<Rect> {
        let (x, y, width, height) = self
            .component()
            .await?
            .get_extents(CoordType::Screen)
            .await?;
        Ok(Rect {
            x,
            y,
            width,
            height,
        })
    }

    /// Role, name, accessible id and attributes, asked at once. The role's name is AT-SPI's
    /// standard English one (`push button`), the same the toolkits give, without asking.
    async fn summary(&self, index: Option<i32>) -> Result<Summary> {
        let a = self.accessible().await?;
        let ((role, name), (id, attrs)) = future::zip(
            future::zip(a.get_role(), a.name()),
            future::zip(a.accessible_id(), a.get_attributes()),
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
        let (role, name) = future::zip(a.get_role(), a.name()).await;
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
