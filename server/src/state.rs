//! What the handlers share: the server's configuration and limits, the writer thread's queue, the
//! token cache, the page templates and the latest mining result.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use uilog::Store;

use crate::agents::{self, Agent};
use crate::analysis::{self, Analysis};
use crate::error::{Error, Result};
use crate::pages::Pages;
use crate::privacy::Privacy;
use crate::replays;
use crate::wire::ApiError;
use crate::writer::{self, Job};

/// Limits on what one request may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of a request body after decompression.
    pub max_body_bytes: usize,
    /// Events in one batch.
    pub max_batch_events: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 16 << 20,
            max_batch_events: 20_000,
        }
    }
}

/// How a server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The UI log database; the server keeps its agents in the same file.
    pub db: PathBuf,
    pub limits: Limits,
    /// The policy in force; its k withholds routines seen across fewer users.
    pub privacy: Privacy,
    pub mining: miner::Options,
    /// Pages reuse a mining result this long before checking whether the store changed.
    pub remine_after: Duration,
    /// A copy of `templates/` to render pages from instead of the compiled-in templates.
    pub templates: Option<PathBuf>,
    /// Where `taskmine bots` wrote its drafts; replay reports are read from its subdirectories.
    pub bots_dir: Option<PathBuf>,
}

impl Config {
    pub fn new(db: impl Into<PathBuf>) -> Config {
        Config {
            db: db.into(),
            limits: Limits::default(),
            privacy: Privacy::builtin(),
            mining: miner::Options::default(),
            remine_after: Duration::from_secs(30),
            templates: None,
            bots_dir: None,
        }
    }
}

/// How long a token found in the database is trusted without asking it again; removing an agent
/// takes effect within this time.
const AUTH_CACHE_TTL: Duration = Duration::from_secs(10);

/// A reading connection for token look-ups, and the tokens seen recently (by hash).
type AuthCache = (rusqlite::Connection, HashMap<String, (Agent, Instant)>);

/// What the handlers share.
pub struct AppState {
    config: Config,
    pub(crate) writer: mpsc::Sender<Job>,
    auth: Mutex<AuthCache>,
    pub(crate) pages: Pages,
    /// The last mining result and when the store was last checked for changes. Behind an async lock
    /// so that page loads arriving together wait for one mining run instead of starting several.
    analysis: tokio::sync::Mutex<Option<(Arc<Analysis>, Instant)>>,
}

impl AppState {
    /// Opens the store (creating it and the server's table if needed) and starts the writer thread.
    pub fn new(config: Config) -> Result<Arc<AppState>> {
        let store = Store::open(&config.db)?;
        agents::ensure_schema(&store)?;
        let conn = rusqlite::Connection::open_with_flags(
            &config.db,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .map_err(Error::sqlite(&config.db))?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(Error::sqlite(&config.db))?;
        let pages = match &config.templates {
            Some(dir) => Pages::from_dir(dir)?,
            None => Pages::builtin()?,
        };
        let writer = writer::spawn_writer(store);
        Ok(Arc::new(AppState {
            config,
            writer,
            auth: Mutex::new((conn, HashMap::new())),
            pages,
            analysis: tokio::sync::Mutex::new(None),
        }))
    }

    /// The replay reports under the bots directory, read afresh (they are small and change when a
    /// replay runs, not when batches arrive).
    pub async fn replays(&self) -> Result<Vec<replays::ReplayEntry>, ApiError> {
        let Some(dir) = self.config.bots_dir.clone() else {
            return Ok(Vec::new());
        };
        tokio::task::spawn_blocking(move || replays::load(&dir))
            .await
            .map_err(ApiError::internal)
    }

    /// The mining result of the store as it is now, mined again when batches arrived since (at
    /// most once per `remine_after`).
    pub async fn analysis(&self) -> Result<Arc<Analysis>, ApiError> {
        let mut guard = self.analysis.lock().await;
        if let Some((a, checked)) = guard.as_mut() {
            if checked.elapsed() < self.config.remine_after {
                return Ok(Arc::clone(a));
            }
            let db = self.config.db.clone();
            let now = tokio::task::spawn_blocking(move || analysis::version(&Store::open(&db)?))
                .await
                .map_err(ApiError::internal)?
                .map_err(ApiError::internal)?;
            if now == a.version {
                *checked = Instant::now();
                return Ok(Arc::clone(a));
            }
        }
        let db = self.config.db.clone();
        let opts = self.config.mining.clone();
        let privacy = self.config.privacy.clone();
        let fresh = tokio::task::spawn_blocking(move || {
            Analysis::compute(&Store::open(&db)?, &opts, privacy)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        let fresh = Arc::new(fresh);
        *guard = Some((Arc::clone(&fresh), Instant::now()));
        Ok(fresh)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) async fn authenticate(
        self: &Arc<Self>,
        token: &str,
    ) -> Result<Option<Agent>, ApiError> {
        let hash = agents::hash_token(token);
        {
            let guard = self.auth.lock().expect("auth lock");
            if let Some((agent, seen)) = guard.1.get(&hash) {
                if seen.elapsed() < AUTH_CACHE_TTL {
                    return Ok(Some(agent.clone()));
                }
            }
        }
        let st = Arc::clone(self);
        let token = token.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut guard = st.auth.lock().expect("auth lock");
            let found = agents::authenticate(&guard.0, &token).map_err(ApiError::internal)?;
            match &found {
                Some(agent) => {
                    guard.1.insert(hash, (agent.clone(), Instant::now()));
                }
                None => {
                    guard.1.remove(&hash);
                }
            }
            Ok(found)
        })
        .await
        .map_err(ApiError::internal)?
    }
}
