//! What the handlers share: the server's configuration and limits, the writer thread's queue, the
//! token cache, the page templates and the latest mining result.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use uilog::LogStore;

use crate::agents::{self, Agent};
use crate::analysis::{self, Analysis};
use crate::db::{Db, DbSettings};
use crate::error::Result;
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

/// Whether pages and the read API need a signed-in account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Every route but sign-in needs an account with the route's role (the default).
    Required,
    /// No sign-in: every caller is an anonymous admin. For a single person on loopback, or
    /// `--insecure-no-auth`; ingest still needs an agent token.
    Open,
}

impl AuthMode {
    /// The secure default for a server about to listen on `addr`, given its accounts: sign-in
    /// whenever accounts exist; without any, open on loopback only (one person on their own
    /// machine) and refused elsewhere. `insecure_no_auth` opens it anywhere, on purpose.
    pub fn for_listening(
        addr: std::net::SocketAddr,
        accounts: &[crate::accounts::User],
        insecure_no_auth: bool,
    ) -> Result<AuthMode, String> {
        if insecure_no_auth {
            return Ok(AuthMode::Open);
        }
        let has_admin = accounts
            .iter()
            .any(|u| u.role == crate::accounts::Role::Admin);
        if !addr.ip().is_loopback() && !has_admin {
            return Err(format!(
                "refusing to listen on {addr} without an admin account: add one with `taskmine user add NAME --role admin`, or pass --insecure-no-auth"
            ));
        }
        Ok(if accounts.is_empty() {
            AuthMode::Open
        } else {
            AuthMode::Required
        })
    }
}

/// How a server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The UI log database: a SQLite file, or a `postgres://` URL that several servers may share;
    /// the server keeps its agents, accounts and audit trail in the same database.
    pub db: PathBuf,
    /// Connections and statement timeout on PostgreSQL.
    pub db_settings: DbSettings,
    pub limits: Limits,
    /// The policy in force; its k withholds routines seen across fewer users.
    pub privacy: Privacy,
    pub mining: miner::Options,
    /// The background mining job runs at most once per this long; pages show the previous
    /// result meanwhile.
    pub remine_after: Duration,
    /// How often the job looks for batches that did not come through this server (another server
    /// on the same PostgreSQL database, a local recorder, retention).
    pub recheck: Duration,
    /// A copy of `templates/` to render pages from instead of the compiled-in templates.
    pub templates: Option<PathBuf>,
    /// Where `taskmine bots` wrote its drafts; replay reports are read from its subdirectories.
    pub bots_dir: Option<PathBuf>,
    pub auth: AuthMode,
    /// Cookies carry `Secure` and answers HSTS: the server is reached over TLS (its own or a
    /// proxy's).
    pub secure_cookies: bool,
    /// Serve HTTPS with this certificate chain and private key (PEM files); implies
    /// `secure_cookies`.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Per-address limits on sign-in and ingest.
    pub rate: crate::ratelimit::RateLimits,
    /// Sign-in through an OpenID Connect provider, beside the password form.
    pub oidc: Option<crate::oidc::OidcConfig>,
}

impl Config {
    /// `db` as the string the stores open.
    pub fn db_str(&self) -> String {
        self.db.to_string_lossy().into_owned()
    }

    /// Whether the log is in PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        uilog::is_postgres_url(&self.db_str())
    }

    pub fn new(db: impl Into<PathBuf>) -> Config {
        Config {
            db: db.into(),
            db_settings: DbSettings::default(),
            limits: Limits::default(),
            privacy: Privacy::builtin(),
            mining: miner::Options::default(),
            remine_after: Duration::from_secs(30),
            recheck: RECHECK,
            templates: None,
            bots_dir: None,
            auth: AuthMode::Required,
            secure_cookies: false,
            tls: None,
            rate: crate::ratelimit::RateLimits::default(),
            oidc: None,
        }
    }
}

/// How long a token found in the database is trusted without asking it again; removing an agent
/// takes effect within this time.
const AUTH_CACHE_TTL: Duration = Duration::from_secs(10);

/// A connection for token look-ups, and the tokens seen recently (by hash).
type AuthCache = (Db, HashMap<String, (Agent, Instant)>);

/// The database's `--db` and connection settings.
type DbTarget = (String, DbSettings);

/// What the handlers share.
pub struct AppState {
    config: Config,
    pub(crate) writer: mpsc::Sender<Job>,
    auth: Mutex<AuthCache>,
    /// A writing connection for the server's own tables (accounts, sessions, audit), apart from
    /// the writer threads', which only write batches.
    accounts: Arc<Mutex<Db>>,
    /// What to reconnect to when a connection is lost.
    db_target: Arc<DbTarget>,
    pub(crate) pages: Pages,
    pub(crate) limiter: crate::ratelimit::Limiter,
    /// The latest result of the background mining job (`None` until its first run ends).
    results: tokio::sync::watch::Sender<Published>,
    mining_started: std::sync::atomic::AtomicBool,
    /// Signalled by the writer thread after each written batch, so the job mines again soon.
    written: Arc<tokio::sync::Notify>,
    pub(crate) job: JobCounters,
    pub(crate) oidc: crate::oidc::OidcState,
}

/// What the mining job has done since the server started (`GET /api/v1/status`).
#[derive(Debug, Default)]
pub(crate) struct JobCounters {
    /// Results mined from the log.
    pub mined: std::sync::atomic::AtomicU64,
    /// Results read back from a stored run without mining.
    pub stored: std::sync::atomic::AtomicU64,
    pub running: std::sync::atomic::AtomicBool,
}

/// A mining result as the job publishes it; an error is kept as its message.
type Published = Option<std::result::Result<Arc<Analysis>, String>>;

/// How often the job looks at the store by default even when no batch arrived through this server
/// (another server, a local recorder or retention may have changed it).
const RECHECK: Duration = Duration::from_secs(60);

/// Mines the store at start, then again after batches were written (at most once per
/// `remine_after`) or when [`RECHECK`] finds the store changed. One run at a time, since this is
/// the only place that mines; it ends with the server.
async fn mining_job(state: std::sync::Weak<AppState>) {
    use std::sync::atomic::Ordering::Relaxed;
    let mut mined_version = None;
    loop {
        let Some(st) = state.upgrade() else { return };
        let started = Instant::now();
        let config = st.config.clone();
        let version = tokio::task::spawn_blocking(move || log_version(&config))
            .await
            .map_err(|e| e.to_string())
            .and_then(|v| v.map_err(|e| e.to_string()));
        let changed = match &version {
            Ok(v) => mined_version != Some(*v),
            Err(_) => true,
        };
        if changed {
            let config = st.config.clone();
            st.job.running.store(true, Relaxed);
            let result = tokio::task::spawn_blocking(move || mine(&config))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()));
            st.job.running.store(false, Relaxed);
            match &result {
                Ok(a) => {
                    mined_version = Some(a.version);
                    let counter = match a.origin {
                        analysis::Origin::Mined => &st.job.mined,
                        analysis::Origin::Stored => &st.job.stored,
                    };
                    counter.fetch_add(1, Relaxed);
                }
                Err(e) => tracing::error!("mining failed: {e}"),
            }
            let published = result.map(Arc::new);
            let objects_of = published.as_ref().ok().map(Arc::clone);
            st.results.send_replace(Some(published));
            // The result is served while its business objects are stored beside it.
            if let Some(a) = objects_of {
                let config = st.config.clone();
                let opened = tokio::task::spawn_blocking(move || {
                    open_for_mining(&config).map(|log| analysis::store_objects(&log, &a))
                })
                .await;
                if let Ok(Err(e)) = opened {
                    tracing::warn!("business objects not stored: {e}");
                }
            }
        }
        let (written, pause, recheck) = (
            Arc::clone(&st.written),
            st.config.remine_after,
            st.config.recheck,
        );
        drop(st);
        tokio::select! {
            _ = written.notified() => {}
            _ = tokio::time::sleep(recheck) => {}
        }
        if let Some(rest) = pause.checked_sub(started.elapsed()) {
            tokio::time::sleep(rest).await;
        }
    }
}

/// The mining job's connection to the log: on PostgreSQL without a statement timeout, since a
/// scan of a large log may take longer than any batch should.
fn open_for_mining(config: &Config) -> Result<LogStore> {
    let settings = uilog::store_pg::PgSettings {
        statement_timeout: None,
        application_name: Some("taskmine-mining".into()),
    };
    Ok(LogStore::open_with(&config.db_str(), &settings)?)
}

/// What the log holds now: see [`analysis::version`].
fn log_version(config: &Config) -> Result<(i64, i64)> {
    analysis::version(&open_for_mining(config)?)
}

/// The result for the log as it is now, on either backend: a stored run read back, or mined and
/// stored (see [`Analysis::load_or_mine`]).
fn mine(config: &Config) -> Result<Analysis> {
    Analysis::load_or_mine(
        &open_for_mining(config)?,
        &config.mining,
        config.privacy.clone(),
    )
}

impl AppState {
    /// Opens the store (creating it and the server's table if needed) and starts the writer thread.
    pub fn new(config: Config) -> Result<Arc<AppState>> {
        let db = config.db_str();
        let accounts = Self::open_db(&config, "accounts")?;
        if let Some(conn) = accounts.sqlite() {
            // PostgreSQL's tables were made by the migrations when the connection opened.
            agents::ensure_schema(conn)?;
            crate::accounts::ensure_schema(conn)?;
            crate::audit::ensure_schema(conn)?;
            crate::people::ensure_schema(conn)?;
        }
        let auth = Self::open_db(&config, "auth")?;
        // One writer on SQLite, whose write lock admits one at a time anyway; on PostgreSQL a pool,
        // since batches of different agents commit side by side there.
        let (writers, settings) = if config.is_postgres() {
            (
                config.db_settings.pool.max(1),
                config.db_settings.pg("writer"),
            )
        } else {
            (1, Default::default())
        };
        // The first writer connects now, so a wrong URL or password fails the start, not a batch.
        let first = LogStore::open_with(&db, &settings)?;
        let pages = match &config.templates {
            Some(dir) => Pages::from_dir(dir)?,
            None => Pages::builtin()?,
        };
        let written = Arc::new(tokio::sync::Notify::new());
        let open = move || LogStore::open_with(&db, &settings);
        let writer = writer::spawn_writers(first, open, writers, Arc::clone(&written));
        let db_target = Arc::new((config.db_str(), config.db_settings.clone()));
        Ok(Arc::new(AppState {
            limiter: crate::ratelimit::Limiter::new(config.rate),
            config,
            writer,
            auth: Mutex::new((auth, HashMap::new())),
            db_target,
            accounts: Arc::new(Mutex::new(accounts)),
            pages,
            results: tokio::sync::watch::channel(None).0,
            mining_started: std::sync::atomic::AtomicBool::new(false),
            written,
            job: JobCounters::default(),
            oidc: crate::oidc::OidcState::default(),
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

    /// The latest mining result. Pages never mine: the background job (started here if it is not
    /// running yet) does, and until its first result exists this waits for it; afterwards the
    /// previous result is served while the next one is being computed.
    pub async fn analysis(self: &Arc<Self>) -> Result<Arc<Analysis>, ApiError> {
        self.start_mining();
        let mut rx = self.results.subscribe();
        let published = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| ApiError::internal("the mining job has stopped"))?;
        match published.as_ref().expect("waited for a result") {
            Ok(a) => Ok(Arc::clone(a)),
            Err(e) => Err(ApiError::internal(format!("mining failed: {e}"))),
        }
    }

    /// The latest result without waiting for one (`None` before the first, or after a failure).
    pub(crate) fn latest(&self) -> Option<Arc<Analysis>> {
        match &*self.results.borrow() {
            Some(Ok(a)) => Some(Arc::clone(a)),
            _ => None,
        }
    }

    /// Starts the background mining job once per server.
    pub fn start_mining(self: &Arc<Self>) {
        if !self
            .mining_started
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            tokio::spawn(mining_job(Arc::downgrade(self)));
        }
    }

    /// Wakes the mining job, as a written batch does (after an erasure).
    pub(crate) fn mine_soon(&self) {
        self.written.notify_one();
    }

    /// A connection for the server's own tables, opened per the config.
    fn open_db(config: &Config, use_: &str) -> Result<Db> {
        Db::open(&config.db_str(), &config.db_settings.pg(use_))
    }

    /// Keeps `db` usable: a new connection when the old one is gone (a PostgreSQL server that
    /// restarted, or ended the session).
    fn live(target: &DbTarget, db: &mut Db, use_: &str) -> Result<()> {
        if db.is_closed() {
            tracing::warn!("the {use_} connection to the database was lost; reconnecting");
            *db = Db::open(&target.0, &target.1.pg(use_))?;
        }
        Ok(())
    }

    /// Runs `f` on the connection for the server's own tables (accounts, sessions, agents, audit
    /// trail, person access codes), on a blocking thread.
    pub(crate) async fn with_db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Db) -> Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (conn, target) = (Arc::clone(&self.accounts), Arc::clone(&self.db_target));
        tokio::task::spawn_blocking(move || {
            let mut db = conn.lock().expect("accounts lock");
            Self::live(&target, &mut db, "accounts")?;
            f(&db)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
    }

    /// Appends to the audit trail. A failure is logged, not shown: the answer was already decided.
    pub(crate) async fn audit(&self, who: &crate::access::Identity, action: &str, detail: String) {
        let (actor, action, remote) = (who.name.clone(), action.to_owned(), who.remote.clone());
        if let Err(e) = self
            .with_db(move |c| crate::audit::append(c, &actor, &action, &detail, &remote))
            .await
        {
            tracing::error!("audit trail: {}", e.error);
        }
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
            Self::live(&st.db_target, &mut guard.0, "auth").map_err(ApiError::internal)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{Role, User};

    fn user(role: Role) -> User {
        User {
            id: 1,
            name: "x".into(),
            role,
            created_at: 0,
            has_api_token: false,
            locked_until: 0,
        }
    }

    #[test]
    fn beyond_loopback_an_admin_account_or_an_explicit_flag_is_needed() {
        let lan: std::net::SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let lo: std::net::SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let err = AuthMode::for_listening(lan, &[], false).unwrap_err();
        assert!(
            err.contains("0.0.0.0:8080") && err.contains("--insecure-no-auth"),
            "{err}"
        );
        assert!(AuthMode::for_listening(lan, &[user(Role::Analyst)], false).is_err());
        assert_eq!(
            AuthMode::for_listening(lan, &[user(Role::Admin)], false),
            Ok(AuthMode::Required)
        );
        assert_eq!(AuthMode::for_listening(lan, &[], true), Ok(AuthMode::Open));
        assert_eq!(AuthMode::for_listening(lo, &[], false), Ok(AuthMode::Open));
        assert_eq!(
            AuthMode::for_listening(lo, &[user(Role::Viewer)], false),
            Ok(AuthMode::Required)
        );
    }
}
