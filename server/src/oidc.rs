//! Sign-in through an OpenID Connect provider (authorization code flow with PKCE), beside the
//! password form. The provider says who someone is; taskmine still says what they may see: the
//! claim named in the configuration (`preferred_username` by default) must be the name of an
//! existing account, whose role applies, and sign-in ends in the same [`accounts::create_session`]
//! as a password sign-in.
//!
//! The provider's discovery document and keys are fetched with the server's own HTTP client (ureq,
//! no redirects followed), and cached for an hour. The state parameter is bound to the browser by
//! a cookie; the nonce and the PKCE verifier stay on the server, keyed by the state, for at most ten
//! minutes and one use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, HttpRequest, HttpResponse, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::Deserialize;

use crate::access::{self, Identity, SESSION_COOKIE};
use crate::accounts::{self, Role};
use crate::error::{Error, Result};
use crate::state::AppState;

/// How a server signs people in through a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcConfig {
    /// The issuer (its discovery document is `ISSUER/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// This server's callback as the provider knows it: `https://HOST/signin/oidc/callback`.
    pub redirect_url: String,
    /// The ID token claim that names the account: `preferred_username`, `email` or `sub`.
    pub claim: String,
}

const STATE_COOKIE: &str = "tm_oidc";
const PENDING_SECS: u64 = 600;
const METADATA_SECS: u64 = 3600;

struct Pending {
    nonce: Nonce,
    verifier: PkceCodeVerifier,
    next: String,
    at: Instant,
}

/// The provider's cached metadata and the sign-ins under way.
#[derive(Default)]
pub(crate) struct OidcState {
    metadata: Mutex<Option<(CoreProviderMetadata, Instant)>>,
    pending: Mutex<HashMap<String, Pending>>,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        // Following redirects would let a provider's answer point the server anywhere (SSRF).
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(15)))
        .build()
        .into()
}

/// The HTTP client openidconnect calls: one request, the answer whatever its status (the library
/// reads the provider's error bodies itself).
fn http(agent: &ureq::Agent) -> impl Fn(HttpRequest) -> Result<HttpResponse> + '_ {
    move |req| {
        let url = req.uri().to_string();
        let failed = |e: ureq::Error| Error::Server(format!("OIDC provider {url}: {e}"));
        let resp = agent.run(req).map_err(failed)?;
        let (parts, body) = resp.into_parts();
        let bytes = body
            .into_with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(failed)?;
        Ok(HttpResponse::from_parts(parts, bytes))
    }
}

impl OidcState {
    fn metadata(&self, cfg: &OidcConfig, agent: &ureq::Agent) -> Result<CoreProviderMetadata> {
        if let Some((m, at)) = &*self.metadata.lock().expect("oidc lock") {
            if at.elapsed() < Duration::from_secs(METADATA_SECS) {
                return Ok(m.clone());
            }
        }
        let issuer = IssuerUrl::new(cfg.issuer.clone())
            .map_err(|e| Error::Server(format!("OIDC issuer {:?}: {e}", cfg.issuer)))?;
        let m = CoreProviderMetadata::discover(&issuer, &http(agent)).map_err(|e| {
            Error::Server(format!("OIDC discovery at {}: {}", cfg.issuer, chain(&e)))
        })?;
        *self.metadata.lock().expect("oidc lock") = Some((m.clone(), Instant::now()));
        Ok(m)
    }
}

/// An error with its causes, for the log and the audit trail.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(c) = source {
        s.push_str(": ");
        s.push_str(&c.to_string());
        source = c.source();
    }
    s
}

fn redirect_url(cfg: &OidcConfig) -> Result<RedirectUrl> {
    RedirectUrl::new(cfg.redirect_url.clone())
        .map_err(|e| Error::Server(format!("OIDC redirect URL {:?}: {e}", cfg.redirect_url)))
}

/// The state cookie: SameSite=Lax, since the provider's redirect back is a navigation from
/// another site, which a Strict cookie would not accompany; it opens nothing by itself.
fn state_cookie(value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{STATE_COOKIE}={value}; Path=/signin/oidc; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .expect("state is URL-safe")
}

fn refuse(status: StatusCode, message: &str) -> Response {
    crate::wire::ApiError::new(status, message).into_response()
}

#[derive(Deserialize)]
struct StartQuery {
    #[serde(default)]
    next: String,
}

/// `GET /signin/oidc`: off to the provider.
pub(crate) async fn start(State(st): State<Arc<AppState>>, req: Request) -> Response {
    let Some(cfg) = st.config().oidc.clone() else {
        return refuse(
            StatusCode::NOT_FOUND,
            "sign-in through a provider is not configured",
        );
    };
    let q: StartQuery =
        serde_urlencoded::from_str(req.uri().query().unwrap_or("")).unwrap_or(StartQuery {
            next: String::new(),
        });
    let st2 = Arc::clone(&st);
    let built = tokio::task::spawn_blocking(move || -> Result<_> {
        let metadata = st2.oidc.metadata(&cfg, &agent())?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(cfg.client_id.clone()),
            cfg.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect_url(&cfg)?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok((url, state, nonce, verifier))
    })
    .await;
    let (url, state, nonce, verifier) = match built {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => {
            tracing::error!("{e}");
            return refuse(StatusCode::BAD_GATEWAY, &e.to_string());
        }
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    {
        let mut pending = st.oidc.pending.lock().expect("oidc lock");
        pending.retain(|_, p| p.at.elapsed() < Duration::from_secs(PENDING_SECS));
        pending.insert(
            state.secret().clone(),
            Pending {
                nonce,
                verifier,
                next: q.next,
                at: Instant::now(),
            },
        );
    }
    let mut resp = Redirect::to(url.as_str()).into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        state_cookie(state.secret(), PENDING_SECS, st.config().secure_cookies),
    );
    resp
}

#[derive(Deserialize)]
struct Callback {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    error: String,
}

/// `GET /signin/oidc/callback`: the provider sends the browser back with a code.
pub(crate) async fn callback(State(st): State<Arc<AppState>>, req: Request) -> Response {
    let Some(cfg) = st.config().oidc.clone() else {
        return refuse(
            StatusCode::NOT_FOUND,
            "sign-in through a provider is not configured",
        );
    };
    let remote = access::remote(&req);
    let who = |name: &str| Identity {
        name: name.to_owned(),
        role: Role::Viewer,
        csrf: None,
        remote: remote.clone(),
    };
    let q: Callback = match serde_urlencoded::from_str(req.uri().query().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &format!("callback: {e}")),
    };
    if !q.error.is_empty() {
        st.audit(
            &who("oidc"),
            "signin.failed",
            format!("provider: {}", q.error),
        )
        .await;
        return refuse(
            StatusCode::UNAUTHORIZED,
            &format!("the provider refused: {}", q.error),
        );
    }
    // The state must be the one this browser was sent off with, and is used once.
    let bound = access::cookie(req.headers(), STATE_COOKIE)
        .is_some_and(|c| !q.state.is_empty() && accounts::same_secret(c, &q.state));
    if !bound {
        return refuse(
            StatusCode::FORBIDDEN,
            "this sign-in was not started in this browser; start it again",
        );
    }
    let pending = st.oidc.pending.lock().expect("oidc lock").remove(&q.state);
    let Some(p) = pending.filter(|p| p.at.elapsed() < Duration::from_secs(PENDING_SECS)) else {
        return refuse(
            StatusCode::FORBIDDEN,
            "this sign-in has expired or was used; start it again",
        );
    };
    let st2 = Arc::clone(&st);
    let code = q.code;
    let checked = tokio::task::spawn_blocking(move || -> Result<String> {
        let agent = agent();
        let metadata = st2.oidc.metadata(&cfg, &agent)?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(cfg.client_id.clone()),
            cfg.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect_url(&cfg)?);
        let token = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| Error::Server(format!("OIDC: {e}")))?
            .set_pkce_verifier(p.verifier)
            .request(&http(&agent))
            .map_err(|e| Error::Server(format!("OIDC token endpoint: {}", chain(&e))))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| Error::Server("OIDC: the provider sent no ID token".into()))?;
        let claims = id_token
            .claims(&client.id_token_verifier(), &p.nonce)
            .map_err(|e| Error::Server(format!("OIDC ID token: {}", chain(&e))))?;
        let name = match cfg.claim.as_str() {
            "sub" => Some(claims.subject().to_string()),
            "email" => claims
                .email()
                .filter(|_| claims.email_verified() == Some(true))
                .map(|e| e.to_string()),
            _ => claims.preferred_username().map(|u| u.to_string()),
        };
        name.ok_or_else(|| Error::Server(format!("OIDC: the ID token has no {} claim", cfg.claim)))
    })
    .await;
    let name = match checked {
        Ok(Ok(n)) => n,
        Ok(Err(e)) => {
            st.audit(&who("oidc"), "signin.failed", e.to_string()).await;
            return refuse(StatusCode::UNAUTHORIZED, &e.to_string());
        }
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let n = name.clone();
    let old = access::cookie(req.headers(), SESSION_COOKIE).map(str::to_owned);
    let created = st
        .with_db(move |c| {
            let Some(user) = accounts::list(c)?.into_iter().find(|u| u.name == n) else {
                return Ok(None);
            };
            if let Some(old) = old {
                accounts::end_session(c, &old)?;
            }
            let (sid, _) = accounts::create_session(c, user.id)?;
            Ok(Some((user, sid)))
        })
        .await;
    let (user, sid) = match created {
        Ok(Some(x)) => x,
        Ok(None) => {
            st.audit(&who(&name), "signin.failed", "oidc: no such account".into())
                .await;
            return refuse(
                StatusCode::FORBIDDEN,
                &format!("the provider signed in {name:?}, but no account has that name; an admin adds it with `taskmine user add`"),
            );
        }
        Err(e) => return e.into_response(),
    };
    st.audit(&who(&user.name), "signin", format!("{} oidc", user.role))
        .await;
    let secure = st.config().secure_cookies;
    let next = crate::signin::safe_next(&p.next).to_owned();
    let mut resp = Redirect::to(&next).into_response();
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        access::set_cookie(SESSION_COOKIE, &sid, "/", accounts::SESSION_SECS, secure),
    );
    h.append(header::SET_COOKIE, state_cookie("", 0, secure));
    resp
}
