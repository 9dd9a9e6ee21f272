//! Issue 10's end-to-end tests on real components: a desktop (Xvfb + openbox) with its own
//! session bus and accessibility bus (`dbus-daemon`, `at-spi-bus-launcher`), a real application
//! (a GTK3 form; Chromium with a local HTML form), and xdotool as the user. For each app the user
//! fills the form 12 times while `taskmine record` runs; `taskmine mine` (no options) must find the
//! routine, `taskmine bots` draft it with inputs named after the fields, and `taskmine replay` fill
//! the right fields with new values after the window was moved, resized and got a field above the
//! first one. A bot whose selector matches nothing must halt before typing anything, and a run
//! whose typing lands in another field (the app moves the focus) must be reported failed.
//!
//! What was saved is read from the app's own output (the GTK form's file, Chromium's console
//! log) and the form's state through gi's Atspi (`tests/apps/probe.py`), never through taskmine.
//! Everything is started here and stopped by PID when the test ends, also when it fails.

mod a11y;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use a11y::{apps, field, require, Field, Session, PYTHON};

use codegen::bot::{Action, Bot};
use codegen::validate::TraceRecorder;

fn taskmine(s: &Session) -> Command {
    let mut c = s.cmd(env!("CARGO_BIN_EXE_taskmine"));
    c.arg("--quiet");
    c
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("taskmine runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(out.status.success(), "{cmd:?} failed: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The twelve customers the user types, and the two new ones a replay gets.
const PEOPLE: [[&str; 3]; 12] = [
    ["Ann", "Quist", "ann@example.org"],
    ["Bo", "Rahm", "bo@example.org"],
    ["Cyd", "Stone", "cyd@example.net"],
    ["Dora", "Tell", "dora@example.com"],
    ["Emil", "Ungar", "emil@example.org"],
    ["Fay", "Vogt", "fay@example.net"],
    ["Gil", "Wendt", "gil@example.com"],
    ["Hana", "Xu", "hana@example.org"],
    ["Ivo", "Yates", "ivo@example.net"],
    ["Jule", "Zorn", "jule@example.com"],
    ["Kai", "Abel", "kai@example.org"],
    ["Lena", "Berg", "lena@example.net"],
];
const NEW: [[&str; 3]; 2] = [
    ["Mira", "Cole", "mira@example.org"],
    ["Nils", "Dahl", "nils@example.com"],
];
const FIELDS: [&str; 3] = ["First name", "Last name", "E-mail"];

/// The user: fills the form `PEOPLE.len()` times with xdotool while `taskmine record` runs, with
/// 0.2–0.9 s between steps and 3–5 s between instances (issue 10's shape, scaled down).
fn perform_routine(s: &Session, title: &str, save: &str, db: &Path) -> Vec<uilog::Event> {
    let policy = s.home().join("policy.yaml");
    std::fs::write(&policy, "text: plain\n").unwrap();
    let mut record = taskmine(s);
    record
        .arg("record")
        .arg("--db")
        .arg(db)
        .arg("--policy")
        .arg(&policy)
        .args(["--session", "user"]);
    let mut rec = TraceRecorder::start(record, db).expect("taskmine record starts");
    let fields = s.form(title, &[FIELDS[0], FIELDS[1], FIELDS[2], save]);
    for (i, person) in PEOPLE.iter().enumerate() {
        let pause = |k: usize| Duration::from_millis(200 + ((i * 7 + k * 3) % 8) as u64 * 100);
        for (k, (name, value)) in FIELDS.iter().zip(person).enumerate() {
            s.click(field(&fields, name).centre);
            std::thread::sleep(pause(2 * k));
            s.type_text(value);
            std::thread::sleep(pause(2 * k + 1));
        }
        s.click(field(&fields, save).centre);
        std::thread::sleep(Duration::from_millis(3_000 + (i as u64 * 700) % 2_000));
    }
    rec.stop().expect("taskmine record stops on SIGTERM with 0")
}

/// Mines and drafts with no options; checks that the routine and its bot are what the user did.
fn mine_and_draft(s: &Session, db: &Path, save: &str) -> (PathBuf, Bot) {
    let mined = ok(taskmine(s)
        .arg("mine")
        .arg("--db")
        .arg(db)
        .args(["--json", "--top", "3"]));
    let mining: serde_json::Value = serde_json::from_str(&mined).expect("mine --json is JSON");
    let labels: Vec<String> = mining["routines"][0]["labels"]
        .as_array()
        .unwrap_or_else(|| panic!("mine found no routine: {mined}"))
        .iter()
        .map(|l| l.as_str().unwrap_or_default().to_owned())
        .collect();
    for name in FIELDS.iter().chain([&save]) {
        assert!(
            labels.iter().any(|l| l.contains(name)),
            "the top routine touches {name:?}; mine produced: {labels:#?}\n{mined}"
        );
    }
    let instances = mining["routines"][0]["score"]["instances"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        instances >= 10,
        "{instances} instances of 12 found: {mined}"
    );
    let out = s.home().join("bots");
    ok(taskmine(s)
        .arg("bots")
        .arg("--db")
        .arg(db)
        .args(["--top", "1", "--out"])
        .arg(&out));
    let dir = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .expect("a bot folder");
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        !name.contains("--") && !name.contains("config") && name.len() < 40,
        "the folder name holds no profile path: {name}"
    );
    let path = dir.join("bot.yaml");
    let bot = Bot::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let yaml = bot.to_yaml().unwrap();
    let mut names = bot.input_names();
    names.sort_unstable();
    assert_eq!(
        names,
        ["e_mail", "first_name", "last_name"],
        "inputs named after the fields:\n{yaml}"
    );
    for st in bot.steps.iter().filter(|st| st.action == Action::Click) {
        assert!(
            st.selector.is_some() && st.fallback.is_none(),
            "every click finds its element by selector, none by position:\n{yaml}"
        );
    }
    (path, bot)
}

fn params_file(s: &Session, bot: &Bot, rows: &[[&str; 3]], name: &str) -> PathBuf {
    let cols = ["first_name", "last_name", "e_mail"];
    let names = bot.input_names();
    let mut csv = names.join(",") + "\n";
    for r in rows {
        let cells: Vec<&str> = names
            .iter()
            .map(|n| r[cols.iter().position(|c| c == n).unwrap()])
            .collect();
        csv.push_str(&cells.join(","));
        csv.push('\n');
    }
    let p = s.home().join(name);
    std::fs::write(&p, csv).unwrap();
    p
}

/// Runs `taskmine replay` and returns its exit, output and JSON report.
fn replay(
    s: &Session,
    bot: &Path,
    params: &Path,
    report: &str,
) -> (bool, String, serde_json::Value) {
    let report = s.home().join(report);
    let out = run(taskmine(s)
        .arg("replay")
        .arg(bot)
        .arg("--params")
        .arg(params)
        .arg("--report")
        .arg(&report));
    let log = text(&out);
    let json = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    (out.status.success(), log, json)
}

/// Checks a passing report: every run passed, and every type step's value read back.
fn assert_passed(ok: bool, log: &str, report: &serde_json::Value, rows: &[[&str; 3]]) {
    assert!(ok, "replay failed:\n{log}\n{report:#}");
    assert_eq!(report["passed"], true, "{report:#}");
    let runs = report["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), rows.len());
    for (run, row) in runs.iter().zip(rows) {
        let read: Vec<&str> = run["step_checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["action"] == "type")
            .map(|c| {
                assert_eq!(c["verified"], true, "{c:#}");
                assert!(c["selector"].is_string() && c["found"].is_string(), "{c:#}");
                c["read_back"].as_str().unwrap_or_default()
            })
            .collect();
        assert_eq!(read, row.to_vec(), "values read back per step: {run:#}");
        assert_eq!(run["trace"]["matched"], true, "{run:#}");
    }
}

/// A failed run: not passed, stopped at `step_action`, and the message says `why`.
fn assert_failed(ok: bool, log: &str, report: &serde_json::Value, step_action: &str, why: &str) {
    assert!(!ok, "replay must fail:\n{log}");
    let run = &report["runs"][0];
    assert_eq!(run["passed"], false, "{report:#}");
    let failure = run["failure"].as_str().unwrap_or_default();
    assert!(
        failure.contains(&format!("({step_action})")) && failure.contains(why),
        "failure {failure:?} should name a {step_action} step and say {why:?}\n{log}"
    );
}

fn saved_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The app under test: how to start it with a geometry (`WxH+X+Y`) and its variants, and how to
/// read what it saved.
#[derive(Clone, Copy, PartialEq)]
enum App {
    Gtk,
    Chromium,
}

/// A running app.
struct Running {
    pid: u32,
    /// The GTK form's file of saved records.
    out: PathBuf,
}

impl App {
    fn start(
        self,
        s: &mut Session,
        name: &str,
        geometry: &str,
        extra: bool,
        steal: bool,
    ) -> Running {
        let out = s.home().join(format!("{name}.txt"));
        let pid = match self {
            App::Gtk => {
                let mut app = s.cmd(PYTHON);
                app.arg(apps().join("form.py"))
                    .arg("--out")
                    .arg(&out)
                    .args(["--geometry", geometry])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                if extra {
                    app.arg("--extra");
                }
                if steal {
                    app.arg("--steal");
                }
                s.spawn("form.py", app)
            }
            App::Chromium => {
                require("chromium", "chromium");
                let (size, pos) = geometry.split_once('+').expect("WxH+X+Y");
                let mut url = format!("file://{}/form.html?", apps().display());
                if extra {
                    url.push_str("extra=1&");
                }
                if steal {
                    url.push_str("steal=1");
                }
                let mut app = s.cmd("chromium");
                app.env("ACCESSIBILITY_ENABLED", "1")
                    .arg("--no-sandbox")
                    .arg(format!("--user-data-dir={}", s.home().join(name).display()))
                    .args([
                        "--no-first-run",
                        "--no-default-browser-check",
                        "--disable-gpu",
                        "--force-renderer-accessibility",
                    ])
                    .arg(format!("--window-size={}", size.replace('x', ",")))
                    .arg(format!("--window-position={}", pos.replace('+', ",")))
                    .arg(format!("--app={url}"))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                s.spawn("chromium", app)
            }
        };
        let mut names = vec!["First name", "Save"];
        if extra {
            names.push("Company");
        }
        s.form(TITLE, &names);
        Running { pid, out }
    }

    /// What the running app saved, one `first|last|email` per record.
    fn saved(self, s: &Session, r: &Running) -> Vec<String> {
        match self {
            App::Gtk => saved_lines(&r.out),
            App::Chromium => s.saved_in_page(TITLE),
        }
    }

    /// The role AT-SPI gives the form's text fields.
    fn field_role(self) -> &'static str {
        match self {
            App::Gtk => "text",
            App::Chromium => "entry",
        }
    }
}

const TITLE: &str = "Customer form";

fn end_to_end(kind: App, label: &str) {
    let started = Instant::now();
    let mut s = Session::start();
    let app = kind.start(&mut s, "user", "420x300+40+40", false, false);
    let db = s.home().join("user.db");
    let recorded = perform_routine(&s, TITLE, "Save", &db);
    let expected: Vec<String> = PEOPLE.iter().map(|p| p.join("|")).collect();
    let saved = kind.saved(&s, &app);
    assert_eq!(saved, expected, "the user's own runs saved every record");
    let acts: Vec<&uilog::Event> = recorded
        .iter()
        .filter(|e| matches!(e.kind, uilog::EventKind::Click | uilog::EventKind::Type))
        .collect();
    let with_element = acts
        .iter()
        .filter(|e| e.element.as_ref().is_some_and(|el| !el.is_empty()))
        .count();
    eprintln!(
        "{label}: {} events recorded, {with_element} of {} clicks and typed runs with an element, user {:.0} s",
        recorded.len(),
        acts.len(),
        started.elapsed().as_secs_f64()
    );

    let (bot_path, bot) = mine_and_draft(&s, &db, "Save");

    // The window moved and grew by 200 px, and a field sits above First name now.
    s.stop(app.pid);
    let app = kind.start(&mut s, "moved", "620x500+240+240", true, false);
    let params = params_file(&s, &bot, &NEW, "new.csv");
    let (passed, log, report) = replay(&s, &bot_path, &params, "replay.json");
    assert_passed(passed, &log, &report, &NEW);
    let expected: Vec<String> = NEW.iter().map(|p| p.join("|")).collect();
    assert_eq!(
        kind.saved(&s, &app),
        expected,
        "the app saved the new rows:\n{log}"
    );
    assert!(
        log.contains("read back \"Mira\""),
        "the text output lists read-backs:\n{log}"
    );

    // A selector that matches nothing: the run halts before any input.
    let mut broken = bot.clone();
    let first = broken
        .steps
        .iter_mut()
        .find(|st| st.action == Action::Type)
        .expect("a type step");
    first.selector.as_mut().unwrap().name = Some("^No such field$".into());
    let broken_path = s.home().join("broken.yaml");
    std::fs::write(&broken_path, broken.to_yaml().unwrap()).unwrap();
    let one = params_file(&s, &bot, &NEW[..1], "one.csv");
    let (passed, log, report) = replay(&s, &broken_path, &one, "broken.json");
    assert_failed(passed, &log, &report, "click", "matches no element");
    let fields = s.probe(TITLE);
    let texts: Vec<&Field> = fields
        .iter()
        .filter(|f| f.role == kind.field_role() && FIELDS.contains(&f.name.as_str()))
        .collect();
    assert_eq!(texts.len(), 3, "{fields:?}");
    for f in texts {
        assert_eq!(
            f.text.as_deref(),
            Some(""),
            "nothing was typed anywhere: {fields:?}"
        );
    }
    assert_eq!(kind.saved(&s, &app).len(), 2, "nothing was saved");

    // The app moves the focus from First name to Last name: the typing lands in the wrong
    // field, which the replay must report as failed.
    s.stop(app.pid);
    kind.start(&mut s, "steal", "420x300+40+40", false, true);
    let (passed, log, report) = replay(&s, &bot_path, &one, "steal.json");
    assert_failed(passed, &log, &report, "type", "First name");
    eprintln!("{label}: done in {:.0} s", started.elapsed().as_secs_f64());
}

#[test]
fn gtk_form_record_mine_bots_and_replay_that_proves_the_outcome() {
    end_to_end(App::Gtk, "gtk");
}

#[test]
fn chromium_form_record_mine_bots_and_replay_that_proves_the_outcome() {
    end_to_end(App::Chromium, "chromium");
}
