//! Headless Chromium (Debian's `chromium`, installed by scripts/setup.sh) loads the dashboard from a
//! running server on 127.0.0.1; the rendered DOM must hold the candidates table and the task graph's
//! SVG nodes. Screenshots go to target/tmp/.

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
    let srv = TestServer::start(&db);

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
