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
    ("get", "/static/style.css", "public"),
    ("get", "/", "viewer"),
    ("get", "/candidates", "viewer"),
    ("get", "/privacy", "viewer"),
    ("get", "/routines/{id}", "analyst"),
    ("get", "/report.html", "analyst"),
    ("get", "/admin/audit", "admin"),
    ("get", "/admin/accounts", "admin"),
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
        for (label, role, token, session) in &callers {
            let cred = match (token, session) {
                (Some(t), _) => Cred::Token(t),
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
                answer(
                    req.send(&batch_json("m", &[event("s", "u", 1_700_000_000_000_000)])[..])
                        .unwrap(),
                )
            } else if *path == "/signin" && *method == "post" {
                // Anyone may try to sign in; a wrong password is a 401 with the form, not a 403.
                sign_in(&srv, "no-such-account", "not the password at all").2
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
            if *path == "/signin" && *method == "post" {
                assert_eq!(a.status, 401, "{ctx}");
                continue;
            }
            let denied_anonymous =
                a.status == 401 || (a.status == 303 && a.location.starts_with("/signin?next="));
            if allowed(need, *role) {
                assert!(!denied_anonymous && a.status != 403, "allowed: {ctx}");
                assert!(
                    a.status == 200 || (*path == "/signout" && a.status == 303),
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
    assert_eq!(checked, EXPECTED.len() * 8);
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
