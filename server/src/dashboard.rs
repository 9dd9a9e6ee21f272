//! The dashboard: server-rendered pages, no scripts.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Extension;

use crate::access::Identity;
use crate::analysis::Analysis;
use crate::state::AppState;
use crate::views;
use crate::wire::ApiError;
use crate::{accounts, agents, audit, own, signin};

/// Every page route: (method, path, handler). Access rules are in [`crate::access::RULES`].
pub(crate) fn routes() -> Vec<(&'static str, &'static str, MethodRouter<Arc<AppState>>)> {
    vec![
        ("get", "/", get(overview)),
        ("get", "/candidates", get(candidates)),
        ("get", "/routines/{id}", get(routine)),
        ("get", "/privacy", get(privacy)),
        ("get", "/report.html", get(report)),
        ("get", "/process", get(crate::process::page)),
        ("get", "/process/links", get(crate::process::links)),
        ("get", "/signin", get(signin::form)),
        ("post", "/signin", post(signin::submit)),
        ("post", "/signout", post(signin::sign_out)),
        ("get", "/signin/oidc", get(crate::oidc::start)),
        ("get", "/signin/oidc/callback", get(crate::oidc::callback)),
        ("get", "/static/style.css", get(style)),
        ("get", "/admin/audit", get(audit_page)),
        ("get", "/admin/accounts", get(accounts_page)),
        ("get", "/admin/people", get(own::people_page)),
        ("post", "/admin/people/code", post(own::issue_code)),
        ("post", "/admin/people/erase", post(own::erase)),
        ("get", "/me/signin", get(own::signin_form)),
        ("post", "/me/signin", post(own::signin_submit)),
        ("get", "/me", get(own::me_page)),
        ("post", "/me/erasure", post(own::request_erasure)),
        ("post", "/me/signout", post(own::sign_out)),
    ]
}

/// The dashboard's stylesheet, a file of its own so that the pages' CSP can forbid inline styles.
async fn style(State(st): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let css = st
        .pages
        .render("dashboard/style.css", &tera::Context::new())
        .map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "text/css; charset=utf-8")], css).into_response())
}

/// Renders a page that needs no mining result (sign-in, admin pages).
pub(crate) fn plain_page(
    st: &AppState,
    name: &str,
    me: Option<&Identity>,
    fill: impl FnOnce(&mut tera::Context),
) -> Result<Html<String>, ApiError> {
    let mut ctx = tera::Context::new();
    if let Some(me) = me {
        ctx.insert("me", me);
    }
    fill(&mut ctx);
    st.pages
        .render(name, &ctx)
        .map(Html)
        .map_err(ApiError::internal)
}

async fn audit_page(
    State(st): State<Arc<AppState>>,
    Extension(me): Extension<Identity>,
) -> Result<Html<String>, ApiError> {
    let entries = st.with_db(|c| audit::list(c, 1000)).await?;
    let rows: Vec<_> = entries
        .iter()
        .map(|e| serde_json::json!({ "ts": uilog::format_ts(e.ts), "entry": e }))
        .collect();
    plain_page(&st, "dashboard/audit.html", Some(&me), |ctx| {
        ctx.insert("entries", &rows)
    })
}

async fn accounts_page(
    State(st): State<Arc<AppState>>,
    Extension(me): Extension<Identity>,
) -> Result<Html<String>, ApiError> {
    let (users, agents) = st
        .with_db(|c| Ok((accounts::list(c)?, agents::list(c)?)))
        .await?;
    let users: Vec<_> = users
        .iter()
        .map(|u| serde_json::json!({ "created": uilog::format_ts(u.created_at), "user": u, "locked": u.locked_until > jiff::Timestamp::now().as_microsecond() }))
        .collect();
    let agents: Vec<_> = agents
        .iter()
        .map(|a| serde_json::json!({ "created": uilog::format_ts(a.created_at), "agent": a }))
        .collect();
    plain_page(&st, "dashboard/accounts.html", Some(&me), |ctx| {
        ctx.insert("users", &users);
        ctx.insert("agents", &agents);
    })
}

/// Renders a page on a blocking thread: building the views (graph layout, histograms) and the
/// template is CPU work that must not hold up the runtime's workers.
async fn page(
    st: &Arc<AppState>,
    me: Identity,
    name: &'static str,
    extra: impl FnOnce(&Analysis, &mut tera::Context) -> Result<(), ApiError> + Send + 'static,
) -> Result<Html<String>, ApiError> {
    let a = st.analysis().await?;
    let st = Arc::clone(st);
    tokio::task::spawn_blocking(move || {
        let mut ctx = views::context(&a, "/routines/");
        ctx.insert("me", &me);
        extra(&a, &mut ctx)?;
        st.pages
            .render(name, &ctx)
            .map(Html)
            .map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)?
}

async fn overview(
    State(st): State<Arc<AppState>>,
    Extension(me): Extension<Identity>,
) -> Result<Html<String>, ApiError> {
    page(&st, me, "dashboard/overview.html", |a, ctx| {
        let top: Vec<_> = views::candidates(a).into_iter().take(10).collect();
        ctx.insert("candidates", &top);
        ctx.insert("candidates_title", "Top candidates");
        Ok(())
    })
    .await
}

async fn candidates(
    State(st): State<Arc<AppState>>,
    Extension(me): Extension<Identity>,
) -> Result<Html<String>, ApiError> {
    page(&st, me, "dashboard/candidates.html", |_, _| Ok(())).await
}

async fn routine(
    State(st): State<Arc<AppState>>,
    Extension(me): Extension<Identity>,
    Path(id): Path<u32>,
) -> Result<Html<String>, ApiError> {
    let replays: Vec<_> = st
        .replays()
        .await?
        .into_iter()
        .filter(|r| r.routine == u64::from(id))
        .collect();
    page(&st, me, "dashboard/routine.html", move |a, ctx| {
        ctx.insert("routine", &views::routine_view(a, id)?);
        ctx.insert("replays", &replays);
        Ok(())
    })
    .await
}

async fn privacy(
    State(st): State<Arc<AppState>>,
    Extension(me): Extension<Identity>,
) -> Result<Html<String>, ApiError> {
    page(&st, me, "dashboard/privacy.html", |_, _| Ok(())).await
}

/// The one-file report, as a download. It keeps its styles inline (it must stand alone), so its
/// policy allows inline styles; scripts stay forbidden.
async fn report(State(st): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let a = st.analysis().await?;
    let html = tokio::task::spawn_blocking(move || {
        crate::report::render_with(&st.pages, &a).map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)??;
    let mut resp = Html(html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"taskmine-report.html\""),
    );
    Ok(resp)
}
