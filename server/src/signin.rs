//! Sign-in and sign-out.
//!
//! The sign-in form is protected against login CSRF by a double-submit token: the form page sets a
//! short-lived cookie and puts the same value in a hidden field; a POST whose field and cookie
//! differ is refused. A successful sign-in always makes a new session id (an id planted before
//! sign-in is ended, never promoted: no session fixation).

use std::sync::Arc;

use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use crate::access::{self, Identity, SESSION_COOKIE, SIGNIN_COOKIE};
use crate::accounts::{self, SignIn};
use crate::dashboard::plain_page;
use crate::state::AppState;
use crate::wire::ApiError;

#[derive(Deserialize)]
pub(crate) struct Next {
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// Where to go after sign-in: a path on this server only (`//host` or a URL would be an open
/// redirect).
pub(crate) fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    // Sign-in and sign-out are forms, not pages to land on.
    if local && next != "/signin" && next != "/signout" {
        next
    } else {
        "/"
    }
}

fn is_hex_secret(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn render_form(
    st: &AppState,
    status: StatusCode,
    token: &str,
    next: &str,
    error: Option<&str>,
) -> Response {
    let page = plain_page(st, "dashboard/signin.html", None, |ctx| {
        ctx.insert("csrf", token);
        ctx.insert("next", safe_next(next));
        if st.config().oidc.is_some() {
            ctx.insert("oidc", &true);
        }
        if let Some(e) = error {
            ctx.insert("error", e);
        }
    });
    match page {
        Ok(html) => {
            let cookie = access::set_cookie(
                SIGNIN_COOKIE,
                token,
                "/signin",
                3600,
                st.config().secure_cookies,
            );
            (status, [(header::SET_COOKIE, cookie)], html).into_response()
        }
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn form(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<Next>,
) -> Response {
    let token = access::cookie(&headers, SIGNIN_COOKIE)
        .filter(|t| is_hex_secret(t))
        .map_or_else(|| accounts::secret(""), str::to_owned);
    render_form(&st, StatusCode::OK, &token, &q.next, None)
}

pub(crate) async fn submit(State(st): State<Arc<AppState>>, req: Request) -> Response {
    let remote = access::remote(&req);
    let headers = req.headers().clone();
    let Form(f) = match Form::<SignInForm>::from_request(req, &st).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let expected = access::cookie(&headers, SIGNIN_COOKIE).filter(|t| is_hex_secret(t));
    if !expected.is_some_and(|t| accounts::same_secret(t, &f.csrf)) {
        return render_form(
            &st,
            StatusCode::FORBIDDEN,
            &accounts::secret(""),
            &f.next,
            Some("The sign-in form had expired; please sign in again."),
        );
    }
    let token = expected.unwrap_or_default().to_owned();
    let (name, password) = (f.name.clone(), f.password);
    let outcome = match st
        .with_db(move |c| accounts::sign_in(c, &name, &password))
        .await
    {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let who = |name: &str| Identity {
        name: name.to_owned(),
        role: accounts::Role::Viewer,
        csrf: None,
        remote: remote.clone(),
    };
    let user = match outcome {
        SignIn::Ok(user) => user,
        SignIn::Wrong => {
            st.audit(&who(&f.name), "signin.failed", String::new())
                .await;
            return render_form(
                &st,
                StatusCode::UNAUTHORIZED,
                &token,
                &f.next,
                Some("Wrong name or password."),
            );
        }
        SignIn::Locked { until } => {
            st.audit(&who(&f.name), "signin.locked", String::new())
                .await;
            let msg = format!(
                "Too many failed sign-ins: this account is locked until {} UTC.",
                uilog::format_ts(until)
            );
            return render_form(
                &st,
                StatusCode::TOO_MANY_REQUESTS,
                &token,
                &f.next,
                Some(&msg),
            );
        }
    };
    let old = access::cookie(&headers, SESSION_COOKIE).map(str::to_owned);
    let uid = user.id;
    let created = st
        .with_db(move |c| {
            if let Some(old) = old {
                accounts::end_session(c, &old)?;
            }
            accounts::create_session(c, uid)
        })
        .await;
    let (sid, _) = match created {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    st.audit(&who(&user.name), "signin", user.role.to_string())
        .await;
    let secure = st.config().secure_cookies;
    let mut resp = Redirect::to(safe_next(&f.next)).into_response();
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        access::set_cookie(SESSION_COOKIE, &sid, "/", accounts::SESSION_SECS, secure),
    );
    h.append(
        header::SET_COOKIE,
        access::set_cookie(SIGNIN_COOKIE, "", "/signin", 0, secure),
    );
    resp
}

/// Ends the session (the guard has checked the form's CSRF token) and clears the cookie.
pub(crate) async fn sign_out(
    State(st): State<Arc<AppState>>,
    Extension(me): Extension<Identity>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(sid) = access::cookie(&headers, SESSION_COOKIE).map(str::to_owned) {
        st.with_db(move |c| accounts::end_session(c, &sid)).await?;
    }
    st.audit(&me, "signout", String::new()).await;
    let mut resp = Redirect::to("/signin").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        access::set_cookie(SESSION_COOKIE, "", "/", 0, st.config().secure_cookies),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_pages_are_landed_on_after_sign_in() {
        assert_eq!(safe_next("/routines/3"), "/routines/3");
        for outside in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "",
            "x",
            "/signout",
            "/a\nb",
        ] {
            assert_eq!(safe_next(outside), "/", "{outside:?}");
        }
    }
}
