//! Who may reach which route. Every route of the router has one rule in [`RULES`]; the guard
//! (a route layer, so it runs after routing and sees the matched path) refuses a route without a
//! rule, identifies the caller (session cookie or API token), checks the role and the CSRF token of
//! a form, and appends audited reads to the audit trail. Handlers never decide access themselves.
//!
//! Agents' ingest tokens are not accounts: `POST /api/v1/events` checks them itself and no other
//! route accepts them.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;

use crate::accounts::{self, Role};
use crate::ratelimit::Kind;
use crate::state::{AppState, AuthMode};
use crate::wire::ApiError;

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the sign-in page, the stylesheet, the API's description.
    Public,
    /// An agent's ingest token, checked by the handler.
    Agent,
    /// A signed-in account with at least this role.
    Role(Role),
    /// A recorded person signed in with their access code (their own pages only; no account
    /// opens these, and a person's session opens nothing else).
    Person,
}

/// A route's rule, and the audit action its answers are recorded under (if any).
pub struct Rule {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    pub audit: Option<&'static str>,
}

const fn rule(
    method: &'static str,
    path: &'static str,
    access: Access,
    audit: Option<&'static str>,
) -> Rule {
    Rule {
        method,
        path,
        access,
        audit,
    }
}

const VIEWER: Access = Access::Role(Role::Viewer);
const ANALYST: Access = Access::Role(Role::Analyst);
const ADMIN: Access = Access::Role(Role::Admin);

/// One rule per route (method, path as the router writes it).
pub const RULES: &[Rule] = &[
    rule("post", "/api/v1/events", Access::Agent, None),
    rule("get", "/api/v1/openapi.json", Access::Public, None),
    rule("get", "/api/v1/summary", VIEWER, None),
    rule("get", "/api/v1/status", VIEWER, None),
    rule("get", "/api/v1/routines", VIEWER, None),
    rule("get", "/api/v1/candidates", VIEWER, None),
    rule("get", "/api/v1/graph", VIEWER, None),
    rule("get", "/api/v1/routines/{id}/graph", VIEWER, None),
    rule(
        "get",
        "/api/v1/routines/{id}",
        ANALYST,
        Some("routine.read"),
    ),
    rule("get", "/api/v1/bots", ANALYST, Some("bot.download")),
    rule("get", "/api/v1/bots/{id}", ANALYST, Some("bot.download")),
    rule("get", "/api/v1/replays", ANALYST, None),
    rule("get", "/api/v1/audit", ADMIN, Some("audit.read")),
    rule("get", "/signin", Access::Public, None),
    rule("post", "/signin", Access::Public, None),
    rule("post", "/signout", VIEWER, None),
    rule("get", "/signin/oidc", Access::Public, None),
    rule("get", "/signin/oidc/callback", Access::Public, None),
    rule("get", "/static/style.css", Access::Public, None),
    rule("get", "/", VIEWER, None),
    rule("get", "/candidates", VIEWER, None),
    rule("get", "/privacy", VIEWER, None),
    rule("get", "/routines/{id}", ANALYST, Some("routine.read")),
    rule("get", "/report.html", ANALYST, Some("export")),
    // The per-activity aggregates for every role; the case-by-case links for analysts.
    rule("get", "/process", VIEWER, None),
    rule("get", "/process/links", ANALYST, Some("process.read")),
    rule("get", "/admin/audit", ADMIN, Some("audit.read")),
    rule("get", "/admin/accounts", ADMIN, None),
    rule("get", "/admin/people", ADMIN, None),
    // Both answer with the person's reference in the trail (issuing and erasing audit themselves).
    rule("post", "/admin/people/code", ADMIN, None),
    rule("post", "/admin/people/erase", ADMIN, None),
    rule("get", "/me/signin", Access::Public, None),
    rule("post", "/me/signin", Access::Public, None),
    rule("get", "/me", Access::Person, None),
    rule("post", "/me/erasure", Access::Person, None),
    rule("post", "/me/signout", Access::Person, None),
];

/// The rule of a route.
pub fn rule_for(method: &str, path: &str) -> Option<&'static Rule> {
    // axum answers HEAD with the GET handler, so HEAD follows GET's rule.
    let method = if method.eq_ignore_ascii_case("head") {
        "get"
    } else {
        method
    };
    RULES
        .iter()
        .find(|r| r.method.eq_ignore_ascii_case(method) && r.path == path)
}

/// The caller of a request that passed the guard; handlers take it as an extension.
#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    pub name: String,
    pub role: Role,
    /// The CSRF token of the caller's session, for the forms of the page (none for API tokens).
    pub csrf: Option<String>,
    /// The peer address.
    #[serde(skip)]
    pub remote: String,
}

/// A recorded person who passed the guard of a [`Access::Person`] route.
#[derive(Debug, Clone, Serialize)]
pub struct PersonIdentity {
    pub pseudonym: String,
    pub csrf: String,
    #[serde(skip)]
    pub remote: String,
}

impl PersonIdentity {
    /// How the audit trail names the person: a hash, not the pseudonym.
    pub fn actor(&self) -> Identity {
        Identity {
            name: crate::erasure::person_ref(&self.pseudonym),
            role: Role::Viewer,
            csrf: None,
            remote: self.remote.clone(),
        }
    }
}

pub(crate) const SESSION_COOKIE: &str = "tm_session";
pub(crate) const PERSON_COOKIE: &str = "tm_person";
pub(crate) const PERSON_SIGNIN_COOKIE: &str = "tm_me_signin";
pub(crate) const SIGNIN_COOKIE: &str = "tm_signin";

/// A cookie's value from the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly and SameSite=Strict always, Secure when served over TLS.
pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
    secure: bool,
) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("cookie values are hex")
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

pub(crate) fn remote(req: &Request) -> String {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".into(), |c| c.0.ip().to_string())
}

/// Who is calling: an API token (`Authorization: Bearer`) or a session cookie. `Err` when a token
/// was sent and is unknown (a mistake worth a clear 401, not a redirect to a sign-in page).
async fn identify(
    st: &Arc<AppState>,
    headers: &HeaderMap,
    remote: &str,
) -> Result<Option<Identity>, ApiError> {
    if st.config().auth == AuthMode::Open {
        return Ok(Some(Identity {
            name: "anonymous".into(),
            role: Role::Admin,
            csrf: None,
            remote: remote.to_owned(),
        }));
    }
    if let Some(token) = bearer(headers) {
        let token = token.to_owned();
        let user = st
            .with_db(move |c| accounts::by_api_token(c, &token))
            .await?
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unknown API token"))?;
        return Ok(Some(Identity {
            name: user.name,
            role: user.role,
            csrf: None,
            remote: remote.to_owned(),
        }));
    }
    let Some(sid) = cookie(headers, SESSION_COOKIE).map(str::to_owned) else {
        return Ok(None);
    };
    let found = st.with_db(move |c| accounts::session(c, &sid)).await?;
    Ok(found.map(|(user, csrf)| Identity {
        name: user.name,
        role: user.role,
        csrf: Some(csrf),
        remote: remote.to_owned(),
    }))
}

/// Percent-encodes a path for a query parameter.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A page answers an unknown caller with the sign-in page; the API with 401.
fn unauthenticated(path: &str, uri_path: &str) -> Response {
    if path.starts_with("/api/") {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "sign in first: send `Authorization: Bearer <token>` (from `taskmine user token NAME`)",
        )
        .into_response()
    } else {
        Redirect::to(&format!("/signin?next={}", encode(uri_path))).into_response()
    }
}

/// The CSRF token a form carries in its `csrf` field must be the session's. The body is read
/// (forms are small) and put back for the handler.
async fn check_csrf(req: Request, expected: &str) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 10).await.map_err(|_| {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "a form larger than 64 KiB").into_response()
    })?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let sent = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str());
    if !sent.is_some_and(|s| accounts::same_secret(s, expected)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the form's CSRF token is missing or wrong; reload the page",
        )
        .into_response());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// The requests limited per address: sign-in (accounts' and people's) and ingest.
fn rate_kind(method: &str, path: &str) -> Option<Kind> {
    match (method, path) {
        ("post", "/signin" | "/me/signin") | ("get", "/signin/oidc/callback") => Some(Kind::Login),
        ("post", "/api/v1/events") => Some(Kind::Ingest),
        _ => None,
    }
}

/// 429 with the whole seconds until the bucket has a token again.
fn too_many(wait: std::time::Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut resp = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!("too many requests from this address; try again in {secs} s"),
    )
    .into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    resp
}

/// The route layer every route passes.
pub(crate) async fn guard(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let method = req.method().as_str().to_ascii_lowercase();
    if let Some(kind) = rate_kind(&method, &matched) {
        if let Some(ip) = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
        {
            if let Err(wait) = st.limiter.take(kind, ip) {
                return too_many(wait);
            }
        }
    }
    // A route nobody wrote a rule for is closed, not open.
    let Some(rule) = rule_for(&method, &matched) else {
        return ApiError::new(StatusCode::FORBIDDEN, "this route has no access rule")
            .into_response();
    };
    let min = match rule.access {
        Access::Public | Access::Agent => return next.run(req).await,
        Access::Person => return person_guard(&st, req, next).await,
        Access::Role(min) => min,
    };
    let remote = remote(&req);
    let uri_path = req.uri().path().to_owned();
    let who = match identify(&st, req.headers(), &remote).await {
        Ok(Some(who)) => who,
        Ok(None) => return unauthenticated(&matched, &uri_path),
        Err(e) => return e.into_response(),
    };
    if who.role < min {
        st.audit(
            &who,
            "access.denied",
            format!("{} {uri_path}", req.method()),
        )
        .await;
        return ApiError::new(
            StatusCode::FORBIDDEN,
            format!("this needs the {min} role; {} is {}", who.name, who.role),
        )
        .into_response();
    }
    let mut req = req;
    if req.method() != Method::GET && req.method() != Method::HEAD {
        if let Some(expected) = who.csrf.clone() {
            req = match check_csrf(req, &expected).await {
                Ok(r) => r,
                Err(resp) => return resp,
            };
        }
    }
    req.extensions_mut().insert(who.clone());
    let method = req.method().clone();
    let resp = next.run(req).await;
    if let Some(action) = rule.audit {
        st.audit(
            &who,
            action,
            format!("{method} {uri_path} {}", resp.status().as_u16()),
        )
        .await;
    }
    resp
}

/// The guard of a person's own pages: the person's session cookie and, for a form, its CSRF token.
/// Accounts have no way in (in [`AuthMode::Open`] too: the page needs a pseudonym).
async fn person_guard(st: &Arc<AppState>, req: Request, next: Next) -> Response {
    let remote = remote(&req);
    let Some(sid) = cookie(req.headers(), PERSON_COOKIE).map(str::to_owned) else {
        return Redirect::to("/me/signin").into_response();
    };
    let found = match st.with_db(move |c| crate::people::session(c, &sid)).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let Some((pseudonym, csrf)) = found else {
        return Redirect::to("/me/signin").into_response();
    };
    let mut req = req;
    if req.method() != Method::GET && req.method() != Method::HEAD {
        req = match check_csrf(req, &csrf).await {
            Ok(r) => r,
            Err(resp) => return resp,
        };
    }
    req.extensions_mut().insert(PersonIdentity {
        pseudonym,
        csrf,
        remote,
    });
    next.run(req).await
}

/// Headers every answer carries: no scripts at all, no framing, no referrer, no sniffing. A
/// handler that set its own policy (the one-file report) keeps it.
pub(crate) async fn security_headers(
    State(st): State<Arc<AppState>>,
    mut resp: Response,
) -> Response {
    let h = resp.headers_mut();
    let mut set = |name: header::HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::CACHE_CONTROL, "no-store");
    if st.config().secure_cookies {
        set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    resp
}
