//! A simulator of realistic UI logs with known ground truth.
//!
//! N users work D days each, one session per user and day. In a session a user performs a number of
//! routine instances, drawn from the built-in catalogue (mail client, browser web forms, spreadsheet,
//! terminal, ERP client, text editor), with values that differ per instance, values copied in one
//! application and pasted in another, occasional variants, noise (stray clicks, scrolls, detours to
//! unrelated applications) between and inside instances, short pauses between instances and a lunch
//! break marked with `idle_start`/`idle_end`. Everything is drawn from a seeded generator: the same
//! [`Config`] gives the same events and the same [`GroundTruth`], byte for byte (with the same
//! taskmine version on the same platform: durations go through `f64` logarithms).
//!
//! Settings make the log look like particular recordings: elements as the AT-SPI recorder captures
//! them or web content as XPaths ([`ElementStyle`]), applications without accessibility
//! ([`Config::apps_without_elements`]), instances worked off a queue without pauses
//! ([`Config::pauses`]), chosen routines ([`Config::routine_ids`], among them a 64-step
//! form-filling routine), a short one-person recording. `docs/ground-truth.md` describes them and the
//! configurations bundled in `examples/`.
//!
//! ```
//! use uilog::simulate::{simulate_to_vec, Config};
//!
//! let cfg = Config { users: 2, days: 1, ..Config::default() };
//! let (events, truth) = simulate_to_vec(&cfg)?;
//! assert_eq!(truth.total_events, events.len() as u64);
//! # Ok::<(), uilog::Error>(())
//! ```
//!
//! Into the store, without holding the events in memory:
//!
//! ```
//! # use uilog::{simulate::{simulate, Config}, Store};
//! let mut store = Store::open_in_memory()?;
//! let cfg = Config { users: 1, days: 1, ..Config::default() };
//! let mut truth = None;
//! store.write_batch(None, "simulator", |sink| -> uilog::Result<()> {
//!     truth = Some(simulate(&cfg, |e| sink.push(e))?);
//!     Ok(())
//! })?;
//! assert_eq!(store.stats()?.events, truth.unwrap().total_events);
//! # Ok::<(), uilog::Error>(())
//! ```
//!
//! What the simulator never does: set [`Event::case`] (that would hand the miner the answer), overlap
//! two instances in time, or put an idle marker inside an instance. The meaning of the ground truth is
//! specified in `docs/ground-truth.md`.

mod catalogue;
pub mod process_log;
mod recorder_csv;
mod values;

pub use process_log::ProcessLog;
pub use recorder_csv::write_recorder_csv;

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::event::{check_ts, Element, Event, EventKind, Micros, ValueHash};
use crate::store::Store;
use crate::truth::{GroundTruth, TruthInstance, TruthRoutine, TruthVariant};

const SECOND: f64 = 1_000_000.0;
const DAY: Micros = 86_400_000_000;
/// Typing takes this long per character at most, and a run of typing at most `MAX_TYPING_S`.
const MAX_TYPING_S: f64 = 15.0;

/// How much and what kind of work to simulate. Every field has a default (see [`Config::default`]),
/// so a config file only names what it changes.
///
/// Size of the log: about `users × days × mean(instances_per_day) × 17 / (1 − noise)` events (an
/// instance of the default six routines has about 17 events, a day adds about 10 idle markers), so
/// the defaults give about 20,000 events. Set [`Config::events_target`] instead to ask for a size
/// directly: `events_target: 1_000_000` simulates about 500 users, `10_000_000` about 5,000 (the
/// same week, more people, so each day stays a realistic working day).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The seed of every random choice. The same config with the same seed gives the same log.
    pub seed: u64,
    /// How many people are recorded. Each gets a pseudonym `user-NN`, a host `host-NN` and their own
    /// habits (which routines they do most, where their windows sit on the screen, when they start).
    pub users: u32,
    /// How many working days each user is recorded, starting at `start`; weekends are skipped.
    pub days: u32,
    /// How many different routines the users perform: the first `routines` of the built-in catalogue
    /// (see [`catalogue`]), at most as many as it holds.
    pub routines: usize,
    /// How many routine instances one user performs on one day, drawn uniformly from this range.
    pub instances_per_day: CountRange,
    /// The share of events (not counting idle markers) that are noise: stray clicks, scrolls and
    /// detours to unrelated applications (chat, file manager, calculator, a news page), both between
    /// instances and in the middle of them. 0.0 is a clean log, 0.1 a messy one.
    pub noise: f64,
    /// The probability that an instance deviates from its routine's dominant variant: skips optional
    /// steps, adds extra ones, or does a step differently (a toolbar button instead of a shortcut).
    /// A deviating instance takes exactly one of its routine's declared variants.
    pub variant_steps: f64,
    /// When the first working day begins, in UTC microseconds. Users start within 45 minutes of this
    /// time of day, every working day. The default is Monday 2026-11-23 08:00 UTC.
    pub start: Micros,
    /// The pause between the end of one instance and the start of the next, in seconds, drawn
    /// log-uniformly (short pauses are more common than long ones).
    pub gap: SecondsRange,
    /// The time between two consecutive steps of an instance, in seconds, drawn log-uniformly; typing
    /// adds time per character on top.
    pub think_time: SecondsRange,
    /// After this many seconds without input the recorder logs `idle_start`, and `idle_end` when input
    /// resumes. Must exceed the longest think time plus typing time, so that no idle marker falls
    /// inside an instance.
    pub idle_after_s: f64,
    /// The lunch break in the middle of each day, in seconds.
    pub lunch: SecondsRange,
    /// When set, `users` is ignored and chosen so that the log holds about this many events
    /// (within a few percent for large targets).
    pub events_target: Option<u64>,
    /// Which routines of the catalogue to perform, by id ([`catalogue`] numbers them from 1). When
    /// not empty it replaces `routines`: `[11]` is the long form-filling routine alone.
    pub routine_ids: Vec<u32>,
    /// How UI elements look in the log. See [`ElementStyle`].
    pub elements: ElementStyle,
    /// The share of applications that expose no accessibility tree (an Electron or Java app, a
    /// browser started without accessibility): their events carry no element at all, only the
    /// window and, for pointer events, the position in it. Of the applications the routines use,
    /// this share (rounded at random to a whole number) is picked per seed; each other application
    /// lacks elements with this probability. Whatever the share, with `elements` other than
    /// `catalogue` the terminal (xterm, which has no AT-SPI support) never has elements.
    pub apps_without_elements: f64,
    /// `false`: instances follow each other directly, as in a stream of tasks worked off a queue.
    /// The gap before an instance is then drawn from `think_time` like the gap between two steps,
    /// and there is no lunch break, so no pause marks where one instance ends.
    pub pauses: bool,
    /// Whether each day has a lunch break in its middle (logged with idle markers).
    pub lunch_break: bool,
    /// When set (64 hex digits, a recorder's secret key), the log is written as the recorder's
    /// policy `text: hash` with numbers redacted from titles would write it: no typed, copied or
    /// pasted text, only its value hash under the value key the recorder derives from this secret,
    /// and runs of four or more digits in window titles, element names and paths and URLs
    /// replaced by `<n>`. Absent: text is kept plain and hashed with the import key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_key: Option<String>,
}

/// How the simulator writes an event's [`Element`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElementStyle {
    /// Role, name and id as the catalogue writes them (`textbox "Reference" #field-reference`, HTML
    /// tags in upper case for web pages), no path. The default, which the miner's reference figures
    /// were measured on.
    #[default]
    Catalogue,
    /// As the recorder captures them through AT-SPI: role strings such as `push button`, `entry`,
    /// `table cell`, `menu item`, `page tab`; the name from the label (a spreadsheet cell is named
    /// by its reference, a paragraph has none); ids only where the toolkit exposes them (Gecko's
    /// DOM ids in Firefox and Thunderbird), and a path from the window frame down,
    /// `frame 'Title' / filler[0] / panel[1] / entry 'Reference'[0]`, whose last index grows by
    /// one in a quarter of the instances (a notification bar pushes the form down); in a web page
    /// the index of the `section` that holds the form varies too (0–2 banners above it).
    Atspi,
    /// Desktop applications as with `atspi`; web content as a browser-extension recorder logs it:
    /// the tag in lower case, the label as name, no id (the page's generated ids differ per load)
    /// and an absolute XPath whose `[k]` indices vary between instances (banners, a form that
    /// grows), `/html/body/div[2]/div[2]/main/form/div[4]/input`.
    Web,
}

/// An inclusive range of counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountRange {
    pub min: u32,
    pub max: u32,
}

/// A range of durations in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecondsRange {
    pub min: f64,
    pub max: f64,
}

impl SecondsRange {
    /// A duration drawn log-uniformly from the range, in microseconds.
    fn draw(&self, rng: &mut ChaCha8Rng) -> Micros {
        let s = if self.max > self.min {
            let (lo, hi) = (self.min.ln(), self.max.ln());
            (lo + rng.random::<f64>() * (hi - lo)).exp()
        } else {
            self.min
        };
        (s * SECOND) as Micros
    }
}

/// Monday 2026-11-23 08:00:00 UTC.
pub const DEFAULT_START: Micros = 1_795_420_800_000_000;

impl Default for Config {
    fn default() -> Config {
        Config {
            seed: 1,
            users: 10,
            days: 5,
            routines: 6,
            instances_per_day: CountRange { min: 15, max: 30 },
            noise: 0.05,
            variant_steps: 0.1,
            start: DEFAULT_START,
            gap: SecondsRange {
                min: 15.0,
                max: 600.0,
            },
            think_time: SecondsRange { min: 0.4, max: 6.0 },
            idle_after_s: 300.0,
            lunch: SecondsRange {
                min: 1_800.0,
                max: 3_600.0,
            },
            events_target: None,
            routine_ids: Vec::new(),
            elements: ElementStyle::Catalogue,
            apps_without_elements: 0.0,
            pauses: true,
            lunch_break: true,
            text_key: None,
        }
    }
}

impl Config {
    /// Checks that the knobs make sense together. The message names the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, message: String| -> Result<()> {
            Err(Error::Invalid(format!(
                "simulator config, field `{field}`: {message}"
            )))
        };
        let n = catalogue_len();
        if self.users == 0 && self.events_target.is_none() {
            return bad("users", "must be at least 1".into());
        }
        if self.events_target == Some(0) {
            return bad("events_target", "must be at least 1".into());
        }
        if self.days == 0 {
            return bad("days", "must be at least 1".into());
        }
        if self.routine_ids.is_empty() && (self.routines == 0 || self.routines > n) {
            return bad(
                "routines",
                format!("is {}; the catalogue holds 1 to {n}", self.routines),
            );
        }
        for (i, &id) in self.routine_ids.iter().enumerate() {
            if id == 0 || id as usize > n {
                return bad(
                    "routine_ids",
                    format!("entry {i} is {id}; the catalogue numbers its routines 1 to {n}"),
                );
            }
            if self.routine_ids[..i].contains(&id) {
                return bad("routine_ids", format!("routine {id} is named twice"));
            }
        }
        if let Some(k) = &self.text_key {
            if process_log::parse_secret(k).is_none() {
                return bad("text_key", "must be 64 hex digits (a recorder key)".into());
            }
        }
        if !(0.0..=1.0).contains(&self.apps_without_elements) {
            return bad(
                "apps_without_elements",
                format!("is {}; it must be in [0, 1]", self.apps_without_elements),
            );
        }
        let c = self.instances_per_day;
        if c.min == 0 || c.max < c.min {
            return bad(
                "instances_per_day",
                format!("{}..{} must satisfy 1 <= min <= max", c.min, c.max),
            );
        }
        if !(0.0..=0.9).contains(&self.noise) {
            return bad(
                "noise",
                format!("is {}; it must be in [0, 0.9]", self.noise),
            );
        }
        if !(0.0..=1.0).contains(&self.variant_steps) {
            return bad(
                "variant_steps",
                format!("is {}; it must be in [0, 1]", self.variant_steps),
            );
        }
        for (field, r) in [
            ("gap", self.gap),
            ("think_time", self.think_time),
            ("lunch", self.lunch),
        ] {
            if !(r.min.is_finite() && r.max.is_finite() && r.min >= 0.001 && r.max >= r.min) {
                return bad(
                    field,
                    format!("{}..{} s must satisfy 0.001 <= min <= max", r.min, r.max),
                );
            }
        }
        if !(self.idle_after_s.is_finite()
            && self.idle_after_s > self.think_time.max + MAX_TYPING_S + 5.0)
        {
            return bad(
                "idle_after_s",
                format!(
                    "is {} s; it must exceed think_time.max + {MAX_TYPING_S} s of typing + 5 s ({} s)",
                    self.idle_after_s,
                    self.think_time.max + MAX_TYPING_S + 5.0
                ),
            );
        }
        // The log holds 1970..=9999 (`check_ts`); a week per five working days plus a week of
        // slack covers weekends and the longest day.
        let end = self
            .start
            .saturating_add(DAY.saturating_mul(self.days as i64 * 2 + 7));
        if let Err(why) = check_ts(self.start).and_then(|_| check_ts(end)) {
            return bad(
                "start",
                format!(
                    "{}: the simulated days must lie in the log's time range ({why})",
                    self.start
                ),
            );
        }
        Ok(())
    }

    /// The catalogue's routines this config performs: `routine_ids`, or the first `routines`.
    fn select(&self, mut all: Vec<Routine>) -> Vec<Routine> {
        if self.routine_ids.is_empty() {
            all.truncate(self.routines);
            return all;
        }
        self.routine_ids
            .iter()
            .filter_map(|&id| {
                let at = all.iter().position(|r| r.id == id)?;
                Some(all.swap_remove(at))
            })
            .collect()
    }

    /// The number of users the run will simulate: `users`, or the number that `events_target` needs.
    pub fn effective_users(&self) -> u32 {
        match self.events_target {
            None => self.users,
            Some(target) => {
                let routines = self.select(compile_catalogue());
                let per_day = self.expected_events_per_user_day(&routines);
                let users = (target as f64 / (per_day * self.days as f64)).round();
                users.clamp(1.0, u32::MAX as f64) as u32
            }
        }
    }

    /// The expected number of events one user produces on one day.
    fn expected_events_per_user_day(&self, routines: &[Routine]) -> f64 {
        let total_weight: f64 = routines.iter().map(|r| r.weight).sum();
        let per_instance: f64 = routines
            .iter()
            .map(|r| r.weight / total_weight * r.expected_len(self.variant_steps))
            .sum();
        let instances = (self.instances_per_day.min + self.instances_per_day.max) as f64 / 2.0;
        // Idle markers: the lunch break, and the pauses longer than `idle_after_s`.
        let long_gap = if self.gap.max > self.idle_after_s {
            let (lo, hi) = (self.gap.min.max(1e-3).ln(), self.gap.max.ln());
            ((hi - self.idle_after_s.max(self.gap.min).ln()) / (hi - lo)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        instances * per_instance / (1.0 - self.noise) + 2.0 + 2.0 * instances * long_gap
    }
}

/// The routines of the built-in catalogue, in order; [`Config::routines`] takes the first ones.
pub fn catalogue() -> Vec<TruthRoutine> {
    compile_catalogue().iter().map(Routine::truth).collect()
}

/// How many routines the built-in catalogue holds.
pub fn catalogue_len() -> usize {
    catalogue::routines().len()
}

/// Generates the log described by `cfg`, handing each event to `emit` in (session, time) order, and
/// returns the ground truth. Stops at the first error `emit` returns.
///
/// `emit` receives a reference to a buffer that is reused for the next event: clone it to keep it.
pub fn simulate<E: From<Error>>(
    cfg: &Config,
    emit: impl FnMut(&Event) -> Result<(), E>,
) -> Result<GroundTruth, E> {
    run_simulation(cfg, emit, None)
}

/// [`simulate`], and the process log of the business cases its routine instances worked on
/// (see [`process_log`]). The events are the same as [`simulate`]'s for the same config.
pub fn simulate_with_process_log<E: From<Error>>(
    cfg: &Config,
    emit: impl FnMut(&Event) -> Result<(), E>,
) -> Result<(GroundTruth, ProcessLog), E> {
    let mut done = Vec::new();
    let truth = run_simulation(cfg, emit, Some(&mut done))?;
    Ok((truth, process_log::build(cfg, &done)))
}

fn run_simulation<E: From<Error>>(
    cfg: &Config,
    mut emit: impl FnMut(&Event) -> Result<(), E>,
    mut done: Option<&mut Vec<process_log::Done>>,
) -> Result<GroundTruth, E> {
    cfg.validate()?;
    let privacy = cfg
        .text_key
        .as_deref()
        .and_then(process_log::parse_secret)
        .map(|secret| {
            (
                process_log::value_key(&secret),
                Event::new("", "", 0, EventKind::Click),
            )
        });
    let mut privacy = privacy;
    let mut emit = |e: &Event| -> Result<(), E> {
        match &mut privacy {
            None => emit(e),
            Some((key, buf)) => {
                buf.clone_from(e);
                process_log::hash_text(buf, key);
                emit(buf)
            }
        }
    };
    let routines = &cfg.select(compile_catalogue())[..];
    let no_elements = without_elements(cfg, routines);
    let users = cfg.effective_users();
    let days = working_days(cfg.start, cfg.days);
    let mut truth = GroundTruth::new(format!("taskmine simulator, seed {}", cfg.seed));
    truth.config = serde_json::to_value(cfg).ok();
    truth.routines = routines.iter().map(Routine::truth).collect();
    let width = users.to_string().len().max(2);
    let mut next_instance = 1u64;
    for u in 0..users {
        let profile = Profile::new(cfg, u, width, routines);
        for (d, &(day_start, ref date)) in days.iter().enumerate() {
            let mut s = SessionGen::new(cfg, &profile, routines, u, d as u32, date);
            s.no_elements = no_elements;
            if done.is_some() {
                s.done = Some(Vec::new());
            }
            s.run(day_start, &mut next_instance, &mut truth, &mut emit)?;
            if let (Some(all), Some(mine)) = (done.as_deref_mut(), s.done.take()) {
                all.extend(mine);
            }
            truth.noise_events += s.noise;
            truth.idle_events += s.idle;
            truth.total_events += s.total;
        }
    }
    Ok(truth)
}

/// [`simulate`] into a vector, for tests and small logs.
pub fn simulate_to_vec(cfg: &Config) -> Result<(Vec<Event>, GroundTruth)> {
    let mut events = Vec::new();
    let truth = simulate(cfg, |e| -> Result<()> {
        events.push(e.clone());
        Ok(())
    })?;
    Ok((events, truth))
}

/// [`simulate`] straight into the store, in one batch (all or nothing).
pub fn simulate_into_store(cfg: &Config, store: &mut Store) -> Result<GroundTruth> {
    let mut truth = None;
    store.write_batch(None, "simulator", |sink| -> Result<()> {
        truth = Some(simulate(cfg, |e| sink.push(e))?);
        Ok(())
    })?;
    Ok(truth.expect("write_batch ran the simulation"))
}

/// The start of each working day (weekends skipped) and its date, `YYYY-MM-DD`.
fn working_days(start: Micros, days: u32) -> Vec<(Micros, String)> {
    let mut out = Vec::with_capacity(days as usize);
    let mut t = start;
    while out.len() < days as usize {
        let date = jiff::Timestamp::from_microsecond(t)
            .expect("validated start")
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date();
        if !matches!(
            date.weekday(),
            jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
        ) {
            out.push((t, date.to_string()));
        }
        t += DAY;
    }
    out
}

/// The applications (as the log names them) whose events carry no element in the log `cfg`
/// generates (see [`Config::apps_without_elements`]).
pub fn apps_without_elements(cfg: &Config) -> Result<Vec<&'static str>> {
    cfg.validate()?;
    let bare = without_elements(cfg, &cfg.select(compile_catalogue()));
    Ok(App::ALL
        .into_iter()
        .filter(|&app| bare[app as usize])
        .map(App::name)
        .collect())
}

/// Which applications expose no elements: of the apps the routines use, `share × count` rounded at
/// random (so the share holds on average even for a routine of two apps); every other app with
/// probability `share`. Drawn from its own generator, so that the rest of the log stays the same.
fn without_elements(cfg: &Config, routines: &[Routine]) -> [bool; App::COUNT] {
    let mut out = [false; App::COUNT];
    // xterm has no accessibility support at all; the catalogue's `terminal` element is its own
    // shorthand, which only the catalogue style keeps.
    out[App::Terminal as usize] = cfg.elements != ElementStyle::Catalogue;
    if cfg.apps_without_elements <= 0.0 {
        return out;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(mix(&[cfg.seed, 0xA11_E1E5]));
    let mut used: Vec<App> = Vec::new();
    for r in routines {
        for s in r.all_steps() {
            if !used.contains(&s.app) && !out[s.app as usize] {
                used.push(s.app);
            }
        }
    }
    let exact = cfg.apps_without_elements * used.len() as f64;
    let mut k = exact.floor() as usize + usize::from(rng.random_bool(exact.fract()));
    while k > 0 {
        let at = rng.random_range(0..used.len());
        out[used.swap_remove(at) as usize] = true;
        k -= 1;
    }
    for app in App::ALL {
        if !out[app as usize] && !routines.iter().any(|r| r.all_steps().any(|s| s.app == app)) {
            out[app as usize] = rng.random_bool(cfg.apps_without_elements);
        }
    }
    out
}

// ---- The catalogue's data model -------------------------------------------------------------------

/// The applications of the simulated desktop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum App {
    Mail,
    Browser,
    Calc,
    Terminal,
    Erp,
    Editor,
    Chat,
    Files,
    Calculator,
}

impl App {
    const COUNT: usize = 9;
    const ALL: [App; App::COUNT] = [
        App::Mail,
        App::Browser,
        App::Calc,
        App::Terminal,
        App::Erp,
        App::Editor,
        App::Chat,
        App::Files,
        App::Calculator,
    ];

    /// The name the recorder logs (the WM_CLASS instance).
    fn name(self) -> &'static str {
        match self {
            App::Mail => "thunderbird",
            App::Browser => "firefox",
            App::Calc => "libreoffice-calc",
            App::Terminal => "xterm",
            App::Erp => "tryton",
            App::Editor => "gedit",
            App::Chat => "mattermost",
            App::Files => "nautilus",
            App::Calculator => "gnome-calculator",
        }
    }
}

/// One event template of a routine, as the catalogue writes it.
pub(crate) struct Step {
    kind: EventKind,
    app: App,
    window: &'static str,
    /// (role, name, id); `""` for an absent part.
    element: Option<(&'static str, &'static str, &'static str)>,
    /// Window-relative position of a pointer event.
    pos: Option<(i32, i32)>,
    /// The typed, copied or pasted value.
    value: Option<&'static str>,
    /// The key combination of a shortcut, logged in the `keys` attribute.
    keys: Option<&'static str>,
    attrs: Vec<(&'static str, &'static str)>,
}

pub(crate) enum Part {
    Always(Step),
    Optional {
        name: &'static str,
        why: &'static str,
        steps: Vec<Step>,
    },
    Alt {
        name: &'static str,
        why: &'static str,
        dominant: Vec<Step>,
        instead: Vec<Step>,
    },
    Extra {
        name: &'static str,
        why: &'static str,
        steps: Vec<Step>,
    },
}

type SlotFn = fn(&mut values::Gen<'_>) -> String;

pub(crate) struct RoutineDef {
    name: &'static str,
    /// How often, relative to the others, users perform it.
    weight: f64,
    slots: Vec<(&'static str, SlotFn)>,
    parts: Vec<Part>,
}

// ---- Compiled templates ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Piece {
    Lit(&'static str),
    Slot(usize),
    Login,
    Host,
    Date,
}

/// A string with `{slot}` placeholders, parsed once.
#[derive(Debug, Clone)]
struct Tpl(Vec<Piece>);

struct Ctx<'a> {
    slots: &'a [String],
    login: &'a str,
    host: &'a str,
    date: &'a str,
}

impl Tpl {
    fn compile(src: &'static str, slots: &[&str], routine: &str) -> Tpl {
        let mut pieces = Vec::new();
        let mut rest = src;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Lit(&rest[..open]));
            }
            let close = rest[open..].find('}').unwrap_or_else(|| {
                panic!("catalogue routine {routine:?}: unclosed '{{' in {src:?}")
            }) + open;
            let name = &rest[open + 1..close];
            pieces.push(match name {
                "login" => Piece::Login,
                "host" => Piece::Host,
                "date" => Piece::Date,
                _ => Piece::Slot(slots.iter().position(|s| *s == name).unwrap_or_else(|| {
                    panic!("catalogue routine {routine:?}: unknown slot {{{name}}} in {src:?}")
                })),
            });
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Lit(rest));
        }
        Tpl(pieces)
    }

    fn render(&self, out: &mut String, ctx: &Ctx<'_>) {
        for p in &self.0 {
            out.push_str(match p {
                Piece::Lit(s) => s,
                Piece::Slot(i) => &ctx.slots[*i],
                Piece::Login => ctx.login,
                Piece::Host => ctx.host,
                Piece::Date => ctx.date,
            });
        }
    }

    fn to_string(&self, ctx: &Ctx<'_>) -> String {
        let mut s = String::new();
        self.render(&mut s, ctx);
        s
    }
}

struct CStep {
    kind: EventKind,
    app: App,
    window: Tpl,
    element: Option<[Option<Tpl>; 3]>,
    pos: Option<(i32, i32)>,
    value: Option<Tpl>,
    keys: Option<&'static str>,
    attrs: Vec<(&'static str, Tpl)>,
    /// Readable, with the placeholders left in.
    desc: String,
    /// The catalogue's role, which [`ElementStyle`] translates.
    role: &'static str,
    /// The window template as written, to number the elements of a window.
    window_src: &'static str,
    /// The element's position among the elements of its window that the routine touches, in the
    /// order it first touches them: the last index of its path.
    index: u32,
}

enum CPart {
    Always(CStep),
    /// A variation point: the dominant variant takes `dominant`, variation `variation` takes `instead`.
    Var {
        variation: usize,
        dominant: Vec<CStep>,
        instead: Vec<CStep>,
    },
}

struct Routine {
    id: u32,
    name: &'static str,
    weight: f64,
    slots: Vec<SlotFn>,
    slot_names: Vec<&'static str>,
    parts: Vec<CPart>,
    /// (name, description) of each variation.
    variations: Vec<(&'static str, &'static str)>,
}

fn compile_catalogue() -> Vec<Routine> {
    catalogue::routines()
        .into_iter()
        .enumerate()
        .map(|(i, def)| Routine::compile(i as u32 + 1, def))
        .collect()
}

impl Routine {
    fn compile(id: u32, def: RoutineDef) -> Routine {
        let names: Vec<&str> = def.slots.iter().map(|s| s.0).collect();
        let step = |s: Step| CStep::compile(s, &names, def.name);
        let steps = |v: Vec<Step>| v.into_iter().map(step).collect::<Vec<_>>();
        let mut variations = Vec::new();
        let mut parts = Vec::new();
        for part in def.parts {
            let mut var = |name, why, dominant, instead| {
                variations.push((name, why));
                CPart::Var {
                    variation: variations.len() - 1,
                    dominant,
                    instead,
                }
            };
            parts.push(match part {
                Part::Always(s) => CPart::Always(step(s)),
                Part::Optional {
                    name,
                    why,
                    steps: s,
                } => var(name, why, steps(s), Vec::new()),
                Part::Alt {
                    name,
                    why,
                    dominant,
                    instead,
                } => var(name, why, steps(dominant), steps(instead)),
                Part::Extra {
                    name,
                    why,
                    steps: s,
                } => var(name, why, Vec::new(), steps(s)),
            });
        }
        let mut routine = Routine {
            id,
            name: def.name,
            weight: def.weight,
            slots: def.slots.iter().map(|s| s.1).collect(),
            slot_names: def.slots.iter().map(|s| s.0).collect(),
            parts,
            variations,
        };
        routine.number_elements();
        routine
    }

    /// Every step of every variant, in the order the routine declares them.
    fn all_steps(&self) -> impl Iterator<Item = &CStep> {
        self.parts.iter().flat_map(|part| match part {
            CPart::Always(s) => std::slice::from_ref(s)
                .iter()
                .chain(std::slice::Iter::default()),
            CPart::Var {
                dominant, instead, ..
            } => dominant.iter().chain(instead.iter()),
        })
    }

    /// Sets [`CStep::index`]: siblings in one window get 0, 1, 2, … by first use; the same element
    /// (role and name as written) keeps its number across steps and variants.
    fn number_elements(&mut self) {
        let mut seen: HashMap<(&'static str, &'static str, String), u32> = HashMap::new();
        let mut per_window: HashMap<&'static str, u32> = HashMap::new();
        let steps = self.parts.iter_mut().flat_map(|part| match part {
            CPart::Always(s) => std::slice::from_mut(s)
                .iter_mut()
                .chain(std::slice::IterMut::default()),
            CPart::Var {
                dominant, instead, ..
            } => dominant.iter_mut().chain(instead.iter_mut()),
        });
        for s in steps {
            let Some(name) = &s.element else { continue };
            let name = name[1]
                .as_ref()
                .map(|t| format!("{:?}", t.0))
                .unwrap_or_default();
            let next = per_window.entry(s.window_src).or_insert(0);
            s.index = *seen.entry((s.window_src, s.role, name)).or_insert_with(|| {
                *next += 1;
                *next - 1
            });
        }
    }

    /// The steps an instance takes: the dominant variant, or `variation`.
    fn expand<'r>(&'r self, variation: Option<usize>, out: &mut Vec<&'r CStep>) {
        out.clear();
        for part in &self.parts {
            match part {
                CPart::Always(s) => out.push(s),
                CPart::Var {
                    variation: v,
                    dominant,
                    instead,
                } => out.extend(if Some(*v) == variation {
                    instead
                } else {
                    dominant
                }),
            }
        }
    }

    fn dominant(&self) -> Vec<&CStep> {
        let mut v = Vec::new();
        self.expand(None, &mut v);
        v
    }

    /// The mean number of events of an instance when a share `p` of instances deviate.
    fn expected_len(&self, p: f64) -> f64 {
        let base = self.dominant().len() as f64;
        if self.variations.is_empty() {
            return base;
        }
        let delta: f64 = self
            .parts
            .iter()
            .map(|part| match part {
                CPart::Var {
                    dominant, instead, ..
                } => instead.len() as f64 - dominant.len() as f64,
                CPart::Always(_) => 0.0,
            })
            .sum::<f64>()
            / self.variations.len() as f64;
        base + p * delta
    }

    fn truth(&self) -> TruthRoutine {
        TruthRoutine {
            id: self.id,
            name: self.name.to_owned(),
            steps: self.dominant().iter().map(|s| s.desc.clone()).collect(),
            variants: self
                .variations
                .iter()
                .map(|(name, why)| TruthVariant {
                    name: (*name).to_owned(),
                    description: (*why).to_owned(),
                })
                .collect(),
        }
    }
}

impl CStep {
    fn compile(s: Step, slots: &[&str], routine: &str) -> CStep {
        let tpl = |src: &'static str| Tpl::compile(src, slots, routine);
        let opt = |src: &'static str| (!src.is_empty()).then(|| tpl(src));
        let app = s.app.name();
        let w = s.window;
        let el = s.element.map(|(role, name, id)| {
            let mut d = role.to_owned();
            if !name.is_empty() {
                d += &format!(" {name:?}");
            }
            if !id.is_empty() {
                d += &format!(" #{id}");
            }
            d
        });
        let el = el.as_deref().unwrap_or("");
        let value = s.value.unwrap_or("");
        let desc = match s.kind {
            EventKind::Focus => format!("focus {app} [{w}]"),
            EventKind::Type => format!("type {value:?} into {el} in {app} [{w}]"),
            EventKind::Copy => format!("copy {value:?} from {el} in {app} [{w}]"),
            EventKind::Paste => format!("paste {value:?} into {el} in {app} [{w}]"),
            EventKind::Shortcut => format!("press {} in {app} [{w}]", s.keys.unwrap_or("")),
            kind if el.is_empty() => format!("{kind} in {app} [{w}]"),
            kind => format!("{kind} {el} in {app} [{w}]"),
        };
        CStep {
            kind: s.kind,
            app: s.app,
            window: tpl(s.window),
            element: s.element.map(|(r, n, i)| [opt(r), opt(n), opt(i)]),
            pos: s.pos,
            value: s.value.map(tpl),
            keys: s.keys,
            attrs: s.attrs.into_iter().map(|(k, v)| (k, tpl(v))).collect(),
            desc,
            role: s.element.map_or("", |e| e.0),
            window_src: s.window,
            index: 0,
        }
    }
}

// ---- Generation -----------------------------------------------------------------------------------

/// A user's habits, stable across their days.
struct Profile {
    user: String,
    host: String,
    login: String,
    /// When they start, after the day's start time.
    offset: Micros,
    /// Cumulative routine weights, for a weighted draw.
    cumulative: Vec<f64>,
    /// Top-left corner of each application's window on their screen.
    origins: [(i32, i32); App::COUNT],
}

/// A well-mixed 64-bit seed from a few numbers (SplitMix64 finalizer).
fn mix(parts: &[u64]) -> u64 {
    let mut h = 0x9E37_79B9_7F4A_7C15u64;
    for &p in parts {
        h ^= p
            .wrapping_add(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(h << 6)
            .wrapping_add(h >> 2);
        h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 31;
    }
    h
}

impl Profile {
    fn new(cfg: &Config, u: u32, width: usize, routines: &[Routine]) -> Profile {
        let mut rng = ChaCha8Rng::seed_from_u64(mix(&[cfg.seed, u as u64, u64::MAX]));
        let n = u + 1;
        let mut total = 0.0;
        let cumulative = routines
            .iter()
            .map(|r| {
                total += r.weight * rng.random_range(0.4..1.6);
                total
            })
            .collect();
        let maximized = rng.random_bool(0.5);
        let mut origins = [(0, 27); App::COUNT];
        if !maximized {
            for o in &mut origins {
                *o = (rng.random_range(0..320), rng.random_range(27..200));
            }
        }
        Profile {
            user: format!("user-{n:0width$}"),
            host: format!("host-{n:0width$}"),
            login: format!("u{n:0width$}"),
            offset: (rng.random_range(0.0..45.0) * 60.0 * SECOND) as Micros,
            cumulative,
            origins,
        }
    }

    fn pick_routine(&self, rng: &mut ChaCha8Rng) -> usize {
        let total = *self.cumulative.last().expect("at least one routine");
        let x = rng.random::<f64>() * total;
        self.cumulative
            .iter()
            .position(|&c| x < c)
            .unwrap_or(self.cumulative.len() - 1)
    }
}

struct SessionGen<'a> {
    cfg: &'a Config,
    profile: &'a Profile,
    routines: &'a [Routine],
    rng: ChaCha8Rng,
    date: jiff::civil::Date,
    date_str: &'a str,
    session: String,
    /// The event handed to `emit`, reused.
    ev: Event,
    last_ts: Option<Micros>,
    /// When the user is done with the last event (a run of typing lasts a while after its timestamp,
    /// which the recorder puts at the run's first key).
    ready: Micros,
    /// The application and window in focus, where noise and idle markers happen.
    cur_app: App,
    cur_window: String,
    slots: Vec<String>,
    noise: u64,
    idle: u64,
    total: u64,
    /// The applications that expose no elements.
    no_elements: [bool; App::COUNT],
    /// How the current instance's screens are laid out, for element paths.
    layout: Layout,
    /// The instances done, with their values, when a process log is emitted too.
    done: Option<Vec<process_log::Done>>,
}

/// What shifts element paths between instances: a notification bar above a form, banners above a
/// web page's content.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// Added to the last index of a path.
    shift: u32,
    /// The index of the web page's content `div`, 1-based.
    banner: u32,
}

impl<'a> SessionGen<'a> {
    fn new(
        cfg: &'a Config,
        profile: &'a Profile,
        routines: &'a [Routine],
        u: u32,
        d: u32,
        date: &'a str,
    ) -> Self {
        let session = format!("{}-{date}", profile.login);
        let mut ev = Event::new(&session, &profile.user, 0, EventKind::Click);
        ev.host = profile.host.clone();
        SessionGen {
            cfg,
            profile,
            routines,
            rng: ChaCha8Rng::seed_from_u64(mix(&[cfg.seed, u as u64, d as u64])),
            date: date.parse().expect("working_days writes dates"),
            date_str: date,
            session,
            ev,
            last_ts: None,
            ready: 0,
            cur_app: App::Mail,
            cur_window: "Inbox - Mozilla Thunderbird".into(),
            slots: Vec::new(),
            noise: 0,
            idle: 0,
            total: 0,
            no_elements: [false; App::COUNT],
            layout: Layout {
                shift: 0,
                banner: 1,
            },
            done: None,
        }
    }

    fn run<E: From<Error>>(
        &mut self,
        day_start: Micros,
        next_instance: &mut u64,
        truth: &mut GroundTruth,
        emit: &mut impl FnMut(&Event) -> Result<(), E>,
    ) -> Result<(), E> {
        let c = self.cfg.instances_per_day;
        let n = self.rng.random_range(c.min..=c.max) as usize;
        let lunch_before = if n >= 2 { n / 2 } else { usize::MAX };
        let first = day_start + self.profile.offset + self.rng.random_range(0..600) * 1_000_000;
        let noise_ratio = self.cfg.noise / (1.0 - self.cfg.noise);
        let noise_q = noise_ratio / (1.0 + noise_ratio);
        let mut steps: Vec<&CStep> = Vec::new();
        let mut noise_at: Vec<u32> = Vec::new();
        let mut prev_end: Option<Micros> = None;
        for k in 0..n {
            let routine = &self.routines[self.profile.pick_routine(&mut self.rng)];
            let variation = (!routine.variations.is_empty()
                && self.rng.random_bool(self.cfg.variant_steps))
            .then(|| self.rng.random_range(0..routine.variations.len()));
            routine.expand(variation, &mut steps);
            self.fill_slots(routine);
            if self.cfg.elements != ElementStyle::Catalogue {
                // Drawn only here, so that the catalogue style keeps its log draw for draw.
                self.layout = Layout {
                    shift: u32::from(self.rng.random_bool(0.25)),
                    banner: self.rng.random_range(1..=3),
                };
            }

            // Noise: on average `noise_ratio` noise events per routine event, 40% of them in the
            // pause before the instance, the rest between its steps.
            noise_at.clear();
            noise_at.resize(steps.len(), 0);
            if noise_q > 0.0 {
                for _ in 0..steps.len() {
                    while self.rng.random::<f64>() < noise_q {
                        let at = if steps.len() < 2 || self.rng.random_bool(0.4) {
                            0
                        } else {
                            self.rng.random_range(1..steps.len())
                        };
                        noise_at[at] += 1;
                    }
                }
            }

            let mut inst = TruthInstance {
                id: *next_instance,
                routine: routine.id,
                session: self.session.clone(),
                user: self.profile.user.clone(),
                variant: variation.map(|v| routine.variations[v].0.to_owned()),
                events: Vec::with_capacity(steps.len()),
            };
            *next_instance += 1;

            // The pause before the instance, with its noise right after the previous instance, in
            // the middle of the pause, or just before this one, a third of the time each.
            let mut start = match prev_end {
                None => first,
                Some(end) if self.cfg.pauses => end + self.cfg.gap.draw(&mut self.rng),
                Some(end) => end + self.think(),
            };
            if k == lunch_before && self.cfg.pauses && self.cfg.lunch_break {
                start += self.cfg.lunch.draw(&mut self.rng);
            }
            if noise_at[0] > 0 {
                let end = prev_end.unwrap_or(first);
                let from = match self.rng.random_range(0..3) {
                    0 => end,
                    1 => end + ((start - end) as f64 * self.rng.random_range(0.2..0.8)) as Micros,
                    _ => end.max(start - noise_at[0] as Micros * 3_000_000),
                };
                self.noise_run(noise_at[0], from, emit)?;
            }
            for (i, step) in steps.iter().enumerate() {
                let ts = if i == 0 {
                    let after = self.ready + self.think();
                    if self.last_ts.is_some() {
                        start.max(after)
                    } else {
                        start
                    }
                } else {
                    self.noise_run(noise_at[i], self.ready, emit)?;
                    self.ready + self.think()
                };
                let ts = self.emit_step(step, ts, emit)?;
                inst.events.push(ts);
            }
            prev_end = Some(self.ready);
            if let Some(done) = &mut self.done {
                done.push(process_log::Done {
                    instance: inst.id,
                    routine: routine.id,
                    user: self.profile.user.clone(),
                    start: inst.events.first().copied().unwrap_or(self.ready),
                    end: self.ready,
                    slots: routine
                        .slot_names
                        .iter()
                        .copied()
                        .zip(self.slots.iter().cloned())
                        .collect(),
                });
            }
            truth.instances.push(inst);
        }
        Ok(())
    }

    fn fill_slots(&mut self, routine: &Routine) {
        self.slots.clear();
        for generate in &routine.slots {
            let mut g = values::Gen {
                rng: &mut self.rng,
                prev: &self.slots,
                date: self.date,
            };
            let v = generate(&mut g);
            self.slots.push(v);
        }
    }

    /// The pause before an action.
    fn think(&mut self) -> Micros {
        self.cfg.think_time.draw(&mut self.rng).max(1_000)
    }

    /// How long typing `text` takes.
    fn typing(&mut self, text: &str) -> Micros {
        let per_char = self.rng.random_range(0.08..0.2);
        ((text.chars().count() as f64 * per_char).min(MAX_TYPING_S) * SECOND) as Micros
    }

    /// Makes `ts` strictly later than the last event and logs idle markers for a long pause.
    fn place<E: From<Error>>(
        &mut self,
        ts: Micros,
        emit: &mut impl FnMut(&Event) -> Result<(), E>,
    ) -> Result<Micros, E> {
        let Some(last) = self.last_ts else {
            return Ok(ts);
        };
        let ts = ts.max(last + 1);
        if let Err(why) = check_ts(ts) {
            // `validate` leaves a week of slack; only an extreme day (thousands of instances,
            // hour-long pauses) started near the end of the range gets here.
            return Err(Error::Invalid(format!(
                "simulator config, field `start`: the simulated days run past the log's time range ({why})"
            ))
            .into());
        }
        let idle_after = (self.cfg.idle_after_s * SECOND) as Micros;
        let active = self.ready.max(last);
        if ts - active > idle_after + 2_000 {
            // As the recorder logs them: no application or window. The caller fills the event after
            // this, so the buffer can carry the markers.
            self.reset_event(EventKind::IdleStart, active + idle_after);
            self.ev.app.clear();
            self.ev.window.clear();
            emit(&self.ev)?;
            self.ev.kind = EventKind::IdleEnd;
            self.ev.ts = ts - 1_000;
            emit(&self.ev)?;
            self.idle += 2;
            self.total += 2;
        }
        Ok(ts)
    }

    /// Clears the reused event down to session, user, host, and the application in focus.
    fn reset_event(&mut self, kind: EventKind, ts: Micros) {
        let e = &mut self.ev;
        e.kind = kind;
        e.ts = ts;
        e.app.clear();
        e.app.push_str(self.cur_app.name());
        e.window.clear();
        e.window.push_str(&self.cur_window);
        e.element = None;
        e.x = None;
        e.y = None;
        e.wx = None;
        e.wy = None;
        e.text = None;
        e.value_hash = None;
        e.attrs.clear();
    }

    fn set_pos(&mut self, app: App, (wx, wy): (i32, i32), jitter: bool) {
        let (jx, jy) = if jitter {
            (self.rng.random_range(-4..=4), self.rng.random_range(-3..=3))
        } else {
            (0, 0)
        };
        let (ox, oy) = self.profile.origins[app as usize];
        self.ev.wx = Some(wx + jx);
        self.ev.wy = Some(wy + jy);
        self.ev.x = Some(ox + wx + jx);
        self.ev.y = Some(oy + wy + jy);
    }

    fn send<E: From<Error>>(
        &mut self,
        emit: &mut impl FnMut(&Event) -> Result<(), E>,
    ) -> Result<(), E> {
        emit(&self.ev)?;
        self.last_ts = Some(self.ev.ts);
        self.ready = self.ready.max(self.ev.ts);
        self.total += 1;
        if !matches!(self.ev.kind, EventKind::IdleStart | EventKind::IdleEnd) {
            self.cur_window.clear();
            self.cur_window.push_str(&self.ev.window);
            self.cur_app = app_named(&self.ev.app).unwrap_or(self.cur_app);
        }
        Ok(())
    }

    fn emit_step<E: From<Error>>(
        &mut self,
        step: &CStep,
        ts: Micros,
        emit: &mut impl FnMut(&Event) -> Result<(), E>,
    ) -> Result<Micros, E> {
        let ts = self.place(ts, emit)?;
        let ctx = Ctx {
            slots: &self.slots,
            login: &self.profile.login,
            host: &self.profile.host,
            date: self.date_str,
        };
        let e = &mut self.ev;
        e.ts = ts;
        e.kind = step.kind;
        e.app.clear();
        e.app.push_str(step.app.name());
        e.window.clear();
        step.window.render(&mut e.window, &ctx);
        e.element = match &step.element {
            _ if self.no_elements[step.app as usize] => None,
            None => None,
            Some([r, n, i]) => {
                let text = |t: &Option<Tpl>| t.as_ref().map(|t| t.to_string(&ctx));
                let (name, id) = (text(n), text(i));
                Some(match self.cfg.elements {
                    ElementStyle::Catalogue => Element {
                        role: text(r),
                        name,
                        id,
                        path: None,
                    },
                    style => captured(
                        style,
                        step.app,
                        step.role,
                        name,
                        id,
                        &e.window,
                        step.index,
                        self.layout,
                    ),
                })
            }
        };
        e.attrs.clear();
        match &step.value {
            Some(v) => {
                let text = v.to_string(&ctx);
                e.value_hash = Some(ValueHash::keyed(&ValueHash::IMPORT_KEY, &text));
                e.text = Some(text);
            }
            None => {
                e.text = None;
                e.value_hash = None;
            }
        }
        // The attributes the recorder logs: the keys of a shortcut, copy or paste.
        let keys = match step.kind {
            EventKind::Copy => Some("ctrl+c"),
            EventKind::Paste => Some("ctrl+v"),
            _ => step.keys,
        };
        if let Some(keys) = keys {
            e.attrs.insert("keys".into(), keys.into());
        }
        for (k, v) in &step.attrs {
            e.attrs.insert((*k).into(), v.to_string(&ctx));
        }
        match step.pos {
            Some(pos) => self.set_pos(step.app, pos, true),
            None => {
                let e = &mut self.ev;
                (e.x, e.y, e.wx, e.wy) = (None, None, None, None);
            }
        }
        if step.kind == EventKind::Scroll {
            self.ev.attrs.insert("dx".into(), "0".into());
            self.ev.attrs.insert("dy".into(), "3".into());
        }
        if step.kind == EventKind::Drag {
            // A selection drag to the right along the line.
            let len = self.rng.random_range(180..420);
            let e = &mut self.ev;
            for (k, v) in [
                ("to_x", e.x),
                ("to_y", e.y),
                ("to_wx", e.wx),
                ("to_wy", e.wy),
            ] {
                if let Some(v) = v {
                    let v = if k.ends_with('x') { v + len } else { v };
                    e.attrs.insert(k.into(), v.to_string());
                }
            }
        }
        let duration = match (step.kind, self.ev.text.take()) {
            (EventKind::Type, Some(text)) => {
                let d = self.typing(&text);
                self.ev
                    .attrs
                    .insert("duration_ms".into(), (d / 1000).to_string());
                self.ev.text = Some(text);
                d
            }
            (_, text) => {
                self.ev.text = text;
                0
            }
        };
        self.send(emit)?;
        self.ready = ts + duration;
        Ok(ts)
    }

    /// Emits `budget` noise events, one short burst after another, starting after `from`.
    fn noise_run<E: From<Error>>(
        &mut self,
        mut budget: u32,
        from: Micros,
        emit: &mut impl FnMut(&Event) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut t = from;
        while budget > 0 {
            let detour = budget >= 2 && self.rng.random_bool(0.35);
            if detour {
                let size = budget.min(2 + self.rng.random_range(0..=2));
                self.detour(size, &mut t, emit)?;
                budget -= size;
            } else {
                t += self.cfg.think_time.draw(&mut self.rng);
                let ts = self.place(t, emit)?;
                self.stray(ts);
                self.send(emit)?;
                self.noise += 1;
                t = ts;
                budget -= 1;
            }
        }
        Ok(())
    }

    /// A single noise event in the window in focus: a click on nothing in particular, a scroll, or
    /// a shortcut pressed by habit.
    fn stray(&mut self, ts: Micros) {
        let roll = self.rng.random::<f64>();
        let kind = if roll < 0.45 {
            EventKind::Click
        } else if roll < 0.85 {
            EventKind::Scroll
        } else {
            EventKind::Shortcut
        };
        self.reset_event(kind, ts);
        if kind == EventKind::Shortcut {
            let keys = values::STRAY_KEYS[self.rng.random_range(0..values::STRAY_KEYS.len())];
            self.ev.attrs.insert("keys".into(), keys.into());
            return;
        }
        let pos = (
            self.rng.random_range(40..1200),
            self.rng.random_range(60..760),
        );
        self.set_pos(self.cur_app, pos, false);
        if kind == EventKind::Scroll {
            let dy = if self.rng.random_bool(0.7) { "3" } else { "-3" };
            self.ev.attrs.insert("dx".into(), "0".into());
            self.ev.attrs.insert("dy".into(), dy.into());
        }
    }

    /// A visit to an unrelated application and back: focus, `size - 2` actions there, focus back.
    fn detour<E: From<Error>>(
        &mut self,
        size: u32,
        t: &mut Micros,
        emit: &mut impl FnMut(&Event) -> Result<(), E>,
    ) -> Result<(), E> {
        let (back_app, back_window) = (self.cur_app, self.cur_window.clone());
        let mut place = &values::NOISE_PLACES[self.rng.random_range(0..values::NOISE_PLACES.len())];
        while place.window == self.cur_window {
            place = &values::NOISE_PLACES[self.rng.random_range(0..values::NOISE_PLACES.len())];
        }
        for i in 0..size {
            *t += self.cfg.think_time.draw(&mut self.rng);
            let ts = self.place(*t, emit)?;
            *t = ts;
            if i == 0 {
                self.cur_app = place.app;
                self.cur_window.clear();
                self.cur_window.push_str(place.window);
                self.reset_event(EventKind::Focus, ts);
            } else if i == size - 1 {
                self.cur_app = back_app;
                self.cur_window.clone_from(&back_window);
                self.reset_event(EventKind::Focus, ts);
            } else {
                let (role, name, id) =
                    place.elements[self.rng.random_range(0..place.elements.len())];
                if role == "textbox" {
                    let msg = values::CHAT[self.rng.random_range(0..values::CHAT.len())];
                    self.reset_event(EventKind::Type, ts);
                    self.ev.text = Some(msg.to_owned());
                    self.ev.value_hash = Some(ValueHash::keyed(&ValueHash::IMPORT_KEY, msg));
                } else if self.rng.random_bool(0.25) {
                    self.reset_event(EventKind::Scroll, ts);
                    self.ev.attrs.insert("dx".into(), "0".into());
                    self.ev.attrs.insert("dy".into(), "3".into());
                } else {
                    self.reset_event(EventKind::Click, ts);
                }
                if self.ev.kind != EventKind::Scroll && !self.no_elements[place.app as usize] {
                    let part = |s: &str| (!s.is_empty()).then(|| s.to_owned());
                    self.ev.element = Some(match self.cfg.elements {
                        ElementStyle::Catalogue => element(role, name, id),
                        style => {
                            let index = place.elements.iter().position(|e| e.1 == name);
                            captured(
                                style,
                                place.app,
                                role,
                                part(name),
                                part(id),
                                place.window,
                                index.unwrap_or(0) as u32,
                                self.layout,
                            )
                        }
                    });
                }
                if self.ev.kind != EventKind::Type {
                    let pos = (
                        self.rng.random_range(40..900),
                        self.rng.random_range(60..700),
                    );
                    self.set_pos(place.app, pos, false);
                }
            }
            self.send(emit)?;
            self.noise += 1;
        }
        Ok(())
    }
}

fn element(role: &str, name: &str, id: &str) -> Element {
    let part = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    Element {
        role: part(role),
        name: part(name),
        id: part(id),
        path: None,
    }
}

/// An element as the recorder (`Atspi`) or a web recorder (`Web`) captures it, from the catalogue's
/// role, name and id. The catalogue's roles are its own shorthand (upper case for HTML tags); see
/// [`ElementStyle`] for what each style keeps.
#[allow(clippy::too_many_arguments)]
fn captured(
    style: ElementStyle,
    app: App,
    role: &str,
    name: Option<String>,
    id: Option<String>,
    window: &str,
    index: u32,
    layout: Layout,
) -> Element {
    let html = role.chars().next().is_some_and(|c| c.is_ascii_uppercase());
    if style == ElementStyle::Web && app == App::Browser && html {
        let tag = role.to_ascii_lowercase();
        let path = match tag.as_str() {
            "input" | "select" | "option" | "button" | "textarea" => format!(
                "/html/body/div[{}]/div[2]/main/form/div[{}]/{tag}",
                layout.banner,
                index + 1 + layout.shift
            ),
            _ => format!(
                "/html/body/div[{}]/div[2]/main/{tag}[{}]",
                layout.banner,
                index + 1
            ),
        };
        return Element {
            role: Some(tag),
            name,
            id: None,
            path: Some(path),
        };
    }
    let atspi = match role {
        "button" | "BUTTON" => "push button",
        "textbox" | "INPUT" => "entry",
        "combobox" | "SELECT" => "combo box",
        "menuitem" | "OPTION" => "menu item",
        "menu" => "menu",
        "tab" => "page tab",
        "cell" | "row" => "table cell",
        "treeitem" => "tree item",
        "listitem" => "list item",
        "text" => "paragraph",
        "document" => "document web",
        "terminal" => "terminal",
        "A" => "link",
        "H1" => "heading",
        "IMG" => "image",
        _ => "unknown",
    };
    // A spreadsheet cell is named by its reference; a paragraph and a terminal have no name of
    // their own (their text is content, not a label).
    let name = match role {
        "cell" => id.clone(),
        "text" | "terminal" => None,
        _ => name,
    };
    // Gecko (Firefox, Thunderbird) exposes DOM ids as the object attribute `id`; GTK 3, VCL and
    // VTE give none.
    let id = match (app, role) {
        (_, "cell") => None,
        (App::Browser | App::Mail, _) => id,
        _ => None,
    };
    let title = |sep: &str| window.split(sep).next().unwrap_or(window).to_owned();
    let container = match app {
        App::Browser => format!(
            "internal frame[0] / document web '{}'[0] / section[{}] / form[0]",
            title(" — "),
            layout.banner - 1
        ),
        App::Mail => "section[0]".to_owned(),
        App::Calc => format!(
            "panel[0] / document spreadsheet '{}'[0] / table[0]",
            title(" - ")
        ),
        App::Erp => "filler[0] / panel[1]".to_owned(),
        App::Editor => "filler[0] / scroll pane[0]".to_owned(),
        App::Terminal | App::Chat | App::Files | App::Calculator => "filler[0]".to_owned(),
    };
    let leaf = match &name {
        Some(n) => format!("{atspi} '{n}'[{}]", index + layout.shift),
        None => format!("{atspi}[{}]", index + layout.shift),
    };
    Element {
        role: Some(atspi.to_owned()),
        name,
        id,
        path: Some(format!("frame '{window}' / {container} / {leaf}")),
    }
}

fn app_named(name: &str) -> Option<App> {
    use App::*;
    [
        Mail, Browser, Calc, Terminal, Erp, Editor, Chat, Files, Calculator,
    ]
    .into_iter()
    .find(|a| a.name() == name)
}

#[cfg(test)]
mod tests;
