//! Sign-in through an OpenID Connect provider, against a minimal provider this test serves itself
//! (discovery document, JWKS, authorization and token endpoints, RS256 ID tokens): the happy path
//! ends in a session with the account's role; a replayed callback, a callback from another
//! browser, a wrong nonce, a token signed by another key and an unknown account are refused.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing;
use axum::{Form, Json};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreRsaPrivateSigningKey,
};
use openidconnect::{JsonWebKeyId, PkceCodeChallenge, PkceCodeVerifier, PrivateSigningKey};
use serde_json::json;
use support::*;

const CLIENT_ID: &str = "taskmine-test";
const CLIENT_SECRET: &str = "s3cret-for-the-test";

/// How the provider misbehaves, to check that the server notices.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Honest,
    WrongNonce,
    ForeignKey,
}

struct Provider {
    issuer: String,
    key: CoreRsaPrivateSigningKey,
    foreign: CoreRsaPrivateSigningKey,
    /// Who "signs in" at the provider next.
    user: Mutex<String>,
    mode: Mutex<Mode>,
    /// code → (nonce, PKCE challenge, user)
    codes: Mutex<HashMap<String, (String, String, String)>>,
}

fn rsa_key(kid: &str) -> CoreRsaPrivateSigningKey {
    let out = std::process::Command::new("openssl")
        .args(["genrsa", "-traditional", "2048"])
        .output()
        .expect("openssl (scripts/setup.sh installs it)");
    assert!(out.status.success());
    CoreRsaPrivateSigningKey::from_pem(
        std::str::from_utf8(&out.stdout).unwrap(),
        Some(JsonWebKeyId::new(kid.into())),
    )
    .unwrap()
}

async fn discovery(State(p): State<Arc<Provider>>) -> Json<serde_json::Value> {
    Json(json!({
        "issuer": p.issuer,
        "authorization_endpoint": format!("{}/authorize", p.issuer),
        "token_endpoint": format!("{}/token", p.issuer),
        "jwks_uri": format!("{}/jwks", p.issuer),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks(State(p): State<Arc<Provider>>) -> Json<CoreJsonWebKeySet> {
    Json(CoreJsonWebKeySet::new(vec![p.key.as_verification_key()]))
}

async fn authorize(
    State(p): State<Arc<Provider>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["scope"].split(' ').any(|s| s == "openid"));
    let code = format!("code-{}", p.codes.lock().unwrap().len());
    let user = p.user.lock().unwrap().clone();
    p.codes.lock().unwrap().insert(
        code.clone(),
        (q["nonce"].clone(), q["code_challenge"].clone(), user),
    );
    Redirect::to(&format!(
        "{}?code={code}&state={}",
        q["redirect_uri"], q["state"]
    ))
    .into_response()
}

async fn token(
    State(p): State<Arc<Provider>>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    // client_secret_basic, the library's default.
    let basic = headers["authorization"].to_str().unwrap().to_owned();
    let (id, secret) = {
        use std::io::Read;
        let b64 = basic.strip_prefix("Basic ").unwrap();
        let mut dec = Vec::new();
        base64_decode(b64).read_to_end(&mut dec).unwrap();
        let s = String::from_utf8(dec).unwrap();
        let (a, b) = s.split_once(':').unwrap();
        (a.to_owned(), b.to_owned())
    };
    if id != CLIENT_ID || secret != CLIENT_SECRET {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let Some((nonce, challenge, user)) = p.codes.lock().unwrap().remove(&f["code"]) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    };
    // PKCE: the verifier must hash to the challenge sent to /authorize.
    let verifier = PkceCodeVerifier::new(f["code_verifier"].clone());
    if PkceCodeChallenge::from_code_verifier_sha256(&verifier).as_str() != challenge {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    }
    let mode = *p.mode.lock().unwrap();
    let now = jiff::Timestamp::now().as_second();
    let claims: CoreIdTokenClaims = serde_json::from_value(json!({
        "iss": p.issuer,
        "aud": [CLIENT_ID],
        "exp": now + 300,
        "iat": now,
        "sub": format!("sub-{user}"),
        "preferred_username": user,
        "nonce": if mode == Mode::WrongNonce { "not-the-nonce".to_owned() } else { nonce },
    }))
    .unwrap();
    let key = if mode == Mode::ForeignKey {
        &p.foreign
    } else {
        &p.key
    };
    let id_token = CoreIdToken::new(
        claims,
        key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        None,
        None,
    )
    .unwrap();
    Json(json!({
        "access_token": "at-1",
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token,
    }))
    .into_response()
}

/// Standard base64 (the Basic credentials), without another dependency.
fn base64_decode(s: &str) -> std::io::Cursor<Vec<u8>> {
    let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = table.iter().position(|t| *t == c).unwrap() as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    std::io::Cursor::new(out)
}

/// Serves the provider on a port of its own; returns it and its issuer URL.
fn serve_provider() -> Arc<Provider> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let provider = Arc::new(Provider {
        issuer,
        key: rsa_key("k1"),
        foreign: rsa_key("k1"),
        user: Mutex::new("lea".into()),
        mode: Mutex::new(Mode::Honest),
        codes: Mutex::new(HashMap::new()),
    });
    let app = axum::Router::new()
        .route("/.well-known/openid-configuration", routing::get(discovery))
        .route("/jwks", routing::get(jwks))
        .route("/authorize", routing::get(authorize))
        .route("/token", routing::post(token))
        .with_state(Arc::clone(&provider));
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    provider
}

struct Answer {
    status: u16,
    location: String,
    cookies: Vec<String>,
    body: String,
}

fn fetch(url: &str, cookie: &str) -> Answer {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut req = agent.get(url);
    if !cookie.is_empty() {
        req = req.header("Cookie", cookie);
    }
    let resp = req.call().unwrap();
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let cookies = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let body = resp.into_body().read_to_string().unwrap_or_default();
    Answer {
        status,
        location,
        cookies,
        body,
    }
}

fn cookie(a: &Answer, name: &str) -> Option<String> {
    a.cookies.iter().find_map(|c| {
        let (k, v) = c.split(';').next()?.split_once('=')?;
        (k == name && !v.is_empty()).then(|| v.to_owned())
    })
}

/// Runs the browser's part: the server's start, the provider's authorize, back to the callback.
/// Returns the callback's answer, the state cookie and the callback URL.
fn sign_in(srv: &TestServer, next: &str) -> (Answer, String, String) {
    let start = fetch(&srv.url(&format!("/signin/oidc?next={next}")), "");
    assert_eq!(start.status, 303, "{}", start.body);
    let state = cookie(&start, "tm_oidc").expect("the state cookie");
    let set = start
        .cookies
        .iter()
        .find(|c| c.starts_with("tm_oidc="))
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let at_provider = fetch(&start.location, "");
    assert_eq!(at_provider.status, 303);
    let back = at_provider.location.clone();
    assert!(
        back.starts_with(&srv.url("/signin/oidc/callback?")),
        "{back}"
    );
    let cb = fetch(&back, &format!("tm_oidc={state}"));
    (cb, state, back)
}

#[test]
fn oidc_sign_in_ends_in_a_session_with_the_accounts_role_and_refuses_forgeries() {
    let provider = serve_provider();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    simulated_store(&db, 4, 1);
    {
        let store = uilog::Store::open(&db).unwrap();
        server::accounts::add(
            store.connection(),
            "lea",
            server::accounts::Role::Viewer,
            PASSWORD,
        )
        .unwrap();
    }
    let mut config = fresh_config(&db);
    // The redirect URL names the server's port, known only once it listens: a fixed free port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    config.oidc = Some(server::OidcConfig {
        issuer: provider.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: Some(CLIENT_SECRET.into()),
        redirect_url: format!("http://127.0.0.1:{port}/signin/oidc/callback"),
        claim: "preferred_username".into(),
    });
    let srv = TestServer::start_with(config, format!("127.0.0.1:{port}").parse().unwrap());
    let form = fetch(&srv.url("/signin"), "");
    assert!(
        form.body.contains("id=\"signin-oidc\""),
        "the form offers the provider"
    );

    let (cb, state, back) = sign_in(&srv, "/candidates");
    assert_eq!(
        (cb.status, cb.location.as_str()),
        (303, "/candidates"),
        "{}",
        cb.body
    );
    let sid = cookie(&cb, "tm_session").expect("a session");
    let page = fetch(&srv.url("/candidates"), &format!("tm_session={sid}"));
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("lea (viewer)"),
        "the account's role applies"
    );
    let routine = fetch(&srv.url("/routines/1"), &format!("tm_session={sid}"));
    assert_eq!(routine.status, 403, "a viewer stays a viewer");

    // The same callback again (a replay), or without the browser's state cookie: refused.
    let replay = fetch(&back, &format!("tm_oidc={state}"));
    assert_eq!(replay.status, 403, "{}", replay.body);
    let (_, _, back2) = {
        let start = fetch(&srv.url("/signin/oidc"), "");
        let at = fetch(&start.location, "");
        (start, (), at.location)
    };
    let stranger = fetch(&back2, "tm_oidc=someone-elses-state");
    assert_eq!(stranger.status, 403, "{}", stranger.body);

    // A token for another nonce, or signed by a key not in the JWKS: refused, and audited.
    for mode in [Mode::WrongNonce, Mode::ForeignKey] {
        *provider.mode.lock().unwrap() = mode;
        let (cb, _, _) = sign_in(&srv, "/");
        assert_eq!(cb.status, 401, "{}", cb.body);
        assert!(cookie(&cb, "tm_session").is_none());
    }
    *provider.mode.lock().unwrap() = Mode::Honest;
    // The provider vouches for someone taskmine has no account for: refused.
    *provider.user.lock().unwrap() = "mallory".into();
    let (cb, _, _) = sign_in(&srv, "/");
    assert_eq!(cb.status, 403, "{}", cb.body);
    assert!(cb.body.contains("mallory"));

    let store = uilog::Store::open(&db).unwrap();
    let trail = server::audit::list(store.connection(), 100).unwrap();
    assert!(trail
        .iter()
        .any(|e| e.action == "signin" && e.actor == "lea" && e.detail.contains("oidc")));
    let failed: Vec<_> = trail
        .iter()
        .filter(|e| e.action == "signin.failed")
        .collect();
    assert!(
        failed.iter().any(|e| e.detail.contains("nonce")),
        "{failed:?}"
    );
    assert!(
        failed.iter().any(|e| e.detail.contains("no such account")),
        "{failed:?}"
    );
    assert!(failed.len() >= 3, "{failed:?}");
}
