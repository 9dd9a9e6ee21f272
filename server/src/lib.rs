//! The taskmine server: an ingest API for recorders on other desktops, a read API for the mining
//! results, a server-rendered dashboard, and the same views as one self-contained HTML report.
//!
//! Writes go through one writer thread that owns the writing connection, so concurrent batches queue
//! instead of fighting over SQLite's write lock; reads open their own connections (WAL).
//!
//! What it must never do: write to the UI log's tables other than through [`uilog::Store::write_batch`],
//! or show a routine that fewer than k users perform (the miner withholds those).

#![forbid(unsafe_code)]

pub mod access;
pub mod accounts;
pub mod agents;
pub mod analysis;
pub mod api;
pub mod audit;
pub mod bench;
pub mod client;
mod dashboard;
pub mod db;
pub mod erasure;
mod error;
pub mod ingest;
pub mod oidc;
pub mod own;
pub mod pages;
pub mod people;
pub mod privacy;
pub mod process;
pub mod ratelimit;
pub mod replays;
pub mod report;
mod signin;
mod state;
pub mod svg;
pub mod views;
pub mod wire;
mod writer;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::Router;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;

pub use analysis::Analysis;
pub use error::{Error, Result};
pub use oidc::OidcConfig;
pub use pages::Pages;
pub use privacy::Privacy;
pub use ratelimit::{Rate, RateLimits};
pub use state::{AppState, AuthMode, Config, Limits};
pub use wire::{Accepted, ApiError, Batch};

/// The routes of the server.
pub fn router(state: Arc<AppState>) -> Router {
    let limits = &state.config().limits;
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
    for (_, path, handler) in dashboard::routes() {
        app = app.route(path, handler);
    }
    // The guard runs after routing (it needs the matched path), on every route and only there.
    app.route_layer(axum::middleware::from_fn_with_state(
        Arc::clone(&state),
        access::guard,
    ))
    .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such page") })
    .layer(axum::middleware::map_response_with_state(
        Arc::clone(&state),
        access::security_headers,
    ))
    .with_state(state)
}

/// Every route the router serves, as (method, path): the API's and the pages'. Each has a rule in
/// [`access::RULES`].
pub fn routes() -> Vec<(&'static str, &'static str)> {
    let mut all = api::api_routes();
    all.extend(dashboard::routes().into_iter().map(|(m, p, _)| (m, p)));
    all
}

/// Serves on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let mut config = config;
    if config.tls.is_some() {
        config.secure_cookies = true;
    }
    let tls = match &config.tls {
        Some((cert, key)) => Some(
            axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .map_err(|e| {
                    Error::Server(format!(
                        "TLS certificate {} or key {}: {e}",
                        cert.display(),
                        key.display()
                    ))
                })?,
        ),
        None => None,
    };
    // Connecting to PostgreSQL blocks (the `postgres` client runs a runtime of its own).
    let state = tokio::task::spawn_blocking(move || AppState::new(config))
        .await
        .map_err(|e| Error::Server(format!("cannot start: {e}")))??;
    // The first result is ready sooner when mining starts with the server, not with the first page.
    state.start_mining();
    // The peer address goes into the audit trail.
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let failed = |e: std::io::Error| Error::Server(format!("serving failed: {e}"));
    let Some(tls) = tls else {
        return axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(failed);
    };
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
    });
    let listener = listener.into_std().map_err(failed)?;
    axum_server::from_tcp_rustls(listener, tls)
        .map_err(failed)?
        .handle(handle)
        .serve(app)
        .await
        .map_err(failed)
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
