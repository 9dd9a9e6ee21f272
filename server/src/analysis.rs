//! The mining result the read API, the dashboard and the report show, computed from the store.

use miner::graph::{self, TaskGraph};
use miner::{Log, Mining, NoProgress, Routine};
use serde::Serialize;
use uilog::{Micros, Stats, Store};

use crate::error::Result;
use crate::privacy::Privacy;

/// The store's contents at one moment, mined.
pub struct Analysis {
    pub stats: Stats,
    pub log: Log,
    pub mining: Mining,
    /// The task graph of the whole log.
    pub graph: TaskGraph,
    pub privacy: Privacy,
    /// Bot drafts (codegen) per routine id, as YAML; a routine whose draft failed has the error.
    pub bots: Vec<BotDraft>,
    /// What the store held when this was computed (see [`version`]).
    pub version: (i64, i64),
    pub computed_at: Micros,
}

/// A routine's bot draft, as `taskmine bots` would write it.
#[derive(Debug, Clone, Serialize)]
pub struct BotDraft {
    pub routine: u32,
    pub name: String,
    pub steps: usize,
    pub inputs: usize,
    pub yaml: String,
}

/// Drafts a bot for every routine. Drafting is an extra: when it fails the pages show the routines
/// without bots, and the reason is logged.
fn draft_bots(store: &Store, log: &Log, mining: &Mining) -> Vec<BotDraft> {
    let drafts = match codegen::draft_bots(store, log, mining, mining.routines.len()) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!("no bot drafts: {e}");
            return Vec::new();
        }
    };
    drafts
        .into_iter()
        .filter_map(|d| match d.bot.to_yaml() {
            Ok(yaml) => Some(BotDraft {
                routine: d.bot.source.routine,
                name: d.bot.name.clone(),
                steps: d.bot.steps.len(),
                inputs: d.bot.inputs.len(),
                yaml,
            }),
            Err(e) => {
                tracing::warn!("bot {}: {e}", d.bot.name);
                None
            }
        })
        .collect()
}

/// What the store held when a result was computed: see [`Store::version`].
pub fn version(store: &Store) -> Result<(i64, i64)> {
    Ok(store.version()?)
}

impl Analysis {
    /// Mines the store. `opts.min_users` is set to the policy's k, so that nothing shown is seen by
    /// fewer than k users.
    pub fn compute(store: &Store, opts: &miner::Options, privacy: Privacy) -> Result<Analysis> {
        let version = version(store)?;
        let stats = store.stats()?;
        let mut opts = opts.clone();
        opts.min_users = opts.min_users.max(privacy.k);
        let (log, mining) = miner::mine(store, &opts, &mut NoProgress)?;
        let mut a = Analysis::from_mining(store, stats, log, mining, privacy);
        a.version = version;
        Ok(a)
    }

    /// Wraps a mining run done elsewhere (`taskmine mine --report`); `store` is the store `log` was
    /// loaded from (bot drafts read their sample values from it).
    pub fn from_mining(
        store: &Store,
        stats: Stats,
        log: Log,
        mining: Mining,
        privacy: Privacy,
    ) -> Analysis {
        let graph = graph::whole_log(&log, mining.summary.idle_gap_secs);
        let bots = draft_bots(store, &log, &mining);
        Analysis {
            stats,
            log,
            mining,
            graph,
            privacy,
            bots,
            version: (0, 0),
            computed_at: jiff::Timestamp::now().as_microsecond(),
        }
    }

    pub fn bot(&self, routine: u32) -> Option<&BotDraft> {
        self.bots.iter().find(|b| b.routine == routine)
    }

    pub fn routine(&self, id: u32) -> Option<&Routine> {
        self.mining.routines.iter().find(|r| r.id == id)
    }

    /// The part of the task graph a routine's instances walk through.
    pub fn routine_graph(&self, r: &Routine) -> TaskGraph {
        graph::of_routine(&self.log, r)
    }

    /// The routines worth automating, best first: those with time to save.
    pub fn candidates(&self) -> impl Iterator<Item = &Routine> {
        self.mining
            .routines
            .iter()
            .filter(|r| r.score.hours_saved_per_month > 0.0)
    }

    /// Hours a month the `n` best candidates would save together.
    pub fn top_hours(&self, n: usize) -> f64 {
        self.candidates()
            .take(n)
            .map(|r| r.score.hours_saved_per_month)
            .sum()
    }
}

/// How long each instance of a routine took, in seconds.
pub fn durations_s(r: &Routine) -> Vec<f64> {
    r.instances
        .iter()
        .map(|i| (i.end_ts - i.start_ts) as f64 / 1e6)
        .collect()
}

/// A routine's name for lists: its first and last step.
pub fn routine_name(r: &Routine) -> String {
    match (r.labels.first(), r.labels.last()) {
        (Some(a), Some(b)) if r.labels.len() > 1 => format!("{a} → … → {b}"),
        (Some(a), _) => a.clone(),
        _ => format!("routine {}", r.id),
    }
}

/// The summary the overview and `GET /api/v1/summary` show.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub events: u64,
    pub users: u64,
    pub hosts: u64,
    pub sessions: u64,
    pub apps: u64,
    pub first_ts: Option<String>,
    pub last_ts: Option<String>,
    pub span_days: f64,
    pub routines: usize,
    pub candidates: usize,
    /// Routines withheld because fewer than k users perform them.
    pub withheld: u64,
    pub k: u64,
    /// How many top candidates `top_hours_saved_per_month` adds up.
    pub top_n: usize,
    pub top_hours_saved_per_month: f64,
}

pub const TOP_N: usize = 5;

impl Analysis {
    pub fn overview(&self) -> Overview {
        let s = &self.stats;
        let span_days = match (s.first_ts, s.last_ts) {
            (Some(a), Some(b)) => (b - a) as f64 / 86_400e6,
            _ => 0.0,
        };
        Overview {
            events: s.events,
            users: s.users,
            hosts: s.hosts,
            sessions: s.sessions,
            apps: s.apps,
            first_ts: s.first_ts.map(uilog::format_ts),
            last_ts: s.last_ts.map(uilog::format_ts),
            span_days,
            routines: self.mining.routines.len(),
            candidates: self.candidates().count(),
            withheld: self.mining.withheld,
            k: self.privacy.k,
            top_n: TOP_N.min(self.candidates().count()),
            top_hours_saved_per_month: self.top_hours(TOP_N),
        }
    }
}
