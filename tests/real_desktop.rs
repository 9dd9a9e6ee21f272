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

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use codegen::bot::{Action, Bot};
use codegen::validate::TraceRecorder;

/// One desktop at a time: two would compete for the two cores and make input timing flaky.
static LOCK: Mutex<()> = Mutex::new(());

const APPS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/apps");
const PYTHON: &str = "/usr/bin/python3";
const BUS_LAUNCHER: &str = "/usr/libexec/at-spi-bus-launcher";

/// Fails, naming the package, when a program the tests need is missing.
fn require(program: &str, package: &str) {
    let found = if program.starts_with('/') {
        Path::new(program).exists()
    } else {
        Command::new("sh")
            .args(["-c", &format!("command -v {program}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    assert!(
        found,
        "{program} is missing: install it with scripts/setup.sh (apt-get install {package})"
    );
}

/// A private desktop with a session bus and an accessibility bus.
struct Session {
    display: String,
    bus: String,
    dir: tempfile::TempDir,
    procs: Vec<(String, Child)>,
    _lock: MutexGuard<'static, ()>,
}

impl Session {
    fn start() -> Session {
        let lock = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        require("Xvfb", "xvfb");
        require("openbox", "openbox");
        require("xdotool", "xdotool");
        require("dbus-daemon", "dbus dbus-x11");
        require(BUS_LAUNCHER, "at-spi2-core");
        require(PYTHON, "python3");
        let gi = Command::new(PYTHON)
            .args([
                "-c",
                "import gi; gi.require_version('Gtk', '3.0'); gi.require_version('Atspi', '2.0')",
            ])
            .output()
            .expect("python3 runs");
        assert!(
            gi.status.success(),
            "python3-gi with GTK 3 and Atspi is missing: install it with scripts/setup.sh \
             (apt-get install python3-gi gir1.2-gtk-3.0 gir1.2-atspi-2.0 libatk-adaptor)"
        );
        let dir = tempfile::tempdir().expect("scratch dir");
        let mut s = Session {
            display: String::new(),
            bus: String::new(),
            dir,
            procs: Vec::new(),
            _lock: lock,
        };
        // The session bus first: everything after it, the accessibility bus included, finds it
        // through DBUS_SESSION_BUS_ADDRESS.
        let mut dbus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts");
        let mut line = String::new();
        BufReader::new(dbus.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("dbus-daemon prints its address");
        s.bus = line.trim().to_owned();
        s.procs.push(("dbus-daemon".into(), dbus));
        assert!(!s.bus.is_empty(), "dbus-daemon printed no address");

        let base = 300 + std::process::id() % 200;
        for n in base..base + 100 {
            if Path::new(&format!("/tmp/.X{n}-lock")).exists()
                || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            {
                continue;
            }
            let display = format!(":{n}");
            let xvfb = Command::new("Xvfb")
                .args([
                    display.as_str(),
                    "-screen",
                    "0",
                    "1280x1024x24",
                    "-nolisten",
                    "tcp",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb starts");
            s.procs.push(("Xvfb".into(), xvfb));
            s.display = display;
            if s.wait(Duration::from_secs(10), || {
                s.output("xdotool", &["getdisplaygeometry"])
                    .contains("1280")
            }) {
                break;
            }
            let (_, mut x) = s.procs.pop().expect("just pushed");
            let _ = x.kill();
            let _ = x.wait();
            s.display.clear();
        }
        assert!(!s.display.is_empty(), "no free X display");
        let openbox = s.cmd("openbox");
        s.spawn("openbox", openbox);
        assert!(
            s.wait(Duration::from_secs(20), || {
                s.output("xprop", &["-root", "_NET_SUPPORTING_WM_CHECK"])
                    .contains("window id")
            }),
            "openbox did not come up"
        );
        let mut launcher = s.cmd(BUS_LAUNCHER);
        launcher.arg("--launch-immediately");
        s.spawn("at-spi-bus-launcher", launcher);
        assert!(
            s.wait(Duration::from_secs(10), || {
                s.output("xprop", &["-root", "AT_SPI_BUS"])
                    .contains("unix:")
            }),
            "the accessibility bus did not come up"
        );
        s
    }

    fn wait(&self, timeout: Duration, mut ok: impl FnMut() -> bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    fn home(&self) -> &Path {
        self.dir.path()
    }

    /// A command on this desktop and its buses.
    fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env_remove("NO_AT_BRIDGE")
            .env_remove("TASKMINE_DB");
        c
    }

    fn output(&self, program: &str, args: &[&str]) -> String {
        self.cmd(program)
            .args(args)
            .stderr(Stdio::null())
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    /// Starts a process that is stopped with the session; returns its PID.
    fn spawn(&mut self, name: &str, mut cmd: Command) -> u32 {
        if cmd.get_program() != "sh" {
            cmd.stdin(Stdio::null());
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let pid = child.id();
        self.procs.push((name.to_owned(), child));
        pid
    }

    /// Stops the process `pid` started with [`Session::spawn`].
    fn stop(&mut self, pid: u32) {
        if let Some(k) = self.procs.iter().position(|(_, c)| c.id() == pid) {
            let (_, child) = self.procs.remove(k);
            terminate(child);
        }
    }

    fn xdotool(&self, args: &[&str]) -> String {
        let out = self
            .cmd("xdotool")
            .args(args)
            .output()
            .expect("xdotool runs");
        assert!(
            out.status.success(),
            "xdotool {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn click(&self, (x, y): (i32, i32)) {
        self.xdotool(&["mousemove", &x.to_string(), &y.to_string(), "click", "1"]);
    }

    fn type_text(&self, text: &str) {
        self.xdotool(&["type", "--delay", "40", "--", text]);
    }

    /// The form's fields and buttons as gi's Atspi sees them, by name.
    fn probe(&self, title: &str) -> Vec<Field> {
        let out = self
            .cmd(PYTHON)
            .arg(format!("{APPS}/probe.py"))
            .arg(title)
            .output()
            .expect("probe.py runs");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| Field {
                role: v["role"].as_str().unwrap_or_default().to_owned(),
                name: v["name"].as_str().unwrap_or_default().to_owned(),
                centre: (
                    (v["x"].as_i64().unwrap_or(0) + v["width"].as_i64().unwrap_or(0) / 2) as i32,
                    (v["y"].as_i64().unwrap_or(0) + v["height"].as_i64().unwrap_or(0) / 2) as i32,
                ),
                text: v["text"].as_str().map(str::to_owned),
            })
            .collect()
    }

    /// Waits until the form shows every field in `names`; returns the fields.
    fn form(&self, title: &str, names: &[&str]) -> Vec<Field> {
        let start = Instant::now();
        loop {
            let fields = self.probe(title);
            if names.iter().all(|n| fields.iter().any(|f| f.name == *n)) {
                return fields;
            }
            assert!(
                start.elapsed() < Duration::from_secs(40),
                "the form {title:?} did not show {names:?} through AT-SPI: {fields:?}"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

fn terminate(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let start = Instant::now();
    while child.try_wait().ok().flatten().is_none() && start.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Session {
    fn drop(&mut self) {
        while let Some((_, child)) = self.procs.pop() {
            terminate(child);
        }
    }
}

#[derive(Debug, Clone)]
struct Field {
    role: String,
    name: String,
    centre: (i32, i32),
    text: Option<String>,
}

fn field<'a>(fields: &'a [Field], name: &str) -> &'a Field {
    fields
        .iter()
        .find(|f| f.name == name && f.role != "label")
        .unwrap_or_else(|| panic!("no field {name:?} in {fields:?}"))
}

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

fn start_gtk(s: &mut Session, out: &Path, geometry: &str, extra: &[&str]) -> u32 {
    let mut app = s.cmd(PYTHON);
    app.arg(format!("{APPS}/form.py"))
        .arg("--out")
        .arg(out)
        .args(["--geometry", geometry])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    s.spawn("form.py", app)
}

#[test]
fn gtk_form_record_mine_bots_and_replay_that_proves_the_outcome() {
    let started = Instant::now();
    let mut s = Session::start();
    let title = "Customer form";
    let out = s.home().join("saved.txt");
    let app = start_gtk(&mut s, &out, "420x260+40+40", &[]);
    let db = s.home().join("user.db");
    let recorded = perform_routine(&s, title, "Save", &db);
    let saved = saved_lines(&out);
    let expected: Vec<String> = PEOPLE.iter().map(|p| p.join("|")).collect();
    assert_eq!(saved, expected, "the user's own runs saved every record");
    let with_element = recorded
        .iter()
        .filter(|e| matches!(e.kind, uilog::EventKind::Click | uilog::EventKind::Type))
        .filter(|e| e.element.as_ref().is_some_and(|el| !el.is_empty()))
        .count();
    eprintln!(
        "gtk: {} events recorded, {with_element} clicks and typed runs with an element, user {:.0} s",
        recorded.len(),
        started.elapsed().as_secs_f64()
    );

    let (bot_path, bot) = mine_and_draft(&s, &db, "Save");

    // The window moved and grew by 200 px, and a field sits above First name now.
    s.stop(app);
    let out2 = s.home().join("saved-2.txt");
    let app = start_gtk(&mut s, &out2, "620x460+240+240", &["--extra"]);
    s.form(title, &["Company", "First name"]);
    let params = params_file(&s, &bot, &NEW, "new.csv");
    let (passed, log, report) = replay(&s, &bot_path, &params, "replay.json");
    assert_passed(passed, &log, &report, &NEW);
    let expected: Vec<String> = NEW.iter().map(|p| p.join("|")).collect();
    assert_eq!(
        saved_lines(&out2),
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
    let fields = s.probe(title);
    for f in fields.iter().filter(|f| f.role == "text") {
        assert_eq!(
            f.text.as_deref(),
            Some(""),
            "nothing was typed anywhere: {fields:?}"
        );
    }
    assert_eq!(saved_lines(&out2).len(), 2, "nothing was saved");

    // The app moves the focus from First name to Last name: the typing lands in the wrong
    // field, which the replay must report as failed.
    s.stop(app);
    let out3 = s.home().join("saved-3.txt");
    start_gtk(&mut s, &out3, "420x260+40+40", &["--steal"]);
    s.form(title, &["First name"]);
    let (passed, log, report) = replay(&s, &bot_path, &one, "steal.json");
    assert_failed(passed, &log, &report, "type", "First name");
    eprintln!("gtk: done in {:.0} s", started.elapsed().as_secs_f64());
}
