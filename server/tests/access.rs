//! Access control: the role matrix over every route of the router, sign-in (CSRF, session fixation,
//! cookie flags, lockout, open redirects), security headers, and the audit trail.

mod support;

use std::collections::BTreeSet;

use server::access::Access;
use server::accounts::Role;
use support::*;

/// What each route needs, written out here independently of the server's table: a route the
/// router gains without a line here fails [`every_route_has_a_rule_and_the_role_matrix_holds`].
const EXPECTED: &[(&str, &str, &str)] = &[
    ("post", "/api/v1/events", "agent"),
    ("get", "/api/v1/openapi.json", "public"),
    ("get", "/api/v1/summary", "viewer"),
    ("get", "/api/v1/status", "viewer"),
    ("get", "/api/v1/routines", "viewer"),
    ("get", "/api/v1/candidates", "viewer"),
    ("get", "/api/v1/graph", "viewer"),
    ("get", "/api/v1/routines/{id}/graph", "viewer"),
    ("get", "/api/v1/routines/{id}", "analyst"),
    ("get", "/api/v1/bots", "analyst"),
    ("get", "/api/v1/bots/{id}", "analyst"),
    ("get", "/api/v1/replays", "analyst"),
    ("get", "/api/v1/audit", "admin"),
    ("get", "/signin", "public"),
    ("post", "/signin", "public"),
    ("post", "/signout", "viewer"),
    ("get", "/signin/oidc", "public"),
    ("get", "/signin/oidc/callback", "public"),
    ("get", "/static/style.css", "public"),
    ("get", "/", "viewer"),
    ("get", "/candidates", "viewer"),
    ("get", "/privacy", "viewer"),
    ("get", "/routines/{id}", "analyst"),
    ("get", "/report.html", "analyst"),
    ("get", "/process", "viewer"),
    ("get", "/process/links", "analyst"),
    ("get", "/admin/audit", "admin"),
    ("get", "/admin/accounts", "admin"),
    ("get", "/admin/people", "admin"),
    ("post", "/admin/people/code", "admin"),
    ("post", "/admin/people/erase", "admin"),
    ("get", "/me/signin", "public"),
    ("post", "/me/signin", "public"),
    ("get", "/me", "person"),
    ("post", "/me/erasure", "person"),
    ("post", "/me/signout", "person"),
];

fn no_redirects() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into()
}

/// An answer: status, `Location`, every `Set-Cookie`, the other headers we check, and the body.
#[derive(Debug)]
struct Answer {
    status: u16,
    location: String,
    set_cookies: Vec<String>,
    headers: ureq::http::HeaderMap,
    body: String,
}

fn answer(resp: ureq::http::Response<ureq::Body>) -> Answer {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let location = headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let set_cookies = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let body = resp
        .into_body()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .unwrap_or_default();
    Answer {
        status,
        location,
        set_cookies,
        headers,
        body,
    }
}

/// How a request authenticates.
#[derive(Clone, Copy)]
enum Cred<'a> {
    None,
    Token(&'a str),
    /// (session cookie, CSRF token)
    Session(&'a str, &'a str),
    /// A recorded person's (session cookie, CSRF token).
    Person(&'a str, &'a str),
}

fn request(
    method: &str,
    url: &str,
    cred: Cred<'_>,
    form: &[(&str, &str)],
    cookie: Option<&str>,
) -> Answer {
    let agent = no_redirects();
    let mut cookies = Vec::new();
    if let Some(c) = cookie {
        cookies.push(c.to_owned());
    }
    let mut auth = None;
    let mut fields: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    match cred {
        Cred::None => {}
        Cred::Token(t) => auth = Some(format!("Bearer {t}")),
        Cred::Session(sid, csrf) => {
            cookies.push(format!("tm_session={sid}"));
            if !fields.iter().any(|(k, _)| k == "csrf") {
                fields.push(("csrf".into(), csrf.into()));
            }
        }
        Cred::Person(sid, csrf) => {
            cookies.push(format!("tm_person={sid}"));
            if !fields.iter().any(|(k, _)| k == "csrf") {
                fields.push(("csrf".into(), csrf.into()));
            }
        }
    }
    let cookie_header = cookies.join("; ");
    let resp = if method == "get" {
        let mut req = agent.get(url);
        if let Some(a) = &auth {
            req = req.header("Authorization", a);
        }
        if !cookie_header.is_empty() {
            req = req.header("Cookie", &cookie_header);
        }
        req.call()
    } else {
        let mut req = agent.post(url);
        if let Some(a) = &auth {
            req = req.header("Authorization", a);
        }
        if !cookie_header.is_empty() {
            req = req.header("Cookie", &cookie_header);
        }
        let body: String = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        req.header("Content-Type", "application/x-www-form-urlencoded")
            .send(body.as_bytes())
    };
    answer(resp.expect("request"))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn cookie_value(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies.iter().find_map(|c| {
        let first = c.split(';').next()?;
        let (k, v) = first.split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

/// Signs in through the form (GET for the form's token, POST with it); returns the session
/// cookie's value, the CSRF token of the pages, and the POST's answer.
fn sign_in(
    srv: &TestServer,
    name: &str,
    password: &str,
) -> (Option<String>, Option<String>, Answer) {
    let form = request("get", &srv.url("/signin"), Cred::None, &[], None);
    assert_eq!(form.status, 200, "{}", form.body);
    let token = cookie_value(&form.set_cookies, "tm_signin").expect("the form sets its cookie");
    assert!(form
        .body
        .contains(&format!("name=\"csrf\" value=\"{token}\"")));
    let ans = request(
        "post",
        &srv.url("/signin"),
        Cred::None,
        &[
            ("name", name),
            ("password", password),
            ("csrf", &token),
            ("next", "/"),
        ],
        Some(&format!("tm_signin={token}")),
    );
    let sid = cookie_value(&ans.set_cookies, "tm_session").filter(|s| !s.is_empty());
    let csrf = sid.as_ref().map(|sid| {
        let home = request(
            "get",
            &srv.url("/privacy"),
            Cred::Session(sid, ""),
            &[],
            None,
        );
        assert_eq!(home.status, 200, "{}", home.body);
        home.body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a signed-in page has the sign-out form")
            .to_owned()
    });
    (sid, csrf, ans)
}

/// Signs a recorded person in through their form; returns the person's session cookie, the CSRF
/// token of their page, and the POST's answer.
fn person_sign_in(
    srv: &TestServer,
    pseudonym: &str,
    code: &str,
) -> (Option<String>, Option<String>, Answer) {
    let form = request("get", &srv.url("/me/signin"), Cred::None, &[], None);
    assert_eq!(form.status, 200, "{}", form.body);
    let token = cookie_value(&form.set_cookies, "tm_me_signin").expect("the form sets its cookie");
    let ans = request(
        "post",
        &srv.url("/me/signin"),
        Cred::None,
        &[("pseudonym", pseudonym), ("code", code), ("csrf", &token)],
        Some(&format!("tm_me_signin={token}")),
    );
    let sid = cookie_value(&ans.set_cookies, "tm_person").filter(|s| !s.is_empty());
    let csrf = sid.as_ref().map(|sid| {
        let page = request("get", &srv.url("/me"), Cred::Person(sid, ""), &[], None);
        assert_eq!(page.status, 200, "{}", page.body);
        page.body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("the person's page has forms")
            .to_owned()
    });
    (sid, csrf, ans)
}

/// (label, role, API token, (session, CSRF token))
type Caller = (
    String,
    Option<Role>,
    Option<String>,
    Option<(String, String)>,
);

fn allowed(need: &str, who: Option<Role>) -> bool {
    match need {
        "public" => true,
        "agent" => false,
        n => who.is_some_and(|r| r >= n.parse::<Role>().unwrap()),
    }
}

#[test]
fn every_route_has_a_rule_and_the_role_matrix_holds() {
    // The router's routes, the server's rules and this test's table are the same set.
    let served: BTreeSet<(&str, &str)> = server::routes().into_iter().collect();
    let expected: BTreeSet<(&str, &str)> = EXPECTED.iter().map(|(m, p, _)| (*m, *p)).collect();
    assert_eq!(
        served, expected,
        "a route without a line in EXPECTED, or a stale line"
    );
    for (m, p, need) in EXPECTED {
        let rule = server::access::rule_for(m, p).unwrap_or_else(|| panic!("no rule for {m} {p}"));
        let have = match rule.access {
            Access::Public => "public",
            Access::Agent => "agent",
            Access::Person => "person",
            Access::Role(r) => r.as_str(),
        };
        assert_eq!(have, *need, "{m} {p}");
    }
    assert_eq!(
        server::access::RULES.len(),
        EXPECTED.len(),
        "a rule for a route that does not exist"
    );

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    simulated_store(&db, 4, 1);
    let agent_token = {
        let store = uilog::Store::open(&db).unwrap();
        let c = store.connection();
        for role in Role::ALL {
            server::accounts::add(c, role.as_str(), role, PASSWORD).unwrap();
        }
        server::agents::add(&store, "desk").unwrap()
    };
    let person_code = {
        let store = uilog::Store::open(&db).unwrap();
        server::people::issue_code(store.connection(), "user-01").unwrap()
    };
    let srv = TestServer::start_with(fresh_config(&db), "127.0.0.1:0".parse().unwrap());
    let id = {
        let (status, text) = srv.get(&srv.url("/api/v1/candidates"));
        assert_eq!(status, 200, "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["candidates"][0]["routine"]
            .as_u64()
            .expect("a candidate")
            .to_string()
    };
    let tokens: Vec<(Role, String)> = Role::ALL
        .iter()
        .map(|r| {
            let store = uilog::Store::open(&db).unwrap();
            (
                *r,
                server::accounts::new_api_token(store.connection(), r.as_str()).unwrap(),
            )
        })
        .collect();

    let mut checked = 0;
    for (method, path, need) in EXPECTED {
        let url = srv.url(&path.replace("{id}", &id));
        // Callers: nobody, the agent's ingest token, and each role by API token and by session.
        let mut callers: Vec<Caller> = vec![
            ("nobody".into(), None, None, None),
            ("agent".into(), None, Some(agent_token.clone()), None),
        ];
        for (role, token) in &tokens {
            callers.push((
                format!("{role} by token"),
                Some(*role),
                Some(token.clone()),
                None,
            ));
            // A fresh session per request: POST /signout ends the one it is sent with.
            let (sid, csrf, _) = sign_in(&srv, role.as_str(), PASSWORD);
            callers.push((
                format!("{role} by session"),
                Some(*role),
                None,
                Some((sid.unwrap(), csrf.unwrap())),
            ));
        }
        // And a recorded person, by their own session (also fresh: sign-out ends it).
        let (psid, pcsrf, _) = person_sign_in(&srv, "user-01", &person_code);
        callers.push((
            "person".into(),
            None,
            None,
            Some((psid.unwrap(), pcsrf.unwrap())),
        ));
        for (label, role, token, session) in &callers {
            let cred = match (token, session) {
                (Some(t), _) => Cred::Token(t),
                (_, Some((s, c))) if label == "person" => Cred::Person(s, c),
                (_, Some((s, c))) => Cred::Session(s, c),
                _ => Cred::None,
            };
            let a = if *path == "/api/v1/events" {
                let mut req = no_redirects()
                    .post(&url)
                    .header("Content-Type", "application/json");
                if let Cred::Token(t) = cred {
                    req = req.header("Authorization", &format!("Bearer {t}"));
                }
                if let Cred::Session(s, _) = cred {
                    req = req.header("Cookie", &format!("tm_session={s}"));
                }
                if let Cred::Person(s, _) = cred {
                    req = req.header("Cookie", &format!("tm_person={s}"));
                }
                answer(
                    req.send(&batch_json("m", &[event("s", "u", 1_700_000_000_000_000)])[..])
                        .unwrap(),
                )
            } else if *path == "/signin" && *method == "post" {
                // Anyone may try to sign in; a wrong password is a 401 with the form, not a 403.
                sign_in(&srv, "no-such-account", "not the password at all").2
            } else if *path == "/me/signin" && *method == "post" {
                person_sign_in(&srv, "user-02", "AAAAA-BBBBB-CCCCC-DDDDD").2
            } else if path.starts_with("/admin/people/") {
                // A pseudonym the log does not have: nobody is erased by the matrix.
                request(
                    method,
                    &url,
                    cred,
                    &[
                        ("pseudonym", "no-such-person"),
                        ("confirm", "no-such-person"),
                    ],
                    None,
                )
            } else {
                request(method, &url, cred, &[], None)
            };
            checked += 1;
            let ctx = format!(
                "{method} {path} as {label}: {} {} {}",
                a.status,
                a.location,
                &a.body[..a.body.len().min(200)]
            );
            if *need == "agent" {
                // Only the agent's token writes events; accounts' tokens and sessions cannot.
                if label == "agent" {
                    assert_eq!(a.status, 200, "{ctx}");
                } else {
                    assert_eq!(a.status, 401, "{ctx}");
                }
                continue;
            }
            if (*path == "/signin" || *path == "/me/signin") && *method == "post" {
                assert_eq!(a.status, 401, "{ctx}");
                continue;
            }
            if *need == "person" {
                // Only a person's own session opens a person's page; no account does.
                if label == "person" {
                    let ok = if *method == "get" {
                        a.status == 200 && a.body.contains("user-01")
                    } else {
                        a.status == 303 && a.location.starts_with("/me")
                    };
                    assert!(ok, "{ctx}");
                } else {
                    assert_eq!(
                        (a.status, a.location.as_str()),
                        (303, "/me/signin"),
                        "{ctx}"
                    );
                }
                continue;
            }
            let denied_anonymous =
                a.status == 401 || (a.status == 303 && a.location.starts_with("/signin?next="));
            if allowed(need, *role) {
                assert!(!denied_anonymous && a.status != 403, "allowed: {ctx}");
                assert!(
                    a.status == 200
                        || (*path == "/signout" && a.status == 303)
                        // This server has no provider configured (tests/oidc.rs has one).
                        || (path.starts_with("/signin/oidc") && a.status == 404)
                        || (path.starts_with("/admin/people/")
                            && a.status == 404
                            && a.body.contains("No recorded person")),
                    "{ctx}"
                );
            } else if role.is_none() {
                // Nobody, or an agent's token (which is not an account).
                assert!(denied_anonymous, "needs sign-in: {ctx}");
                if path.starts_with("/api/") || label == "agent" {
                    assert_eq!(a.status, 401, "{ctx}");
                } else {
                    assert_eq!(
                        a.location,
                        format!("/signin?next={}", path.replace("{id}", &id)),
                        "{ctx}"
                    );
                }
            } else {
                assert_eq!(a.status, 403, "role too low: {ctx}");
            }
        }
    }
    assert_eq!(checked, EXPECTED.len() * 9);
}

#[test]
fn sign_in_resists_csrf_fixation_and_guessing_and_sets_strict_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    simulated_store(&db, 4, 1);
    {
        let store = uilog::Store::open(&db).unwrap();
        server::accounts::add(store.connection(), "ana", Role::Analyst, PASSWORD).unwrap();
        server::accounts::add(store.connection(), "vic", Role::Viewer, PASSWORD).unwrap();
    }
    let srv = TestServer::start_with(fresh_config(&db), "127.0.0.1:0".parse().unwrap());

    // A form posted without the form's own token (login CSRF) is refused.
    let a = request(
        "post",
        &srv.url("/signin"),
        Cred::None,
        &[("name", "ana"), ("password", PASSWORD)],
        None,
    );
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(cookie_value(&a.set_cookies, "tm_session").is_none());
    let planted = "ab".repeat(32);
    let a = request(
        "post",
        &srv.url("/signin"),
        Cred::None,
        &[("name", "ana"), ("password", PASSWORD), ("csrf", &planted)],
        Some(&format!("tm_signin={}", "cd".repeat(32))),
    );
    assert_eq!(
        a.status, 403,
        "a token that is not the cookie's: {}",
        a.body
    );

    // Sign-in sets a new HttpOnly, SameSite=Strict session cookie (not Secure over plain HTTP).
    let (sid, csrf, ans) = sign_in(&srv, "ana", PASSWORD);
    assert_eq!(ans.status, 303);
    assert_eq!(ans.location, "/");
    let sid = sid.unwrap();
    let csrf = csrf.unwrap();
    let set = ans
        .set_cookies
        .iter()
        .find(|c| c.starts_with("tm_session="))
        .unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(flag), "{set}");
    }
    assert!(!set.contains("Secure"), "{set}");

    // Fixation: an id the browser held before sign-in (planted by someone) is not the new session,
    // and an older session of the browser ends at the new sign-in.
    let form = request("get", &srv.url("/signin"), Cred::None, &[], None);
    let token = cookie_value(&form.set_cookies, "tm_signin").unwrap();
    let a = request(
        "post",
        &srv.url("/signin"),
        Cred::None,
        &[("name", "ana"), ("password", PASSWORD), ("csrf", &token)],
        Some(&format!("tm_signin={token}; tm_session={sid}")),
    );
    assert_eq!(a.status, 303);
    let new_sid = cookie_value(&a.set_cookies, "tm_session").unwrap();
    assert_ne!(new_sid, sid, "the session id is rotated at sign-in");
    let old = request("get", &srv.url("/"), Cred::Session(&sid, &csrf), &[], None);
    assert_eq!((old.status, old.location.as_str()), (303, "/signin?next=/"));
    let planted_use = request("get", &srv.url("/"), Cred::Session(&planted, ""), &[], None);
    assert_eq!(planted_use.status, 303);
    let (s2, c2) = (new_sid, {
        let p = request(
            "get",
            &srv.url("/privacy"),
            Cred::Session(&cookie_value(&a.set_cookies, "tm_session").unwrap(), ""),
            &[],
            None,
        );
        p.body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned()
    });

    // Pages: strict headers, no inline script or style, a stylesheet of their own.
    let page = request("get", &srv.url("/"), Cred::Session(&s2, &c2), &[], None);
    assert_eq!(page.status, 200);
    let csp = page
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.headers.get("x-frame-options").unwrap(), "DENY");
    assert_eq!(page.headers.get("referrer-policy").unwrap(), "no-referrer");
    assert_eq!(
        page.headers.get("x-content-type-options").unwrap(),
        "nosniff"
    );
    for inline in ["<script", "<style", " style=", "onclick", "onload"] {
        assert!(!page.body.contains(inline), "inline {inline} in a page");
    }
    assert!(page
        .body
        .contains(r#"<link rel="stylesheet" href="/static/style.css">"#));
    let css = request("get", &srv.url("/static/style.css"), Cred::None, &[], None);
    assert_eq!(css.status, 200);
    assert!(css
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/css"));

    // Sign-out needs the session's CSRF token.
    let a = request(
        "post",
        &srv.url("/signout"),
        Cred::Session(&s2, "wrong"),
        &[("csrf", "wrong")],
        None,
    );
    assert_eq!(a.status, 403, "{}", a.body);
    let a = request(
        "post",
        &srv.url("/signout"),
        Cred::Session(&s2, ""),
        &[("csrf", "")],
        None,
    );
    assert_eq!(a.status, 403, "{}", a.body);
    assert_eq!(
        request("get", &srv.url("/"), Cred::Session(&s2, &c2), &[], None).status,
        200
    );
    let a = request(
        "post",
        &srv.url("/signout"),
        Cred::Session(&s2, &c2),
        &[],
        None,
    );
    assert_eq!((a.status, a.location.as_str()), (303, "/signin"));
    let cleared = a
        .set_cookies
        .iter()
        .find(|c| c.starts_with("tm_session="))
        .unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(
        request("get", &srv.url("/"), Cred::Session(&s2, &c2), &[], None).status,
        303
    );

    // No open redirect after sign-in.
    let form = request(
        "get",
        &srv.url("/signin?next=//evil.example/x"),
        Cred::None,
        &[],
        None,
    );
    let token = cookie_value(&form.set_cookies, "tm_signin").unwrap();
    assert!(!form.body.contains("evil.example"));
    let a = request(
        "post",
        &srv.url("/signin"),
        Cred::None,
        &[
            ("name", "vic"),
            ("password", PASSWORD),
            ("csrf", &token),
            ("next", "//evil.example/x"),
        ],
        Some(&format!("tm_signin={token}")),
    );
    assert_eq!((a.status, a.location.as_str()), (303, "/"));

    // Lockout: after 5 wrong passwords even the right one is refused for a while.
    for i in 0..5 {
        let (sid, _, a) = sign_in(&srv, "vic", "guessing guessing");
        assert!(sid.is_none());
        let want = if i < 4 { 401 } else { 429 };
        assert_eq!(a.status, want, "attempt {}: {}", i + 1, a.body);
    }
    let (sid, _, a) = sign_in(&srv, "vic", PASSWORD);
    assert!(sid.is_none());
    assert_eq!(a.status, 429);
    assert!(a.body.contains("locked until"), "{}", a.body);
    // An unknown name reads exactly like a wrong password.
    let (_, _, a) = sign_in(&srv, "nobody-here", PASSWORD);
    assert_eq!(a.status, 401);
    assert!(a.body.contains("Wrong name or password."));

    // Over TLS (a proxy's or the server's own), cookies carry Secure and answers HSTS.
    drop(srv);
    let mut config = fresh_config(&db);
    config.secure_cookies = true;
    let srv = TestServer::start_with(config, "127.0.0.1:0".parse().unwrap());
    let (_, _, ans) = sign_in(&srv, "ana", PASSWORD);
    let set = ans
        .set_cookies
        .iter()
        .find(|c| c.starts_with("tm_session="))
        .unwrap();
    assert!(set.contains("; Secure"), "{set}");
    assert!(ans.headers.get("strict-transport-security").is_some());
}

#[test]
fn audited_actions_are_in_the_trail_with_who_what_and_where() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    simulated_store(&db, 4, 1);
    let (viewer_token, analyst_token) = {
        let store = uilog::Store::open(&db).unwrap();
        let c = store.connection();
        server::accounts::add(c, "ana", Role::Analyst, PASSWORD).unwrap();
        server::accounts::add(c, "vic", Role::Viewer, PASSWORD).unwrap();
        server::accounts::add(c, "gone", Role::Viewer, PASSWORD).unwrap();
        server::accounts::remove(c, "gone").unwrap();
        server::agents::add(&store, "desk-9").unwrap();
        server::agents::remove(&store, "desk-9").unwrap();
        (
            server::accounts::new_api_token(c, "vic").unwrap(),
            server::accounts::new_api_token(c, "ana").unwrap(),
        )
    };
    let srv = TestServer::start_with(fresh_config(&db), "127.0.0.1:0".parse().unwrap());
    let v: serde_json::Value =
        serde_json::from_str(&srv.get(&srv.url("/api/v1/candidates")).1).unwrap();
    let id = v["candidates"][0]["routine"].as_u64().unwrap();

    let (sid, _, _) = sign_in(&srv, "ana", PASSWORD);
    let sid = sid.unwrap();
    sign_in(&srv, "ana", "not the right one");
    assert_eq!(
        request(
            "get",
            &srv.url(&format!("/routines/{id}")),
            Cred::Session(&sid, ""),
            &[],
            None
        )
        .status,
        200
    );
    let t = Cred::Token(&analyst_token);
    assert_eq!(
        request(
            "get",
            &srv.url(&format!("/api/v1/routines/{id}")),
            t,
            &[],
            None
        )
        .status,
        200
    );
    assert_eq!(
        request("get", &srv.url(&format!("/api/v1/bots/{id}")), t, &[], None).status,
        200
    );
    let report = request("get", &srv.url("/report.html"), t, &[], None);
    assert_eq!(report.status, 200);
    assert!(report
        .headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let denied = request(
        "get",
        &srv.url("/api/v1/bots"),
        Cred::Token(&viewer_token),
        &[],
        None,
    );
    assert_eq!(denied.status, 403);

    let (status, text) = srv.get(&srv.url("/api/v1/audit"));
    assert_eq!(status, 200, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let entries: Vec<(String, String, String, String)> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
                e["detail"].as_str().unwrap().to_owned(),
                e["remote"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let has = |actor: &str, action: &str, detail: &str, remote: &str| {
        entries.iter().any(|(a, b, c, d)| {
            a.starts_with(actor) && b == action && c.contains(detail) && d == remote
        })
    };
    let local = "127.0.0.1";
    assert!(has("ana", "signin", "analyst", local), "{entries:#?}");
    assert!(has("ana", "signin.failed", "", local));
    assert!(has(
        "ana",
        "routine.read",
        &format!("GET /routines/{id} 200"),
        local
    ));
    assert!(has(
        "ana",
        "routine.read",
        &format!("GET /api/v1/routines/{id} 200"),
        local
    ));
    assert!(has(
        "ana",
        "bot.download",
        &format!("GET /api/v1/bots/{id} 200"),
        local
    ));
    assert!(has("ana", "export", "GET /report.html 200", local));
    assert!(has("vic", "access.denied", "GET /api/v1/bots", local));
    assert!(has("cli:", "user.add", "ana (analyst)", "local"));
    assert!(has("cli:", "user.remove", "gone", "local"));
    assert!(has("cli:", "user.token", "vic", "local"));
    assert!(has("cli:", "agent.add", "desk-9", "local"));
    assert!(has("cli:", "agent.remove", "desk-9", "local"));

    // The admin page shows the same trail; no route can change it.
    let (status, page) = srv.get(&srv.url("/admin/audit"));
    assert_eq!(status, 200);
    assert!(page.matches(r#"<tr class="audit-entry">"#).count() >= entries.len());
    assert!(
        page.contains("<td>audit.read</td><td>GET &#x2F;api&#x2F;v1&#x2F;audit 200</td>"),
        "reading the trail is in it"
    );
    for (m, p) in server::routes() {
        assert!(
            m == "get" || !p.contains("audit"),
            "{m} {p} would write the audit trail"
        );
    }
}

/// The events of `user` per app as the store holds them (idle markers are not work).
fn events_by_app(db: &std::path::Path, user: &str) -> std::collections::BTreeMap<String, u64> {
    let store = uilog::Store::open(db).unwrap();
    let mut by_app = std::collections::BTreeMap::new();
    for e in store.events().unwrap() {
        if e.user == user
            && !matches!(
                e.kind,
                uilog::EventKind::IdleStart | uilog::EventKind::IdleEnd
            )
        {
            *by_app.entry(e.app.clone()).or_insert(0u64) += 1;
        }
    }
    by_app
}

/// The (app, count) rows of a person's page.
fn page_apps(body: &str) -> std::collections::BTreeMap<String, u64> {
    body.split("<tr class=\"me-app\"><td>")
        .skip(1)
        .map(|row| {
            let (app, rest) = row.split_once("</td><td>").unwrap();
            let n = rest.split('<').next().unwrap().parse().unwrap();
            (app.to_owned(), n)
        })
        .collect()
}

#[test]
fn a_person_sees_only_their_own_data_and_an_admin_erases_them_from_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    simulated_store(&db, 4, 1);
    {
        // An app and a title only user-02 used, with names no simulator makes.
        let mut store = uilog::Store::open(&db).unwrap();
        let mut e = event("private-02", "user-02", 1_800_000_000_000_000);
        e.app = "diary-7731".into();
        e.window = "secret-diary-7731 notes".into();
        store
            .write_batch(None, "test", |sink| -> uilog::Result<()> { sink.push(&e) })
            .unwrap();
        server::accounts::add(store.connection(), "adm", Role::Admin, PASSWORD).unwrap();
    }
    let srv = TestServer::start_with(fresh_config(&db), "127.0.0.1:0".parse().unwrap());
    let (sid, csrf, _) = sign_in(&srv, "adm", PASSWORD);
    let (sid, csrf) = (sid.unwrap(), csrf.unwrap());
    let admin = Cred::Session(&sid, &csrf);

    // The admin issues codes on the people page; a code is shown once and stored as argon2id.
    let people = request("get", &srv.url("/admin/people"), admin, &[], None);
    assert_eq!(people.status, 200, "{}", people.body);
    assert!(people.body.contains("user-01") && people.body.contains("user-02"));
    let issue = |p: &str| {
        let a = request(
            "post",
            &srv.url("/admin/people/code"),
            admin,
            &[("pseudonym", p)],
            None,
        );
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
            .split("<code id=\"issued-code\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .expect("the code is on the page")
            .to_owned()
    };
    let code1 = issue("user-01");
    let code2 = issue("user-02");
    let no_csrf = request(
        "post",
        &srv.url("/admin/people/code"),
        Cred::Session(&sid, "wrong"),
        &[("pseudonym", "user-01"), ("csrf", "wrong")],
        None,
    );
    assert_eq!(no_csrf.status, 403, "{}", no_csrf.body);
    {
        let store = uilog::Store::open(&db).unwrap();
        let hashes: Vec<String> = store
            .connection()
            .prepare("SELECT code_hash FROM server_people")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(hashes.len(), 2);
        assert!(hashes.iter().all(|h| h.starts_with("$argon2id$")));
        let plain1 = code1.replace('-', "");
        assert!(hashes.iter().all(|h| !h.contains(&plain1)));
    }

    // A wrong code, or another person's code, opens nothing.
    assert_eq!(person_sign_in(&srv, "user-01", &code2).2.status, 401);
    let (psid, pcsrf, ans) = person_sign_in(&srv, "user-01", &code1);
    assert_eq!((ans.status, ans.location.as_str()), (303, "/me"));
    let set = ans
        .set_cookies
        .iter()
        .find(|c| c.starts_with("tm_person="))
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/me")
    );
    let (psid, pcsrf) = (psid.unwrap(), pcsrf.unwrap());
    let me = Cred::Person(&psid, &pcsrf);
    let page = request("get", &srv.url("/me"), me, &[], None);
    assert_eq!(page.status, 200, "{}", page.body);
    // Exactly their events per app, as the store counts them, and nobody else's.
    let shown = page_apps(&page.body);
    assert!(!shown.is_empty());
    assert_eq!(shown, events_by_app(&db, "user-01"));
    for other in ["user-02", "user-03", "user-04", "diary-7731"] {
        assert!(!page.body.contains(other), "{other} on user-01's page");
    }
    assert!(
        page.body.contains("me-routine"),
        "routines they are counted in"
    );
    assert_eq!(
        page.body.matches("<tr class=\"me-action\">").count(),
        server::own::SAMPLE,
        "their latest actions"
    );
    // A person's session opens no dashboard page, and an admin's opens no person's page.
    let dash = request("get", &srv.url("/"), me, &[], None);
    assert_eq!(
        (dash.status, dash.location.as_str()),
        (303, "/signin?next=/")
    );
    let api = request("get", &srv.url("/api/v1/summary"), me, &[], None);
    assert_eq!(api.status, 401);
    let as_admin = request("get", &srv.url("/me"), admin, &[], None);
    assert_eq!(
        (as_admin.status, as_admin.location.as_str()),
        (303, "/me/signin")
    );

    // user-02 sees their own app; asks for erasure (the form needs the person's CSRF token).
    let (psid2, pcsrf2, _) = person_sign_in(&srv, "user-02", &code2);
    let (psid2, pcsrf2) = (psid2.unwrap(), pcsrf2.unwrap());
    let me2 = Cred::Person(&psid2, &pcsrf2);
    let page2 = request("get", &srv.url("/me"), me2, &[], None);
    assert_eq!(page_apps(&page2.body), events_by_app(&db, "user-02"));
    assert!(page2.body.contains("diary-7731") && !page2.body.contains("user-01"));
    // Their newest action is the one in the diary app (dated after the simulated days).
    let newest = page2.body.split("<tr class=\"me-action\">").nth(1).unwrap();
    let newest = newest.split("</tr>").next().unwrap();
    assert!(newest.contains("diary-7731"), "{newest}");
    let forged = request(
        "post",
        &srv.url("/me/erasure"),
        Cred::Person(&psid2, "0"),
        &[("csrf", "0")],
        None,
    );
    assert_eq!(forged.status, 403);
    let asked = request("post", &srv.url("/me/erasure"), me2, &[], None);
    assert_eq!((asked.status, asked.location.as_str()), (303, "/me"));
    let page2 = request("get", &srv.url("/me"), me2, &[], None);
    assert!(
        page2.body.contains("me-erasure-requested"),
        "{}",
        page2.body
    );
    let people = request("get", &srv.url("/admin/people"), admin, &[], None);
    let row = people
        .body
        .split("<tr class=\"person\">")
        .find(|r| r.starts_with("<td>user-02<"))
        .unwrap();
    assert!(
        row.contains("UTC") || row.contains('T'),
        "request shown: {row}"
    );

    // The admin erases user-02 (the confirmation must repeat the pseudonym).
    let unconfirmed = request(
        "post",
        &srv.url("/admin/people/erase"),
        admin,
        &[("pseudonym", "user-02"), ("confirm", "user-2")],
        None,
    );
    assert_eq!(unconfirmed.status, 400);
    let erased = request(
        "post",
        &srv.url("/admin/people/erase"),
        admin,
        &[("pseudonym", "user-02"), ("confirm", "user-02")],
        None,
    );
    assert_eq!(erased.status, 200, "{}", erased.body);
    assert!(erased.body.contains("people-notice"), "{}", erased.body);
    assert!(events_by_app(&db, "user-02").is_empty());
    assert!(!events_by_app(&db, "user-01").is_empty());
    // Their session and code went with them.
    let gone = request("get", &srv.url("/me"), me2, &[], None);
    assert_eq!((gone.status, gone.location.as_str()), (303, "/me/signin"));
    assert_eq!(person_sign_in(&srv, "user-02", &code2).2.status, 401);
    let bytes = std::fs::read(&db).unwrap();
    let needle = b"secret-diary-7731";
    assert!(
        !bytes.windows(needle.len()).any(|w| w == needle),
        "the erased title is still in the file"
    );
    // The trail has the code, the request and the erasure, naming the person by hash only.
    let store = uilog::Store::open(&db).unwrap();
    let trail = server::audit::list(store.connection(), 1000).unwrap();
    let p2 = server::erasure::person_ref("user-02");
    for action in ["person.code", "person.signin", "erasure.request", "erase"] {
        assert!(
            trail
                .iter()
                .any(|e| e.action == action && (e.detail.contains(&p2) || e.actor == p2)),
            "{action} in {trail:?}"
        );
    }
    assert!(trail
        .iter()
        .any(|e| e.action == "erase" && e.actor == "adm"));
    assert!(trail
        .iter()
        .all(|e| !e.detail.contains("user-02") && !e.actor.contains("user-02")));
}

#[test]
fn sign_in_and_ingest_are_rate_limited_per_address_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    let agent_token = {
        let store = uilog::Store::open(&db).unwrap();
        server::accounts::add(store.connection(), "ana", Role::Analyst, PASSWORD).unwrap();
        server::agents::add(&store, "desk").unwrap()
    };
    let mut config = fresh_config(&db);
    config.rate = server::RateLimits {
        login: Some(server::Rate {
            burst: 3,
            per_minute: 6,
        }),
        ingest: Some(server::Rate {
            burst: 2,
            per_minute: 60,
        }),
    };
    let srv = TestServer::start_with(config, "127.0.0.1:0".parse().unwrap());
    // Three attempts pass (wrong passwords: 401), the fourth is refused before any password is
    // checked, whatever it holds; a person's sign-in draws from the same bucket.
    for _ in 0..3 {
        assert_eq!(
            sign_in(&srv, "ana", "not the password at all").2.status,
            401
        );
    }
    let limited = sign_in(&srv, "ana", PASSWORD).2;
    assert_eq!(limited.status, 429, "{}", limited.body);
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry), "one attempt every 10 s: {retry}");
    assert_eq!(person_sign_in(&srv, "user-01", "AAAAA").2.status, 429);
    // The form itself (GET) is not limited, nor are other pages.
    assert_eq!(
        request("get", &srv.url("/signin"), Cred::None, &[], None).status,
        200
    );

    let send = |batch: &str| {
        post(
            &srv.url("/api/v1/events"),
            Some(&agent_token),
            &batch_json(batch, &[event("s", "u", 1_700_000_000_000_000)]),
            false,
        )
    };
    assert_eq!(send("a").0, 200);
    assert_eq!(send("b").0, 200);
    let agent = no_redirects();
    let resp = agent
        .post(&srv.url("/api/v1/events"))
        .header("Authorization", &format!("Bearer {agent_token}"))
        .header("Content-Type", "application/json")
        .send(&batch_json("c", &[event("s", "u", 1_700_000_000_000_001)])[..])
        .unwrap();
    let a = answer(resp);
    assert_eq!(a.status, 429, "{}", a.body);
    assert_eq!(a.headers["retry-after"].to_str().unwrap(), "1");
    assert!(a.body.contains("too many requests"), "{}", a.body);
    assert_eq!(count_events(&db), 2, "the refused batch wrote nothing");
    // One token a second comes back.
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    assert_eq!(send("c").0, 200);
}
