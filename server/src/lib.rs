//! The taskmine server: an ingest API for recorders on other desktops, a read API for the mining
//! results, a server-rendered dashboard, and the same views as one self-contained HTML report.
//!
//! Writes go through one writer thread that owns the writing connection, so concurrent batches queue
//! instead of fighting over SQLite's write lock; reads open their own connections (WAL).
//!
//! What it must never do: write to the UI log's tables other than through [`uilog::Store::write_batch`],
//! or show a routine that fewer than k users perform (the miner withholds those).

pub mod agents;
pub mod analysis;
pub mod api;
pub mod bench;
pub mod client;
mod dashboard;
mod error;
pub mod ingest;
pub mod pages;
pub mod privacy;
pub mod replays;
pub mod report;
pub mod svg;
pub mod views;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::Router;
use tokio::sync::mpsc;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use uilog::Store;

pub use analysis::Analysis;
pub use error::{Error, Result};
pub use ingest::{Accepted, ApiError, Batch};
pub use pages::Pages;
pub use privacy::Privacy;

use agents::Agent;
use ingest::Job;

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
    writer: mpsc::Sender<Job>,
    auth: Mutex<AuthCache>,
    pages: Pages,
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
        let writer = ingest::spawn_writer(store);
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

    async fn authenticate(self: &Arc<Self>, token: &str) -> Result<Option<Agent>, ApiError> {
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

/// The routes of the server.
pub fn router(state: Arc<AppState>) -> Router {
    let limits = &state.config.limits;
    // Decompression runs first, so the limit counts the bytes after decompression (a small gzip
    // body cannot expand past it).
    let mut app = Router::new();
    for (_, path, handler) in api::routes() {
        app = if path == "/api/v1/events" {
            app.route(
                path,
                handler
                    .layer::<_, std::convert::Infallible>(RequestBodyLimitLayer::new(
                        limits.max_body_bytes,
                    ))
                    .layer::<_, std::convert::Infallible>(RequestDecompressionLayer::new())
                    .layer::<_, std::convert::Infallible>(axum::middleware::map_response(
                        ingest::json_limit_errors,
                    )),
            )
        } else {
            app.route(path, handler)
        };
    }
    app.merge(dashboard::routes())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such page") })
        .with_state(state)
}

/// Serves on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let state = AppState::new(config)?;
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| Error::Server(format!("serving failed: {e}")))
}

/// Binds `addr` and serves until Ctrl-C or SIGTERM, on a runtime of its own.
pub fn run(addr: SocketAddr, config: Config, on_listening: impl FnOnce(SocketAddr)) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Server(format!("cannot start the runtime: {e}")))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Error::Server(format!("cannot listen on {addr}: {e}")))?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::Server(format!("cannot listen on {addr}: {e}")))?;
        on_listening(local);
        serve(listener, config, shutdown_signal()).await
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
