//! Headless Chromium (Debian's `chromium`, installed by scripts/setup.sh) loads the dashboard from a
//! running server on 127.0.0.1; the rendered DOM must hold the candidates table and the task graph's
//! SVG nodes. Screenshots go to target/tmp/. A second test drives Chromium over the DevTools
//! protocol (on a pipe, no port): sign in through the form, browse, check the cookie's flags as the
//! browser stored them, sign out. A third signs a recorded person in on `/me` with the code their
//! recorder derived and checks that the page shows only their data.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser"] {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = Path::new(dir).join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("chromium is not installed: run scripts/setup.sh (apt-get install chromium)");
}

/// Runs headless Chromium with `args` and the URL; returns stdout. Killed after 90 s.
fn run_chromium(extra: &[String], url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = reader.join().unwrap();
            assert!(status.success(), "chromium failed on {url}: {status}");
            return out;
        }
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium took more than 90 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn screenshot(url: &str, name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    run_chromium(
        &[
            format!("--screenshot={}", path.display()),
            "--window-size=1400,1800".into(),
        ],
        url,
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 5_000,
        "a real screenshot"
    );
    path
}

#[test]
fn headless_chromium_renders_the_candidates_table_and_the_task_graph() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    simulated_store(&db, 4, 2);
    // Rendering is what this test checks; sign-in has its own test below.
    let mut config = server::Config::new(&db);
    config.auth = server::AuthMode::Open;
    let srv = TestServer::start_with(config, "127.0.0.1:0".parse().unwrap());

    let dom = run_chromium(&["--dump-dom".into()], &srv.url("/"));
    assert!(dom.contains(r#"<table id="candidates">"#), "{dom}");
    let rows = dom.matches(r#"<tr class="candidate""#).count();
    assert!(rows >= 1, "candidate rows in the DOM");
    let first = dom
        .split(r#"<tr class="candidate" data-routine=""#)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a candidate's routine id")
        .to_owned();

    let dom = run_chromium(
        &["--dump-dom".into()],
        &srv.url(&format!("/routines/{first}")),
    );
    assert!(dom.contains(r#"<svg class="task-graph""#), "{dom}");
    let steps = dom.matches(r#"<g class="node step""#).count();
    let nodes = dom.matches(r#"<g class="node"#).count();
    assert!(
        steps >= 2 && nodes >= steps,
        "graph nodes in the DOM: {steps} steps, {nodes} nodes"
    );
    assert!(dom.contains(r#"<path class="edge"#));
    assert!(dom.contains(r#"<svg class="histogram""#) && dom.contains(r#"<rect class="bar""#));

    let home = screenshot(&srv.url("/"), "dashboard-overview.png");
    let routine = screenshot(
        &srv.url(&format!("/routines/{first}")),
        "dashboard-routine.png",
    );
    eprintln!("screenshots: {} {}", home.display(), routine.display());
}

/// Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: commands on
/// fd 3, answers on fd 4, each a JSON text ended by a NUL byte).
struct Cdp {
    child: std::process::Child,
    input: std::process::ChildStdin,
    answers: std::sync::mpsc::Receiver<serde_json::Value>,
    next_id: u64,
    session: Option<String>,
    _profile: tempfile::TempDir,
}

impl Cdp {
    fn start() -> Cdp {
        let profile = tempfile::tempdir().unwrap();
        // The shell moves the pipes onto the descriptors Chromium expects.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$@" 3<&0 4>&1 </dev/null >/dev/null"#)
            .arg("sh")
            .arg(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        let input = child.stdin.take().unwrap();
        let mut output = child.stdout.take().unwrap();
        let (tx, answers) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 65536];
            while let Ok(n) = output.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = buf.iter().position(|&b| b == 0) {
                    let msg: Vec<u8> = buf.drain(..=end).collect();
                    if let Ok(v) = serde_json::from_slice(&msg[..msg.len() - 1]) {
                        if tx.send(v).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let mut cdp = Cdp {
            child,
            input,
            answers,
            next_id: 0,
            session: None,
            _profile: profile,
        };
        let target = cdp.call(
            "Target.createTarget",
            serde_json::json!({ "url": "about:blank" }),
        );
        let attached = cdp.call(
            "Target.attachToTarget",
            serde_json::json!({ "targetId": target["targetId"], "flatten": true }),
        );
        cdp.session = Some(attached["sessionId"].as_str().unwrap().to_owned());
        cdp
    }

    /// Sends a command (to the page once attached) and waits for its answer, skipping events.
    fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        use std::io::Write;
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = serde_json::json!({ "id": id, "method": method, "params": params });
        if let Some(s) = &self.session {
            msg["sessionId"] = s.clone().into();
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.input.write_all(&bytes).unwrap();
        self.input.flush().unwrap();
        loop {
            let v = self
                .answers
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("no answer to {method}"));
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    /// Evaluates JavaScript in the page and returns its value.
    fn eval(&mut self, expr: &str) -> serde_json::Value {
        let r = self.call(
            "Runtime.evaluate",
            serde_json::json!({ "expression": expr, "returnByValue": true }),
        );
        assert!(r.get("exceptionDetails").is_none(), "{expr}: {r}");
        r["result"]["value"].clone()
    }

    /// Waits until the loaded page's path and query are `want` (after redirects).
    fn wait_for_page(&mut self, want: &str) {
        let start = Instant::now();
        loop {
            let v = self.eval("document.readyState + ' ' + location.pathname + location.search");
            if v.as_str() == Some(&format!("complete {want}")) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "still at {v}, waiting for {want}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn navigate(&mut self, url: &str, lands_on: &str) {
        self.call("Page.navigate", serde_json::json!({ "url": url }));
        self.wait_for_page(lands_on);
    }

    fn cookies(&mut self, url: &str) -> Vec<serde_json::Value> {
        let r = self.call("Network.getCookies", serde_json::json!({ "urls": [url] }));
        r["cookies"].as_array().unwrap().clone()
    }
}

impl Drop for Cdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn headless_chromium_signs_in_browses_and_signs_out() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    simulated_store(&db, 4, 1);
    {
        let store = uilog::Store::open(&db).unwrap();
        server::accounts::add(
            store.connection(),
            "ana",
            server::accounts::Role::Analyst,
            PASSWORD,
        )
        .unwrap();
    }
    let srv = TestServer::start(&db);
    let base = srv.url("/");
    let mut b = Cdp::start();
    b.call("Network.enable", serde_json::json!({}));

    // Not signed in: the dashboard sends the browser to the sign-in form.
    b.navigate(&base, "/signin?next=/");
    assert_eq!(
        b.eval("document.querySelectorAll('form input[name=csrf]').length"),
        1
    );
    let typed = serde_json::to_string(PASSWORD).unwrap();
    b.eval(&format!(
        "document.getElementById('name').value = 'ana'; \
         document.getElementById('password').value = {typed}; \
         document.getElementById('signin-submit').click(); true"
    ));
    b.wait_for_page("/");
    assert_eq!(
        b.eval("document.querySelectorAll('#candidates tr.candidate').length > 0"),
        true
    );
    assert_eq!(
        b.eval("document.querySelector('form.signout .who').textContent"),
        "ana (analyst)"
    );
    // The stylesheet is a file of its own and the CSP lets it apply.
    assert_eq!(
        b.eval("getComputedStyle(document.querySelector('header')).backgroundColor"),
        "rgb(29, 43, 74)"
    );

    // The session cookie as the browser stored it: HttpOnly, SameSite=Strict, not visible to scripts.
    let cookies = b.cookies(&base);
    let session = cookies
        .iter()
        .find(|c| c["name"] == "tm_session")
        .unwrap_or_else(|| panic!("no session cookie: {cookies:?}"));
    assert_eq!(session["httpOnly"], true, "{session}");
    assert_eq!(session["sameSite"], "Strict", "{session}");
    assert_eq!(session["path"], "/");
    assert_eq!(session["secure"], false, "plain HTTP in this test");
    assert_eq!(b.eval("document.cookie.includes('tm_session')"), false);

    // Browse: a candidate's link opens its routine with the task graph.
    let id = b.eval("document.querySelector('tr.candidate').dataset.routine");
    let id = id.as_str().unwrap().to_owned();
    b.eval("document.querySelector('tr.candidate a').click(); true");
    b.wait_for_page(&format!("/routines/{id}"));
    assert_eq!(
        b.eval("document.querySelectorAll('svg.task-graph g.node.step').length >= 2"),
        true
    );
    b.navigate(&srv.url("/candidates"), "/candidates");

    // Sign out: back at the form, the cookie gone, and the dashboard closed again.
    b.eval("document.querySelector('form.signout button').click(); true");
    b.wait_for_page("/signin");
    let cookies = b.cookies(&base);
    assert!(
        cookies.iter().all(|c| c["name"] != "tm_session"),
        "{cookies:?}"
    );
    b.navigate(
        &srv.url(&format!("/routines/{id}")),
        &format!("/signin?next=/routines/{id}"),
    );

    let store = uilog::Store::open(&db).unwrap();
    let trail = server::audit::list(store.connection(), 100).unwrap();
    let did = |action: &str| {
        trail
            .iter()
            .any(|e| e.actor == "ana" && e.action == action && e.remote == "127.0.0.1")
    };
    assert!(
        did("signin") && did("routine.read") && did("signout"),
        "{trail:#?}"
    );
}

#[test]
fn headless_chromium_signs_a_person_in_with_their_recorders_code_and_shows_only_their_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    simulated_store(&db, 4, 1);
    let token = {
        let store = uilog::Store::open(&db).unwrap();
        server::agents::add(&store, "alice-desk").unwrap()
    };
    let srv = TestServer::start_with(fresh_config(&db), "127.0.0.1:0".parse().unwrap());

    // Alice's recorder: her pseudonym and code from its key; its batch carries the verifier.
    let privacy = recorder::Privacy::new(recorder::Policy::default(), &[5; 32]).unwrap();
    let alice = privacy.user("alice");
    let code = privacy.access_code("alice");
    let events: Vec<uilog::Event> = (0..5)
        .map(|i| {
            let mut e = uilog::Event::new(
                "alice-1",
                &alice,
                1_700_000_000_000_000 + i * 1_000_000,
                uilog::EventKind::Type,
            );
            e.host = "host-a".into();
            e.app = "ledger".into();
            e.window = format!("Ledger entry {i}");
            e.value_hash = Some(uilog::ValueHash(0x5eed + i as u64));
            e
        })
        .collect();
    let body = serde_json::to_vec(&serde_json::json!({
        "batch_id": "alice-1",
        "events": events,
        "access": [{"pseudonym": alice, "verifier": server::people::verifier(&alice, &code).unwrap()}],
    }))
    .unwrap();
    let (status, text) = post(&srv.url("/api/v1/events"), Some(&token), &body, false);
    assert_eq!(status, 200, "{text}");

    let mut b = Cdp::start();
    b.call("Network.enable", serde_json::json!({}));
    // Not signed in: the person's page sends the browser to its form, where the code alone does.
    b.navigate(&srv.url("/me"), "/me/signin");
    let typed = serde_json::to_string(&code).unwrap();
    b.eval(&format!(
        "document.getElementById('code').value = {typed}; \
         document.getElementById('me-signin-submit').click(); true"
    ));
    b.wait_for_page("/me");
    assert_eq!(
        b.eval("document.getElementById('me-pseudonym').textContent"),
        alice.as_str()
    );
    // The mining job runs again after the batch; until then the page shows the earlier result.
    let start = Instant::now();
    while b.eval("document.querySelector('#me-events strong').textContent") != "5" {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the page never counted Alice's 5 events"
        );
        std::thread::sleep(Duration::from_millis(300));
        b.navigate(&srv.url("/me"), "/me");
    }
    // Only Alice's data: her one app, her events as stored (hashes, not text), nobody else's.
    assert_eq!(
        b.eval("[...document.querySelectorAll('tr.me-app td:first-child')].map(t => t.textContent).join()"),
        "ledger"
    );
    let rows =
        b.eval("[...document.querySelectorAll('tr.me-event')].map(r => r.innerText).join('\\n')");
    let rows = rows.as_str().unwrap();
    assert_eq!(rows.lines().count(), 5, "{rows}");
    assert!(
        rows.lines().next().unwrap().contains("Ledger entry 4"),
        "{rows}"
    );
    assert!(rows.contains(&format!("{:016x}", 0x5eed)), "{rows}");
    let text = b.eval("document.body.innerText");
    let text = text.as_str().unwrap().replace(&alice, "");
    let others = uilog::Store::open(&db).unwrap().dictionary().unwrap();
    for name in others
        .users
        .iter()
        .chain(&others.apps)
        .filter(|n| !n.is_empty())
    {
        if *name != alice && name != "ledger" {
            assert!(
                !text.contains(name.as_str()),
                "{name} on Alice's page: {text}"
            );
        }
    }

    // The person's cookie as the browser stored it: HttpOnly, SameSite=Strict, /me only.
    let cookies = b.cookies(&srv.url("/me"));
    let person = cookies
        .iter()
        .find(|c| c["name"] == "tm_person")
        .unwrap_or_else(|| panic!("no person cookie: {cookies:?}"));
    assert_eq!(person["httpOnly"], true, "{person}");
    assert_eq!(person["sameSite"], "Strict", "{person}");
    assert_eq!(person["path"], "/me");
    // It opens no dashboard page.
    b.navigate(&srv.url("/"), "/signin?next=/");

    // Sign out from the person's page: back at the form, and the page closed again.
    b.navigate(&srv.url("/me"), "/me");
    b.eval("document.querySelector('form.signout button').click(); true");
    b.wait_for_page("/me/signin");
    b.navigate(&srv.url("/me"), "/me/signin");

    let store = uilog::Store::open(&db).unwrap();
    let trail = server::audit::list(store.connection(), 100).unwrap();
    let me = server::erasure::person_ref(&alice);
    for action in ["person.signin", "person.signout"] {
        assert!(
            trail.iter().any(|e| e.actor == me && e.action == action),
            "{action}: {trail:#?}"
        );
    }
}
