//! The mining result the read API, the dashboard and the report show, computed from the store.

use miner::graph::{self, TaskGraph};
use miner::{Log, Mining, NoProgress, Routine};
use serde::Serialize;
use uilog::{Conn, LogRead, LogStore, Micros, Row, Stats, Store};

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
    /// The stored mining run this is (`mining_runs.id`), when it was stored or read back.
    pub run: Option<i64>,
    /// Whether this was mined now or read back from a stored run.
    pub origin: Origin,
    /// Each routine's name by id, as the miner makes it ([`miner::naming::routine_names`]); the CLI
    /// shows the same.
    pub names: std::collections::BTreeMap<u32, String>,
}

/// Where a result came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Mined from the log just now.
    Mined,
    /// Read back from the run stored for this state of the log, without mining.
    Stored,
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
/// without bots, and the reason is logged. `log_store` is the log `log` was loaded from (on either
/// backend); clicks are anchored by snapshots where the log is a SQLite store that keeps them.
fn draft_bots(
    log_store: &dyn LogRead,
    snapshots: Option<&Store>,
    log: &Log,
    mining: &Mining,
    names: &std::collections::BTreeMap<u32, String>,
) -> Vec<BotDraft> {
    let top = mining.routines.len();
    let drafts = match codegen::draft_bots_from(log_store, snapshots, log, mining, names, top) {
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

/// The drafts' tables in a SQLite file; on PostgreSQL they are made by
/// [`crate::db::SERVER_PG_MIGRATIONS`].
const DRAFTS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS server_bot_drafts (
    run_id INTEGER NOT NULL,
    routine INTEGER NOT NULL,
    name TEXT NOT NULL,
    steps INTEGER NOT NULL,
    inputs INTEGER NOT NULL,
    yaml TEXT NOT NULL,
    PRIMARY KEY (run_id, routine)
);
CREATE TABLE IF NOT EXISTS server_drafted_runs (run_id INTEGER PRIMARY KEY);
";

/// Makes the drafts' tables where they are missing: SQLite's by [`DRAFTS_SCHEMA`], PostgreSQL's by
/// the server's migrations (a log whose server tables no server has made yet, such as one that
/// `taskmine erase` reaches first).
fn ensure_drafts(conn: Conn<'_>) -> Result<()> {
    if conn.is_postgres() {
        conn.migrate_postgres(&crate::db::SERVER_TABLES)?;
    } else {
        conn.sqlite_batch(DRAFTS_SCHEMA)?;
    }
    Ok(())
}

/// How many of the server's stored runs are kept: the one served and the one before it.
const KEEP_RUNS: usize = 2;

/// Stores a fresh result: the miner's run (with the log's version and the spans) and the bot
/// drafts beside it; older runs of the server are pruned. Returns the run id.
fn store_result(conn: Conn<'_>, a: &Analysis) -> Result<i64> {
    let run = miner::results::save_for_log(conn, &a.mining, a.version)?;
    ensure_drafts(conn)?;
    conn.transaction(|tx| -> Result<()> {
        for b in &a.bots {
            tx.exec(
                "INSERT INTO server_bot_drafts (run_id, routine, name, steps, inputs, yaml)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (run_id, routine) DO UPDATE SET name = excluded.name,
                     steps = excluded.steps, inputs = excluded.inputs, yaml = excluded.yaml",
                &[
                    &run,
                    &i64::from(b.routine),
                    &b.name,
                    &(b.steps as i64),
                    &(b.inputs as i64),
                    &b.yaml,
                ],
            )?;
        }
        // A run without drafts (drafting failed) is told apart from a run never drafted.
        tx.exec(
            "INSERT INTO server_drafted_runs (run_id) VALUES ($1) ON CONFLICT (run_id) DO NOTHING",
            &[&run],
        )?;
        Ok(())
    })?;
    miner::results::prune_log_runs(conn, KEEP_RUNS)?;
    forget_orphan_drafts(conn)?;
    Ok(run)
}

/// Stores the business objects of the instances of a result mined and stored just now (link and
/// the OCEL export read them; without them they extract them again). Apart from [`store_result`]
/// so that the job publishes the result first: on a fleet's log (10M events) extracting them took
/// longer than mining, and the first page waited for it. The result stands without them.
pub fn store_objects(log: &LogStore, a: &Analysis) {
    let (Origin::Mined, Some(run)) = (a.origin, a.run) else {
        return;
    };
    if let Err(e) = miner::objects::store_default(log, log.into(), run, &a.mining) {
        tracing::warn!("business objects of mining run {run} not stored: {e}");
    }
}

/// The bot drafts stored with a run (`None` when the run has none stored).
fn load_drafts(conn: Conn<'_>, run: i64) -> Result<Option<Vec<BotDraft>>> {
    ensure_drafts(conn)?;
    let drafted = conn.query_opt(
        "SELECT run_id FROM server_drafted_runs WHERE run_id = $1",
        &[&run],
    )?;
    if drafted.is_none() {
        return Ok(None);
    }
    let rows = conn.query(
        "SELECT routine, name, steps, inputs, yaml FROM server_bot_drafts WHERE run_id = $1 ORDER BY routine",
        &[&run],
    )?;
    let count = |r: &Row, i: usize| -> Result<usize> {
        let v = r.int(i)?;
        usize::try_from(v)
            .map_err(|_| crate::Error::Server(format!("server_bot_drafts: {v} is not a count")))
    };
    let drafts = rows
        .iter()
        .map(|r| {
            let routine = r.int(0)?;
            Ok(BotDraft {
                routine: u32::try_from(routine).map_err(|_| {
                    crate::Error::Server(format!(
                        "server_bot_drafts: {routine} is not a routine id"
                    ))
                })?,
                name: r.text(1)?,
                steps: count(r, 2)?,
                inputs: count(r, 3)?,
                yaml: r.text(4)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(drafts))
}

/// Deletes the bot drafts of runs that no longer exist (pruned, or deleted by an erasure: a
/// draft's sample values may be the erased person's). Returns how many runs' drafts went.
pub fn forget_orphan_drafts<'a>(db: impl Into<Conn<'a>>) -> Result<u64> {
    let conn = db.into();
    let runs = miner::results::run_ids(conn)?;
    ensure_drafts(conn)?;
    conn.transaction(|tx| -> Result<u64> {
        let mut stored = Vec::new();
        // Drafts written without their run marked drafted (never by this version) go as well.
        for sql in [
            "SELECT run_id FROM server_drafted_runs",
            "SELECT DISTINCT run_id FROM server_bot_drafts",
        ] {
            for r in tx.query(sql, &[])? {
                stored.push(r.int(0)?);
            }
        }
        stored.sort_unstable();
        stored.dedup();
        stored.retain(|r| runs.binary_search(r).is_err());
        for run in &stored {
            tx.exec("DELETE FROM server_bot_drafts WHERE run_id = $1", &[run])?;
            tx.exec("DELETE FROM server_drafted_runs WHERE run_id = $1", &[run])?;
        }
        Ok(stored.len() as u64)
    })
}

/// What the store held when a result was computed: see [`uilog::LogRead::version`].
pub fn version(store: &dyn LogRead) -> Result<(i64, i64)> {
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
        Analysis::wrap(
            store,
            Some(store),
            store.into(),
            stats,
            log,
            mining,
            privacy,
        )
    }

    /// [`Analysis::from_mining`] for a log on either backend (on PostgreSQL no click of a bot
    /// draft is anchored by a snapshot: they are kept in SQLite files only).
    pub fn from_log_store(
        store: &LogStore,
        stats: Stats,
        log: Log,
        mining: Mining,
        privacy: Privacy,
    ) -> Analysis {
        Analysis::wrap(
            store,
            store.as_sqlite(),
            store.into(),
            stats,
            log,
            mining,
            privacy,
        )
    }

    /// [`Analysis::from_mining`] on either backend: `conn` is the log's database (routine names).
    fn wrap(
        log_store: &dyn LogRead,
        snapshots: Option<&Store>,
        conn: Conn<'_>,
        stats: Stats,
        log: Log,
        mining: Mining,
        privacy: Privacy,
    ) -> Analysis {
        let graph = graph::whole_log(&log, mining.summary.idle_gap_secs);
        let names = names(conn, &mining);
        let bots = draft_bots(log_store, snapshots, &log, &mining, &names);
        Analysis {
            names,
            stats,
            log,
            mining,
            graph,
            privacy,
            bots,
            version: (0, 0),
            computed_at: jiff::Timestamp::now().as_microsecond(),
            run: None,
            origin: Origin::Mined,
        }
    }

    /// The result for the log as it is now, on either backend: the stored run that was mined from
    /// this very state of the log with these options when there is one (its spans checked against
    /// the log), otherwise a new mining run, which is then stored (with its bot drafts) for the
    /// next time, in the log's own database. Storing is best effort: a result that could not be
    /// stored is still served, and the reason logged.
    pub fn load_or_mine(
        store: &LogStore,
        opts: &miner::Options,
        privacy: Privacy,
    ) -> Result<Analysis> {
        let version = version(store)?;
        let stats = store.stats()?;
        let mut opts = opts.clone();
        opts.min_users = opts.min_users.max(privacy.k);
        opts.validate()?;
        let conn = Conn::from(store);
        let snapshots = store.as_sqlite();
        let mut loaded_log = None;
        if let Some((run, mining)) = miner::results::load_for_log(conn, version, &opts)? {
            let log = Log::load(store, &opts.abstraction, &mut NoProgress)?;
            if miner::results::spans_fit(&log, &mining) {
                let names = names(conn, &mining);
                let bots = match load_drafts(conn, run)? {
                    Some(b) => b,
                    None => draft_bots(store, snapshots, &log, &mining, &names),
                };
                let graph = graph::whole_log(&log, mining.summary.idle_gap_secs);
                // The pages show the result's age: when it was mined, not when it was read back.
                let computed_at = miner::results::run_created_at(conn, run)?
                    .unwrap_or_else(|| jiff::Timestamp::now().as_microsecond());
                tracing::info!("read back stored mining run {run} for this state of the log");
                return Ok(Analysis {
                    names,
                    stats,
                    log,
                    mining,
                    graph,
                    privacy,
                    bots,
                    version,
                    computed_at,
                    run: Some(run),
                    origin: Origin::Stored,
                });
            }
            tracing::warn!("stored mining run {run} does not fit the log any more; mining again");
            loaded_log = Some(log);
        }
        let log = match loaded_log {
            Some(log) => log,
            None => Log::load(store, &opts.abstraction, &mut NoProgress)?,
        };
        let mining = miner::mine_log(&log, &opts, &mut NoProgress);
        let mut a = Analysis::wrap(store, snapshots, conn, stats, log, mining, privacy);
        a.version = version;
        match store_result(conn, &a) {
            Ok(run) => {
                tracing::info!("mined the log and stored the result as mining run {run}");
                a.run = Some(run);
                // One age for the result whether it is served now or read back after a restart.
                if let Ok(Some(at)) = miner::results::run_created_at(conn, run) {
                    a.computed_at = at;
                }
            }
            Err(e) => tracing::warn!("the mining result is served but not stored: {e}"),
        }
        Ok(a)
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

/// Routine names by id: readable, unique within the result, at most 60 characters; the names
/// analysts gave (`taskmine name`) where there are some.
fn names(conn: Conn<'_>, mining: &Mining) -> std::collections::BTreeMap<u32, String> {
    let given = miner::results::given_names(conn, mining).unwrap_or_else(|e| {
        tracing::warn!("routines keep the names the miner makes: {e}");
        Default::default()
    });
    mining
        .routines
        .iter()
        .map(|r| r.id)
        .zip(miner::naming::routine_names_given(mining, &given))
        .collect()
}

/// A routine's name for lists and pages (`Copy from mail "New hire" to HR Portal "New employee",
/// Save`), the same the CLI's `mine` shows.
pub fn routine_name(a: &Analysis, r: &Routine) -> String {
    a.names
        .get(&r.id)
        .cloned()
        .unwrap_or_else(|| miner::naming::describe(&a.mining.actions, r))
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
