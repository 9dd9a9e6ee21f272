//! One module per subcommand: each has its `Args` (clap) and a `run`.

pub mod agent;
pub mod audit;
pub mod bench;
pub mod bots;
pub mod copy;
pub mod doctor;
pub mod erase;
pub mod eval;
pub mod export;
pub mod graph;
pub mod import;
pub mod link;
pub mod mine;
pub mod name;
pub mod ocr;
pub mod pdd;
pub mod record;
pub mod replay;
pub mod serve;
pub mod simulate;
pub mod stats;
pub mod user;

use std::path::PathBuf;

/// The database every command reads or writes, unless `--db` names another.
pub const DEFAULT_DB: &str = "taskmine.db";

/// The `--db` option shared by the commands that use the store.
#[derive(clap::Args, Debug, Clone)]
pub struct DbArg {
    /// The UI log: a SQLite file, or a PostgreSQL database as `postgres://user:password@host/db`.
    #[arg(long, default_value = DEFAULT_DB, env = "TASKMINE_DB", hide_env_values = true)]
    pub db: PathBuf,
}

impl DbArg {
    /// Whether `--db` names a PostgreSQL database rather than a SQLite file.
    pub fn is_postgres(&self) -> bool {
        self.db.to_str().is_some_and(uilog::is_postgres_url)
    }

    /// The database as messages name it: the path, or the URL without its password.
    pub fn shown(&self) -> String {
        match self.db.to_str() {
            Some(url) if uilog::is_postgres_url(url) => uilog::redact_url(url),
            _ => self.db.display().to_string(),
        }
    }

    /// Opens the SQLite store, for the commands that work on SQLite files only (screen snapshots
    /// and their OCR): a PostgreSQL URL is refused in one line.
    pub fn open(&self) -> anyhow::Result<uilog::Store> {
        if self.is_postgres() {
            anyhow::bail!(
                "{}: PostgreSQL is not yet supported by this command; give a SQLite file with --db",
                self.shown()
            );
        }
        Ok(uilog::Store::open(&self.db)?)
    }

    /// Opens a database that must already exist: for commands that read a log, opening a missing
    /// path would create an empty one and report nothing instead of the mistake.
    pub fn open_existing(&self) -> anyhow::Result<uilog::Store> {
        self.check_exists()?;
        self.open()
    }

    /// Opens the UI log on whichever backend `--db` names.
    pub fn open_log(&self) -> anyhow::Result<uilog::LogStore> {
        Ok(uilog::LogStore::open(&self.db.to_string_lossy())?)
    }

    /// [`DbArg::open_log`] for a log that must already exist (a SQLite file that is there; a
    /// PostgreSQL database is created by its administrator, so it exists when it answers).
    pub fn open_log_existing(&self) -> anyhow::Result<uilog::LogStore> {
        self.check_exists()?;
        self.open_log()
    }

    fn check_exists(&self) -> anyhow::Result<()> {
        if !self.is_postgres() && !self.db.exists() {
            anyhow::bail!(
                "{}: no such database (record, import or simulate a log first)",
                self.db.display()
            );
        }
        Ok(())
    }
}

/// Options of the miner shared by `mine`, `bots`, `graph`, `eval` and `pdd`.
#[derive(clap::Args, Debug, Clone)]
pub struct MineOpts {
    /// Minimum number of segments a routine must occur in (default: 1 % of the segments, at least 3).
    #[arg(long)]
    pub min_support: Option<u64>,
    /// Minimum number of steps of a routine.
    #[arg(long, default_value_t = 3)]
    pub min_len: usize,
    /// A pause longer than this many seconds ends a segment (default: learned from the log).
    #[arg(long)]
    pub idle_gap: Option<f64>,
    /// Withhold routines seen by fewer than this many users (privacy: k).
    #[arg(long, default_value_t = 1)]
    pub min_users: u64,
    /// A YAML file of title rules (see the miner's `Rules`).
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

impl MineOpts {
    pub fn options(&self) -> anyhow::Result<miner::Options> {
        let mut o = miner::Options::default();
        if let Some(path) = &self.rules {
            o.abstraction.rules = miner::Rules::from_file(path)?;
        }
        if self.min_support == Some(0) {
            anyhow::bail!("--min-support must be at least 1");
        }
        if self.min_len == 0 {
            anyhow::bail!("--min-len must be at least 1");
        }
        if let Some(g) = self.idle_gap {
            if !(g.is_finite() && g > 0.0) {
                anyhow::bail!("--idle-gap must be a positive number of seconds, not {g}");
            }
        }
        o.discovery.min_support = self.min_support;
        o.discovery.min_len = self.min_len;
        o.segment.idle_gap_secs = self.idle_gap;
        o.min_users = self.min_users;
        Ok(o)
    }
}
