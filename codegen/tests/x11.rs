//! Bots against a real X desktop (Xvfb, openbox, xterm), driven with enigo: a scripted user
//! performs a routine, the recorder records it, the miner finds it, a bot is drafted and replayed
//! with new values, and the replay is recorded and validated. The desktop comes from the
//! recorder's test support.

#[path = "../../recorder/tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use codegen::bot::{Action, Bot, Params, PostCondition, Step, WindowMatch, API_VERSION};
use codegen::render::{write_draft, Format, Renderer};
use codegen::replay::{replay_all, run, Desktop as ReplayDesktop, ReplayOptions};
use codegen::validate::TraceRecorder;
use enigo::Key;
use support::Desktop;

const RECORD_DB: &str = "CODEGEN_TEST_RECORD_DB";
const RECORD_POLICY: &str = "CODEGEN_TEST_RECORD_POLICY";

/// The recorder process of the other tests: this test binary started again with `--ignored
/// --exact recorder_child`, recording until SIGTERM. Capture runs in a process of its own because
/// the input listener lives as long as its process.
#[test]
#[ignore = "runs only as the recorder child of the other tests"]
fn recorder_child() {
    use recorder::capture::{record, Controls, RecordConfig};
    let db = std::env::var(RECORD_DB).expect("started by a test with the database in the env");
    let config = RecordConfig {
        db: db.into(),
        policy: std::env::var(RECORD_POLICY).ok().map(PathBuf::from),
        session: Some("test".into()),
    };
    let controls = Controls::from_signals().expect("signal handlers");
    record(&config, &controls, |_| {}).expect("recording works");
}

/// Starts the recorder (plain text mode, so typed values are kept as samples) on `desk`.
fn start_recorder(desk: &Desktop, dir: &Path, name: &str) -> TraceRecorder {
    let policy = dir.join(format!("{name}-policy.yaml"));
    std::fs::write(&policy, "text: plain\n").unwrap();
    let db = dir.join(format!("{name}.db"));
    let mut cmd = desk.cmd(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "recorder_child",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(RECORD_DB, &db)
    .env(RECORD_POLICY, &policy)
    .env("HOME", dir)
    .env("XDG_CONFIG_HOME", dir.join(".config"));
    TraceRecorder::start(cmd, &db).expect("the recorder starts")
}

fn window(app: &str, title: &str) -> WindowMatch {
    WindowMatch {
        app: app.into(),
        title: title.into(),
    }
}

#[test]
fn a_bot_whose_window_is_missing_fails_at_the_first_step_and_types_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start();
    let typed = dir.path().join("typed.txt");
    let id = desk.witness("witness", "60x10+20+20", &typed);
    desk.activate(&id);

    let mut focus = Step::new(Action::FocusWindow, window("xterm", "^no such window$"));
    focus.timeout_ms = 800;
    let mut ty = Step::new(Action::Type, window("xterm", "^no such window$"));
    ty.text = Some("SECRET".into());
    let mut enter = Step::new(Action::Key, window("xterm", "^no such window$"));
    enter.keys = Some("enter".into());
    let bot = Bot {
        api_version: API_VERSION.into(),
        name: "missing".into(),
        description: String::new(),
        source: codegen::bot::Source {
            routine: 1,
            evidence: codegen::bot::Evidence {
                instances: 5,
                users: 1,
                standardization: 1.0,
                hours_per_month: 1.0,
                median_duration_s: 3.0,
            },
            variant: vec![],
        },
        inputs: vec![],
        steps: vec![focus, ty, enter],
        postconditions: vec![],
    };
    bot.check().unwrap();
    let mut replay = ReplayDesktop::connect(Some(&desk.display)).unwrap();
    let out = run(
        &mut replay,
        &bot,
        0,
        &Params::new(),
        &ReplayOptions::default(),
    )
    .unwrap();
    let failure = out.failure.expect("the run fails");
    assert_eq!(
        (failure.step, failure.action, out.steps_done),
        (1, "focus_window", 0)
    );
    let msg = failure.to_string();
    assert!(
        msg.contains(
            "step 1 (focus_window): no xterm window with a title matching /^no such window$/"
        ) && msg.contains("focused: xterm \"witness\""),
        "{msg}"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        std::fs::read_to_string(&typed).unwrap(),
        "",
        "nothing was typed"
    );
    // The witness does see typing: the empty file above is not for want of a listener.
    desk.type_text("ok");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(std::fs::read_to_string(&typed).unwrap(), "ok");
}

#[test]
fn record_mine_draft_replay_and_validate_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let mut desk = Desktop::start();
    desk.xterm("ledger", "60x10+20+20", &[]);
    desk.xterm("notes", "40x8+700+20", &[]);
    let sh = desk.shell("shell", "80x15+20+300", &work);
    desk.activate(&sh);

    // The scripted user: look the number up in the ledger, then write it to a file from the
    // shell; six times, with different numbers and pauses, and a detour to the notes once.
    let numbers = ["4711", "815", "1234", "99", "5150", "2020"];
    let mut rec = start_recorder(&desk, dir.path(), "user");
    for (i, n) in numbers.iter().enumerate() {
        desk.click(150, 80);
        std::thread::sleep(Duration::from_millis(100 + 150 * (i as u64 % 3)));
        if i == 2 {
            desk.click(800, 60);
        }
        desk.click(150, 380);
        desk.type_text(&format!("echo {n} > out-{n}.txt"));
        desk.key(Key::Return);
        std::thread::sleep(Duration::from_millis(2_600 + 300 * (i as u64 % 2)));
    }
    let recorded = rec.stop().unwrap();
    for n in numbers {
        let got = std::fs::read_to_string(work.join(format!("out-{n}.txt"))).unwrap_or_default();
        assert_eq!(got.trim(), n, "the user's own run wrote its file");
    }
    assert!(
        recorded.len() >= 6 * 6,
        "{} events recorded",
        recorded.len()
    );

    // Mine: pauses of 2.6 s or more end a task here (the default learns ten times the median
    // pause, at least 10 s, which suits a day of work rather than a one-minute test).
    let store = uilog::Store::open(&rec.db).unwrap();
    let mut opts = miner::Options::default();
    opts.segment.idle_gap_secs = Some(2.0);
    let (log, mining) = miner::mine(&store, &opts, &mut miner::NoProgress).unwrap();
    let top = mining.routines.first().expect("a routine is found");
    assert!(
        top.labels
            .iter()
            .any(|l| l.starts_with("type xterm \"shell\""))
            && top
                .labels
                .iter()
                .any(|l| l.starts_with("click xterm \"ledger\"")),
        "the top candidate is the routine: {:#?}",
        top.labels
    );
    assert!(top.score.instances >= 5, "{:?}", top.score);

    let drafts = codegen::draft_bots(&store, &log, &mining, 1).unwrap();
    let draft = &drafts[0];
    let out = dir.path().join("bots");
    let files = write_draft(
        draft,
        &out.join(&draft.bot.name),
        &[Format::Yaml, Format::Robot, Format::Python],
        &Renderer::new(None).unwrap(),
    )
    .unwrap();
    assert_eq!(files.len(), 4, "{files:?}");
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/bot.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let yaml: serde_json::Value = serde_norway::from_str(&draft.bot.to_yaml().unwrap()).unwrap();
    assert!(
        jsonschema::validator_for(&schema).unwrap().is_valid(&yaml),
        "the drafted bot fits the schema"
    );
    let bot_path = out.join(&draft.bot.name).join("bot.yaml");
    let mut bot = Bot::load(&bot_path).unwrap();
    let type_step = bot.steps.iter().find(|s| s.action == Action::Type).unwrap();
    assert_eq!(
        type_step.text.as_deref(),
        Some("echo {{ value_1 }} > out-{{ value_1 }}.txt"),
        "{}",
        bot.to_yaml().unwrap()
    );
    assert!(
        bot.inputs[0].samples.contains(&"4711".to_owned()),
        "{:?}",
        bot.inputs
    );

    // The developer declares what the bot must produce.
    bot.postconditions.push(PostCondition::File {
        path: format!("{}/out-{{{{ value_1 }}}}.txt", work.display()),
        content: Some("{{ value_1 }}".into()),
        timeout_ms: 3_000,
    });
    std::fs::write(&bot_path, bot.to_yaml().unwrap()).unwrap();
    let bot = Bot::load(&bot_path).unwrap();
    let params = dir.path().join("params.csv");
    std::fs::write(&params, "value_1\n31337\n2718\n").unwrap();
    let rows = codegen::params::read(&params, &bot).unwrap();

    let trace = start_recorder(&desk, dir.path(), "replay");
    let mut replay = ReplayDesktop::connect(Some(&desk.display)).unwrap();
    let report = replay_all(
        &mut replay,
        &bot,
        &rows,
        &ReplayOptions::default(),
        Some(trace),
    )
    .unwrap();
    let lines: Vec<String> = report.runs.iter().map(|r| r.verdict_line()).collect();
    for n in ["31337", "2718"] {
        let got = std::fs::read_to_string(work.join(format!("out-{n}.txt")))
            .unwrap_or_else(|e| panic!("out-{n}.txt: {e}\n{lines:#?}"));
        assert_eq!(got.trim(), n);
    }
    let trace: Vec<String> = uilog::Store::open(dir.path().join("replay.db"))
        .and_then(|s| s.events())
        .unwrap_or_default()
        .iter()
        .map(|e| {
            let keys = e.attrs.get("keys").map_or("", String::as_str);
            let text = e.text.as_deref().unwrap_or("");
            format!(
                "{} {} {} {:?} {text:?} {keys}",
                e.ts, e.kind, e.app, e.window
            )
        })
        .collect();
    assert!(
        report.passed,
        "{lines:#?}\nrecorded replay:\n{}\n{}",
        trace.join("\n"),
        serde_json::to_string_pretty(&report).unwrap()
    );
    assert_eq!(report.runs.len(), 2);
    for r in &report.runs {
        let t = r.trace.as_ref().expect("the replay was recorded");
        assert!(t.matched && t.compared >= 4, "{t:?}");
        assert_eq!(r.steps_done, bot.steps.len());
    }
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["passed"], true);

    // The same bot rendered as scripts, run for real where their tools are installed (pyautogui
    // and Robot Framework come from PyPI); each must write its own file.
    let scripts = dir.path().join("scripts");
    write_draft(
        &codegen::Draft {
            bot: bot.clone(),
            rows: vec![],
        },
        &scripts,
        &[Format::Robot, Format::Python],
        &Renderer::new(None).unwrap(),
    )
    .unwrap();
    let xauth = dir.path().join("xauthority");
    std::fs::write(&xauth, "").unwrap();
    let has = |program: &str, args: &[&str]| {
        desk.cmd(program)
            .args(args)
            .env("XAUTHORITY", &xauth)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let py = scripts.join("bot.py");
    let ok = Command::new("python3")
        .args(["-c", "import ast,sys; ast.parse(open(sys.argv[1]).read())"])
        .arg(&py)
        .status()
        .unwrap();
    assert!(ok.success());
    if has("python3", &["-c", "import pyautogui"]) {
        let csv = dir.path().join("py.csv");
        std::fs::write(&csv, "value_1\n4242\n").unwrap();
        let out = desk
            .cmd("python3")
            .arg(&py)
            .arg(&csv)
            .env("XAUTHORITY", &xauth)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && log.contains("run 1: pass"),
            "bot.py: {log}"
        );
        assert_eq!(
            std::fs::read_to_string(work.join("out-4242.txt"))
                .unwrap()
                .trim(),
            "4242"
        );
    } else {
        eprintln!("pyautogui is not installed: bot.py was parsed, not run");
    }
    // `robot --version` exits with 251 (its code for "printed help or version").
    let robot = Command::new("robot").arg("--version").output();
    if robot.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("Robot Framework")) {
        let out = desk
            .cmd("robot")
            .args([
                "--variable",
                "value_1:5353",
                "--output",
                "NONE",
                "--report",
                "NONE",
                "--log",
                "NONE",
            ])
            .arg(scripts.join("bot.robot"))
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "bot.robot: {log}");
        assert_eq!(
            std::fs::read_to_string(work.join("out-5353.txt"))
                .unwrap()
                .trim(),
            "5353"
        );
    } else {
        eprintln!("Robot Framework is not installed: bot.robot was not run");
    }
}
