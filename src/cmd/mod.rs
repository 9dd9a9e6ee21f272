//! One module per subcommand: each has its `Args` (clap) and a `run`.

pub mod agent;
pub mod audit;
pub mod bench;
pub mod bots;
pub mod doctor;
pub mod erase;
pub mod eval;
pub mod export;
pub mod graph;
pub mod import;
pub mod mine;
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
    /// The UI log database (SQLite).
    #[arg(long, default_value = DEFAULT_DB, env = "TASKMINE_DB")]
    pub db: PathBuf,
}

impl DbArg {
    pub fn open(&self) -> anyhow::Result<uilog::Store> {
        Ok(uilog::Store::open(&self.db)?)
    }

    /// Opens a database that must already exist: for commands that read a log, opening a missing
    /// path would create an empty one and report nothing instead of the mistake.
    pub fn open_existing(&self) -> anyhow::Result<uilog::Store> {
        if !self.db.exists() {
            anyhow::bail!(
                "{}: no such database (record, import or simulate a log first)",
                self.db.display()
            );
        }
        self.open()
    }
}
