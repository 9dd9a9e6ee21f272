//! The simulator's settings: [`Config`] with its defaults, the ranges it draws from, the check
//! that its knobs make sense together, and the number of users an `events_target` needs.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::process_log;
use super::routine::{catalogue_len, compile_catalogue, Routine};
use crate::error::{Error, Result};
use crate::event::{check_ts, Micros};

pub(super) const SECOND: f64 = 1_000_000.0;
pub(super) const DAY: Micros = 86_400_000_000;
/// Typing takes this long per character at most, and a run of typing at most `MAX_TYPING_S`.
pub(super) const MAX_TYPING_S: f64 = 15.0;

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
    /// (see [`catalogue`](super::catalogue())), at most as many as it holds.
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
    /// Which routines of the catalogue to perform, by id ([`catalogue`](super::catalogue())
    /// numbers them from 1). When not empty it replaces `routines`: `[11]` is the long
    /// form-filling routine alone.
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

/// How the simulator writes an event's [`Element`](crate::Element).
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
    pub(super) fn draw(&self, rng: &mut ChaCha8Rng) -> Micros {
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
    pub(super) fn select(&self, mut all: Vec<Routine>) -> Vec<Routine> {
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
