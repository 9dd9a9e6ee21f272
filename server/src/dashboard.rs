//! The dashboard: server-rendered pages, no scripts.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;
use axum::Router;

use crate::analysis::Analysis;
use crate::state::AppState;
use crate::views;
use crate::wire::ApiError;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(overview))
        .route("/candidates", get(candidates))
        .route("/routines/{id}", get(routine))
        .route("/privacy", get(privacy))
        .route("/report.html", get(report))
}

/// Renders a page on a blocking thread: building the views (graph layout, histograms) and the
/// template is CPU work that must not hold up the runtime's workers.
async fn page(
    st: &Arc<AppState>,
    name: &'static str,
    extra: impl FnOnce(&Analysis, &mut tera::Context) -> Result<(), ApiError> + Send + 'static,
) -> Result<Html<String>, ApiError> {
    let a = st.analysis().await?;
    let st = Arc::clone(st);
    tokio::task::spawn_blocking(move || {
        let mut ctx = views::context(&a, "/routines/");
        extra(&a, &mut ctx)?;
        st.pages
            .render(name, &ctx)
            .map(Html)
            .map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)?
}

async fn overview(State(st): State<Arc<AppState>>) -> Result<Html<String>, ApiError> {
    page(&st, "dashboard/overview.html", |a, ctx| {
        let top: Vec<_> = views::candidates(a).into_iter().take(10).collect();
        ctx.insert("candidates", &top);
        ctx.insert("candidates_title", "Top candidates");
        Ok(())
    })
    .await
}

async fn candidates(State(st): State<Arc<AppState>>) -> Result<Html<String>, ApiError> {
    page(&st, "dashboard/candidates.html", |_, _| Ok(())).await
}

async fn routine(
    State(st): State<Arc<AppState>>,
    Path(id): Path<u32>,
) -> Result<Html<String>, ApiError> {
    let replays: Vec<_> = st
        .replays()
        .await?
        .into_iter()
        .filter(|r| r.routine == u64::from(id))
        .collect();
    page(&st, "dashboard/routine.html", move |a, ctx| {
        ctx.insert("routine", &views::routine_view(a, id)?);
        ctx.insert("replays", &replays);
        Ok(())
    })
    .await
}

async fn privacy(State(st): State<Arc<AppState>>) -> Result<Html<String>, ApiError> {
    page(&st, "dashboard/privacy.html", |_, _| Ok(())).await
}

async fn report(State(st): State<Arc<AppState>>) -> Result<Html<String>, ApiError> {
    let a = st.analysis().await?;
    tokio::task::spawn_blocking(move || {
        crate::report::render_with(&st.pages, &a)
            .map(Html)
            .map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)?
}
