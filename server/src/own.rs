//! Each recorded person's own view (GDPR articles 15 and 17) and the admin page that issues access
//! codes and erases people.
//!
//! The person's page shows what was captured about the signed-in pseudonym only: events by app
//! and by day, and the routines their instances are counted in, from the latest mining result's
//! log like every other page; and their latest events exactly as the store holds them (after the
//! recorder's redaction), read through [`uilog::LogRead::latest_of_user`]. Everything is filtered by
//! the session's pseudonym before anything is rendered; no parameter of the request names a person.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::{Deserialize, Serialize};
use uilog::{LogRead, LogStore, Store};

use crate::access::{self, Identity, PersonIdentity, PERSON_COOKIE, PERSON_SIGNIN_COOKIE};
use crate::analysis::{routine_name, Analysis};
use crate::dashboard::plain_page;
use crate::erasure;
use crate::people::{self, PersonSignIn};
use crate::state::AppState;
use crate::wire::ApiError;

/// What a person sees about themselves.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PersonSummary {
    pub pseudonym: String,
    pub events: u64,
    pub first: Option<String>,
    pub last: Option<String>,
    /// (app, events), most first.
    pub by_app: Vec<(String, u64)>,
    /// (UTC day, events), by day.
    pub by_day: Vec<(String, u64)>,
    pub routines: Vec<PersonRoutine>,
    /// Their latest actions (newest first, at most [`SAMPLE`]) as the miner sees them: kind, app,
    /// title template and element, after the recorder's redaction.
    pub latest: Vec<(String, String)>,
}

/// How many of a person's latest actions their page lists.
pub const SAMPLE: usize = 20;

/// One of a person's events as stored: the strings the recorder wrote after its policy (a typed
/// value as masked or plain text when the policy kept text, else as the keyed hash).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StoredEvent {
    pub time: String,
    pub kind: String,
    pub app: String,
    pub title: String,
    pub element: String,
    pub value: String,
}

impl StoredEvent {
    fn of(e: &uilog::Event) -> StoredEvent {
        let element = e.element.as_ref().map_or_else(String::new, |el| {
            let mut parts = Vec::new();
            if let Some(r) = &el.role {
                parts.push(r.clone());
            }
            if let Some(n) = &el.name {
                parts.push(format!("{n:?}"));
            }
            if let Some(i) = &el.id {
                parts.push(format!("#{i}"));
            }
            parts.join(" ")
        });
        let value = match (&e.text, e.value_hash) {
            (Some(t), _) => t.clone(),
            (None, Some(h)) => format!("hash {:016x}", h.0),
            (None, None) => String::new(),
        };
        StoredEvent {
            time: uilog::format_ts(e.ts),
            kind: e.kind.as_str().to_owned(),
            app: e.app.clone(),
            title: e.window.clone(),
            element,
            value,
        }
    }
}

/// The newest [`SAMPLE`] events of `pseudonym` as the store holds them now.
pub fn stored_events(store: &dyn LogRead, pseudonym: &str) -> crate::Result<Vec<StoredEvent>> {
    Ok(store
        .latest_of_user(pseudonym, SAMPLE)?
        .iter()
        .map(StoredEvent::of)
        .collect())
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PersonRoutine {
    pub id: u32,
    pub name: String,
    /// The person's instances of it, and everyone's.
    pub mine: u64,
    pub all: u64,
}

/// The summary of `pseudonym`'s events in the mined log. Another person's events never enter it:
/// every event is kept only when its session belongs to the pseudonym.
pub fn summary(a: &Analysis, pseudonym: &str) -> PersonSummary {
    let log = &a.log;
    let mut s = PersonSummary {
        pseudonym: pseudonym.to_owned(),
        ..PersonSummary::default()
    };
    let Some(uid) = log.dict.users.iter().position(|u| u == pseudonym) else {
        return s;
    };
    let mut by_app: BTreeMap<&str, u64> = BTreeMap::new();
    let mut by_day: BTreeMap<String, u64> = BTreeMap::new();
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    let mut latest: Vec<(i64, u32)> = Vec::new();
    for e in &log.events {
        if log.session_user.get(e.session as usize).copied() != Some(uid as u32) {
            continue;
        }
        s.events += 1;
        first = first.min(e.ts);
        last = last.max(e.ts);
        let app = log
            .actions
            .get(e.action as usize)
            .map_or("", |x| x.app.as_str());
        *by_app.entry(app).or_default() += 1;
        latest.push((e.ts, e.action));
        if latest.len() > 4 * SAMPLE {
            latest.sort_unstable_by_key(|x| std::cmp::Reverse(x.0));
            latest.truncate(SAMPLE);
        }
        let day = uilog::format_ts(e.ts);
        *by_day
            .entry(day[..10.min(day.len())].to_owned())
            .or_default() += 1;
    }
    if s.events > 0 {
        s.first = Some(uilog::format_ts(first));
        s.last = Some(uilog::format_ts(last));
    }
    s.by_app = by_app.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    s.by_app
        .sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
    s.by_day = by_day.into_iter().collect();
    latest.sort_unstable_by_key(|x| std::cmp::Reverse(x.0));
    latest.truncate(SAMPLE);
    s.latest = latest
        .into_iter()
        .map(|(ts, a)| {
            let label = log
                .actions
                .get(a as usize)
                .map_or_else(String::new, |x| x.label());
            (uilog::format_ts(ts), label)
        })
        .collect();
    s.routines = a
        .mining
        .routines
        .iter()
        .filter_map(|r| {
            let mine = r.instances.iter().filter(|i| i.user == pseudonym).count() as u64;
            (mine > 0).then(|| PersonRoutine {
                id: r.id,
                name: routine_name(a, r),
                mine,
                all: r.instances.len() as u64,
            })
        })
        .collect();
    s
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    pseudonym: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

fn is_hex_secret(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn render_signin(st: &AppState, status: StatusCode, token: &str, error: Option<&str>) -> Response {
    let page = plain_page(st, "dashboard/me_signin.html", None, |ctx| {
        ctx.insert("csrf", token);
        if let Some(e) = error {
            ctx.insert("error", e);
        }
    });
    match page {
        Ok(html) => {
            let cookie = access::set_cookie(
                PERSON_SIGNIN_COOKIE,
                token,
                "/me/signin",
                3600,
                st.config().secure_cookies,
            );
            (status, [(header::SET_COOKIE, cookie)], html).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// The sign-in form of a recorded person (double-submit CSRF, as the accounts' form).
pub(crate) async fn signin_form(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let token = access::cookie(&headers, PERSON_SIGNIN_COOKIE)
        .filter(|t| is_hex_secret(t))
        .map_or_else(|| crate::accounts::secret(""), str::to_owned);
    render_signin(&st, StatusCode::OK, &token, None)
}

pub(crate) async fn signin_submit(State(st): State<Arc<AppState>>, req: Request) -> Response {
    let remote = access::remote(&req);
    let headers = req.headers().clone();
    let Form(f) = match Form::<SignInForm>::from_request(req, &st).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let expected = access::cookie(&headers, PERSON_SIGNIN_COOKIE).filter(|t| is_hex_secret(t));
    if !expected.is_some_and(|t| crate::accounts::same_secret(t, &f.csrf)) {
        return render_signin(
            &st,
            StatusCode::FORBIDDEN,
            &crate::accounts::secret(""),
            Some("The form had expired; please try again."),
        );
    }
    let token = expected.unwrap_or_default().to_owned();
    // A failed sign-in is audited under the pseudonym typed, if any (by hash, as always); with a
    // code alone nobody is named.
    let typed = f.pseudonym.trim().to_owned();
    let mut tried = PersonIdentity {
        pseudonym: typed.clone(),
        csrf: String::new(),
        remote: remote.clone(),
    }
    .actor();
    if typed.is_empty() {
        tried.name = "person#unknown".into();
    }
    let code = f.code;
    let outcome = match st.with_db(move |c| people::sign_in(c, &typed, &code)).await {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let pseudonym = match outcome {
        PersonSignIn::Ok { pseudonym } => pseudonym,
        PersonSignIn::Wrong => {
            st.audit(&tried, "person.signin.failed", String::new())
                .await;
            return render_signin(
                &st,
                StatusCode::UNAUTHORIZED,
                &token,
                Some("Wrong access code (or pseudonym)."),
            );
        }
        PersonSignIn::Locked { until } => {
            st.audit(&tried, "person.signin.locked", String::new())
                .await;
            let msg = format!(
                "Too many failed attempts: this code is locked until {} UTC.",
                uilog::format_ts(until)
            );
            return render_signin(&st, StatusCode::TOO_MANY_REQUESTS, &token, Some(&msg));
        }
    };
    let who = PersonIdentity {
        pseudonym: pseudonym.clone(),
        csrf: String::new(),
        remote,
    }
    .actor();
    let old = access::cookie(&headers, PERSON_COOKIE).map(str::to_owned);
    let p = pseudonym;
    let created = st
        .with_db(move |c| {
            if let Some(old) = old {
                people::end_session(c, &old)?;
            }
            people::create_session(c, &p)
        })
        .await;
    let (sid, _) = match created {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    st.audit(&who, "person.signin", String::new()).await;
    let secure = st.config().secure_cookies;
    let mut resp = Redirect::to("/me").into_response();
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        access::set_cookie(PERSON_COOKIE, &sid, "/me", people::SESSION_SECS, secure),
    );
    h.append(
        header::SET_COOKIE,
        access::set_cookie(PERSON_SIGNIN_COOKIE, "", "/me/signin", 0, secure),
    );
    resp
}

/// The person's own page.
pub(crate) async fn me_page(
    State(st): State<Arc<AppState>>,
    Extension(me): Extension<PersonIdentity>,
) -> Result<Html<String>, ApiError> {
    let a = st.analysis().await?;
    let p = me.pseudonym.clone();
    let people = st.with_db(|c| people::list(c)).await?;
    let requested = people
        .iter()
        .find(|x| x.pseudonym == p)
        .and_then(|x| x.erasure_requested_at)
        .map(uilog::format_ts);
    let st2 = Arc::clone(&st);
    let db = st.config().db.clone();
    tokio::task::spawn_blocking(move || {
        let s = summary(&a, &p);
        // A SQLite file or a postgres:// URL, whichever the server's log is.
        let stored = LogStore::open(&db.to_string_lossy())
            .map_err(crate::Error::from)
            .and_then(|store| stored_events(&store, &p))
            .map_err(ApiError::internal)?;
        plain_page(&st2, "dashboard/me.html", None, |ctx| {
            ctx.insert("person", &me);
            ctx.insert("summary", &s);
            ctx.insert("stored", &stored);
            ctx.insert("computed_at", &uilog::format_ts(a.computed_at));
            if let Some(r) = &requested {
                ctx.insert("erasure_requested", r);
            }
        })
    })
    .await
    .map_err(ApiError::internal)?
}

/// The person asks for erasure; an admin carries it out from the people page.
pub(crate) async fn request_erasure(
    State(st): State<Arc<AppState>>,
    Extension(me): Extension<PersonIdentity>,
) -> Result<Response, ApiError> {
    let p = me.pseudonym.clone();
    st.with_db(move |c| people::request_erasure(c, &p)).await?;
    st.audit(&me.actor(), "erasure.request", String::new())
        .await;
    Ok(Redirect::to("/me").into_response())
}

pub(crate) async fn sign_out(
    State(st): State<Arc<AppState>>,
    Extension(me): Extension<PersonIdentity>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(sid) = access::cookie(&headers, PERSON_COOKIE).map(str::to_owned) {
        st.with_db(move |c| people::end_session(c, &sid)).await?;
    }
    st.audit(&me.actor(), "person.signout", String::new()).await;
    let mut resp = Redirect::to("/me/signin").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        access::set_cookie(PERSON_COOKIE, "", "/me", 0, st.config().secure_cookies),
    );
    Ok(resp)
}

/// A row of the admin's people page.
#[derive(Debug, Clone, Serialize)]
struct PersonRow {
    pseudonym: String,
    events: u64,
    code_issued: Option<String>,
    /// When the verifier of the code the person's recorder derived arrived.
    code_from_recorder: Option<String>,
    erasure_requested: Option<String>,
}

/// The recorded people (from the latest mining result) and those with codes.
async fn people_rows(st: &Arc<AppState>) -> Result<Vec<PersonRow>, ApiError> {
    let a = st.analysis().await?;
    let coded = st.with_db(|c| people::list(c)).await?;
    tokio::task::spawn_blocking(move || {
        let log = &a.log;
        let mut events = vec![0u64; log.dict.users.len()];
        for e in &log.events {
            if let Some(&u) = log.session_user.get(e.session as usize) {
                if let Some(n) = events.get_mut(u as usize) {
                    *n += 1;
                }
            }
        }
        let mut rows: BTreeMap<String, PersonRow> = BTreeMap::new();
        for (u, n) in log.dict.users.iter().zip(&events) {
            if *n > 0 {
                rows.insert(
                    u.clone(),
                    PersonRow {
                        pseudonym: u.clone(),
                        events: *n,
                        code_issued: None,
                        code_from_recorder: None,
                        erasure_requested: None,
                    },
                );
            }
        }
        for p in coded {
            let row = rows
                .entry(p.pseudonym.clone())
                .or_insert_with(|| PersonRow {
                    pseudonym: p.pseudonym.clone(),
                    events: 0,
                    code_issued: None,
                    code_from_recorder: None,
                    erasure_requested: None,
                });
            row.code_issued = p.issued_at.map(uilog::format_ts);
            row.code_from_recorder = p.verified_at.map(uilog::format_ts);
            row.erasure_requested = p.erasure_requested_at.map(uilog::format_ts);
        }
        rows.into_values().collect()
    })
    .await
    .map_err(ApiError::internal)
}

async fn render_people(
    st: &Arc<AppState>,
    me: &Identity,
    status: StatusCode,
    fill: impl FnOnce(&mut tera::Context),
) -> Result<Response, ApiError> {
    let rows = people_rows(st).await?;
    let html = plain_page(st, "dashboard/people.html", Some(me), |ctx| {
        ctx.insert("people", &rows);
        fill(ctx);
    })?;
    Ok((status, html).into_response())
}

pub(crate) async fn people_page(
    State(st): State<Arc<AppState>>,
    Extension(me): Extension<Identity>,
) -> Result<Response, ApiError> {
    render_people(&st, &me, StatusCode::OK, |_| {}).await
}

#[derive(Deserialize)]
pub(crate) struct PersonForm {
    #[serde(default)]
    pseudonym: String,
    #[serde(default)]
    confirm: String,
}

/// Issues a recorded person an access code and shows it, once.
pub(crate) async fn issue_code(
    State(st): State<Arc<AppState>>,
    Extension(me): Extension<Identity>,
    Form(f): Form<PersonForm>,
) -> Result<Response, ApiError> {
    let a = st.analysis().await?;
    if !a.log.dict.users.contains(&f.pseudonym) {
        return render_people(&st, &me, StatusCode::NOT_FOUND, |ctx| {
            ctx.insert(
                "error",
                &format!("No recorded person with pseudonym {:?}.", f.pseudonym),
            )
        })
        .await;
    }
    let p = f.pseudonym.clone();
    let code = st.with_db(move |c| people::issue_code(c, &p)).await?;
    st.audit(&me, "person.code", erasure::person_ref(&f.pseudonym))
        .await;
    render_people(&st, &me, StatusCode::OK, |ctx| {
        ctx.insert("issued", &f.pseudonym);
        ctx.insert("code", &code);
    })
    .await
}

/// Erases a recorded person: the same [`erasure::erase`] as `taskmine erase --user`, then the
/// mining job is woken to mine the log without them.
pub(crate) async fn erase(
    State(st): State<Arc<AppState>>,
    Extension(me): Extension<Identity>,
    Form(f): Form<PersonForm>,
) -> Result<Response, ApiError> {
    if f.confirm != f.pseudonym || f.pseudonym.is_empty() {
        return render_people(&st, &me, StatusCode::BAD_REQUEST, |ctx| {
            ctx.insert(
                "error",
                "To erase a person, type their pseudonym again in the confirmation field.",
            )
        })
        .await;
    }
    let config = st.config().clone();
    let (p, actor, remote) = (f.pseudonym.clone(), me.name.clone(), me.remote.clone());
    let done = tokio::task::spawn_blocking(move || {
        // A URL is never opened as a file path: its error would print the password.
        if config.is_postgres() {
            let settings = config.db_settings.pg("erase");
            return erasure::erase_postgres(&config.db_str(), &settings, &p, &actor, &remote);
        }
        let mut store = Store::open(&config.db)?;
        erasure::erase(&mut store, &p, &actor, &remote, true)
    })
    .await
    .map_err(ApiError::internal)?;
    st.mine_soon();
    match done {
        Ok(e) => {
            render_people(&st, &me, StatusCode::OK, |ctx| {
                ctx.insert(
                    "notice",
                    &format!(
                        "Erased {} events of {} ({} stored mining runs); the dashboard is mined again without them.",
                        e.events,
                        erasure::person_ref(&f.pseudonym),
                        e.runs
                    ),
                )
            })
            .await
        }
        Err(crate::Error::NoPerson(_)) => {
            render_people(&st, &me, StatusCode::NOT_FOUND, |ctx| {
                ctx.insert(
                    "error",
                    &format!("No recorded person with pseudonym {:?}.", f.pseudonym),
                )
            })
            .await
        }
        Err(e) => Err(ApiError::internal(e)),
    }
}
