//! Replay by what the screen shows, on a Tk form (Tk exposes no accessibility tree): a scripted
//! user fills the form while the recorder takes snapshots, the OCR pass names the targets, the
//! miner finds the routine and a bot is drafted with target texts and images. The bot then runs
//! 20 times with new values, the window moved before each run, and every run's record must be
//! the one the app saved; a form whose Save button is renamed halts the bot before it types; a
//! target without readable text (a drawn star) is found by its image.
//!
//! The figures it prints: the share of targets found by text, false passes, step times.

#[path = "../../recorder/tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use codegen::bot::{Action, Bot, Params, Step, Target};
use codegen::replay::{run, Desktop as ReplayDesktop, ReplayOptions};
use codegen::validate::TraceRecorder;
use support::Desktop;

const RECORD_DB: &str = "CODEGEN_VISION_RECORD_DB";
const RECORD_POLICY: &str = "CODEGEN_VISION_RECORD_POLICY";
const TITLE: &str = "Vision form";

/// The recorder process of the test: this test binary started again with `--ignored --exact
/// recorder_child`, recording until SIGTERM (the input listener lives as long as its process).
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

fn start_recorder(desk: &Desktop, dir: &Path, policy: &str) -> TraceRecorder {
    let policy_file = dir.join("policy.yaml");
    std::fs::write(&policy_file, policy).unwrap();
    let db = dir.join("user.db");
    let mut cmd = desk.cmd(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "recorder_child",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(RECORD_DB, &db)
    .env(RECORD_POLICY, &policy_file)
    .env("HOME", dir)
    .env("XDG_CONFIG_HOME", dir.join(".config"));
    TraceRecorder::start(cmd, &db).expect("the recorder starts")
}

type Geometry = serde_json::Map<String, serde_json::Value>;

/// Starts the vision form and returns its window id and its widgets' screen boxes.
fn start_form(desk: &mut Desktop, dir: &Path, out: &Path, extra: &[&str]) -> (String, Geometry) {
    let python = "/usr/bin/python3";
    let ok = std::process::Command::new(python)
        .args(["-c", "import tkinter"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{python} has no tkinter: apt-get install python3-tk (scripts/setup.sh)"
    );
    assert!(
        recorder::snapshot_ocr::available(),
        "tesseract is missing: apt-get install tesseract-ocr tesseract-ocr-eng (scripts/setup.sh)"
    );
    let geometry = dir.join("geometry.json");
    let _ = std::fs::remove_file(&geometry);
    let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/apps/tkvision.py");
    let mut args = vec![
        app.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--geometry",
        geometry.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    desk.spawn(python, &args);
    let id = desk.window(TITLE);
    desk.activate(&id);
    let start = Instant::now();
    while !geometry.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the form wrote no geometry"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let geo = serde_json::from_str(&std::fs::read_to_string(&geometry).unwrap()).unwrap();
    (id, geo)
}

fn centre(geo: &Geometry, name: &str) -> (i32, i32) {
    let v: Vec<i32> = geo[name]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_i64().unwrap() as i32)
        .collect();
    (v[0] + v[2] / 2, v[1] + v[3] / 2)
}

/// The records the form saved, one JSON object a line.
fn saved(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Waits until the form has saved `n` records (a click is handled a moment after it arrives).
fn wait_saved(out: &Path, n: usize) -> Vec<serde_json::Value> {
    let start = Instant::now();
    loop {
        let s = saved(out);
        if s.len() >= n || start.elapsed() > Duration::from_secs(3) {
            return s;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn record(first: &str, last: &str, starred: bool) -> serde_json::Value {
    serde_json::json!({ "first": first, "last": last, "starred": starred })
}

#[test]
fn a_bot_finds_its_targets_by_text_after_the_window_moved_and_halts_when_the_text_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("saved.jsonl");
    let mut desk = Desktop::start();
    let (id, geo) = start_form(&mut desk, dir.path(), &out, &["--at", "+40+60"]);

    // The user: four records, a pause between them; at the end one click on the star.
    let names = [
        ("Ada", "Lovelace"),
        ("Alan", "Turing"),
        ("Grace", "Hopper"),
        ("Edsger", "Dijkstra"),
    ];
    let mut rec = start_recorder(&desk, dir.path(), "screenshots: on\ntext: plain\n");
    for (first, last) in names {
        let (x, y) = centre(&geo, "first");
        desk.click(x, y);
        desk.type_text(first);
        let (x, y) = centre(&geo, "last");
        desk.click(x, y);
        desk.type_text(last);
        let (x, y) = centre(&geo, "save");
        desk.click(x, y);
        std::thread::sleep(Duration::from_millis(2_200));
    }
    let (x, y) = centre(&geo, "star");
    desk.click(x, y);
    // Clear takes the star back: the form is as new for the bot.
    let (x, y) = centre(&geo, "clear");
    desk.click(x, y);
    std::thread::sleep(Duration::from_millis(600));
    rec.stop().unwrap();
    let user: Vec<serde_json::Value> = names.iter().map(|(f, l)| record(f, l, false)).collect();
    assert_eq!(wait_saved(&out, 4), user, "the user's own records");

    // After capture: OCR names the targets, so that the miner tells the clicks apart.
    let db = dir.path().join("user.db");
    let mut store = uilog::Store::open(&db).unwrap();
    let policy = recorder::Policy::parse("text: plain\n", Path::new("policy.yaml")).unwrap();
    let privacy = recorder::Privacy::new(policy, &[7; 32]).unwrap();
    let summary = recorder::snapshot_ocr::ocr_pass(&mut store, &privacy).unwrap();
    let events = store.events().unwrap();
    let targets: Vec<&uilog::Event> = events
        .iter()
        .filter(|e| matches!(e.kind, uilog::EventKind::Click | uilog::EventKind::Type))
        .collect();
    let named: Vec<String> = targets
        .iter()
        .map(|e| {
            e.element
                .as_ref()
                .and_then(|el| el.name.clone())
                .unwrap_or_default()
        })
        .collect();
    eprintln!("OCR pass: {summary:?}; targets named: {named:?}");
    assert_eq!(targets.len(), 4 * 5 + 2, "{named:?}");

    let mut opts = miner::Options::default();
    opts.segment.idle_gap_secs = Some(1.5);
    let (log, mining) = miner::mine(&store, &opts, &mut miner::NoProgress).unwrap();
    let drafts = codegen::draft_bots(&store, &log, &mining, 1).unwrap();
    let labels: Vec<&Vec<String>> = mining.routines.iter().map(|r| &r.labels).collect();
    let mut bot = drafts
        .first()
        .unwrap_or_else(|| panic!("no routine drafted: {labels:#?}\n{:#?}", mining.summary))
        .bot
        .clone();
    let yaml = bot.to_yaml().unwrap();
    let texts: Vec<Option<&str>> = bot
        .steps
        .iter()
        .filter(|s| s.action == Action::Click)
        .map(|s| s.target.as_ref().and_then(|t| t.text.as_deref()))
        .collect();
    assert_eq!(
        texts,
        vec![Some("First name"), Some("Last name"), Some("Save")],
        "{}",
        brief(&yaml)
    );
    for s in bot.steps.iter().filter(|s| s.action == Action::Click) {
        assert!(
            s.selector.is_none() && s.fallback.is_none(),
            "{}",
            brief(&yaml)
        );
        let image = s.target.as_ref().and_then(|t| t.image.as_deref()).unwrap();
        assert!(image.starts_with("data:image/png;base64,"));
    }
    // The file round-trips, the schema takes it.
    let bot_path = dir.path().join("bot.yaml");
    std::fs::write(&bot_path, &yaml).unwrap();
    assert_eq!(Bot::load(&bot_path).unwrap(), bot);
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/bot.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let as_json: serde_json::Value = serde_norway::from_str(&yaml).unwrap();
    assert!(jsonschema::validator_for(&schema)
        .unwrap()
        .is_valid(&as_json));
    let inputs = bot.input_names().join(",");
    assert_eq!(inputs, "first_name,last_name", "{}", brief(&yaml));
    bot.description.clear();

    // 20 runs with new values, the window somewhere else before each.
    let mut replay = ReplayDesktop::connect(Some(&desk.display)).unwrap();
    let places = [(300, 400), (620, 90), (10, 600), (500, 520), (200, 250)];
    let (mut by_text, mut by_image, mut looked) = (0, 0, 0);
    let (mut typed, mut read_back) = (0, 0);
    let mut false_passes = 0;
    let mut step_ms: Vec<f64> = Vec::new();
    let t0 = Instant::now();
    for i in 0..20 {
        let (x, y) = places[i % places.len()];
        desk.xdotool(&["windowmove", "--sync", &id, &x.to_string(), &y.to_string()]);
        let first = format!("Mira{i}");
        let last = format!("Quist{}", 100 + i * 7);
        let mut row = Params::new();
        row.insert("first_name".into(), first.clone());
        row.insert("last_name".into(), last.clone());
        let before = saved(&out).len();
        let o = run(&mut replay, &bot, i, &row, &ReplayOptions::default()).unwrap();
        let got = wait_saved(&out, before + 1);
        let lines: Vec<String> = o.checks.iter().map(|c| c.line()).collect();
        let right = got.len() == before + 1 && got[before] == record(&first, &last, false);
        if o.failure.is_none() && !right {
            false_passes += 1;
        }
        assert!(
            o.failure.is_none() && right,
            "run {i} at ({x}, {y}): {:?}\n{lines:#?}\nsaved: {:?}",
            o.failure.map(|f| f.to_string()),
            &got[before..]
        );
        for c in &o.checks {
            match c.found_by {
                Some("text") => by_text += 1,
                Some("image") => by_image += 1,
                _ => {}
            }
            looked += usize::from(matches!(c.found_by, Some("text" | "image")));
            if c.action == "type" {
                typed += 1;
                read_back += usize::from(c.verified);
                // A value read back is the row's value, never another.
                if let Some(r) = &c.read_back {
                    assert!(r == &first || r == &last, "{lines:#?}");
                }
            }
        }
        step_ms.extend(&o.step_ms);
        if i == 0 {
            eprintln!("run 0:\n{}", lines.join("\n"));
        }
    }
    let elapsed = t0.elapsed();
    step_ms.sort_by(f64::total_cmp);
    eprintln!(
        "20 runs in {elapsed:?}: {by_text} of {looked} targets found by text ({:.1} %), {by_image} by image, \
         {false_passes} false passes; {read_back} of {typed} typed values read back by OCR; \
         step time median {:.0} ms, max {:.0} ms",
        100.0 * by_text as f64 / looked.max(1) as f64,
        step_ms[step_ms.len() / 2],
        step_ms.last().unwrap()
    );
    assert_eq!(looked, 20 * 3);
    assert!(
        by_text * 100 >= looked * 95,
        "{by_text} of {looked} by text"
    );
    assert_eq!(false_passes, 0);

    // The form again, its Save button renamed: the bot halts before it types anything.
    desk.xdotool(&["windowkill", &id]);
    let renamed_out = dir.path().join("renamed.jsonl");
    let (rid, rgeo) = start_form(
        &mut desk,
        dir.path(),
        &renamed_out,
        &["--save-label", "Store", "--at", "+260+200"],
    );
    let mut row = Params::new();
    row.insert("first_name".into(), "Nobody".into());
    row.insert("last_name".into(), "Nowhere".into());
    let o = run(&mut replay, &bot, 0, &row, &ReplayOptions::default()).unwrap();
    let failure = o.failure.expect("the run halts").to_string();
    assert!(
        failure.contains("cannot run, so nothing was done")
            && failure.contains("text \"Save\" is not in the window")
            && failure.contains("Store"),
        "{failure}"
    );
    assert_eq!(o.steps_done, 1, "only the focus step ran: {failure}");
    // Nothing typed: Store saves what the fields hold, and they are empty.
    let (x, y) = centre(&rgeo, "save");
    desk.click(x, y);
    assert_eq!(wait_saved(&renamed_out, 1), vec![record("", "", false)]);

    // A target without readable text, found by its image: the star, from the user's snapshot.
    let star = events
        .iter()
        .zip(event_ids(&store))
        .filter(|(e, _)| e.kind == uilog::EventKind::Click)
        .nth_back(1)
        .map(|(_, id)| id)
        .unwrap();
    let snap = store
        .snapshot(star)
        .unwrap()
        .expect("the star click's snapshot");
    let mut image_bot = bot.clone();
    let save = image_bot
        .steps
        .iter()
        .rposition(|s| s.action == Action::Click)
        .unwrap();
    let mut click = Step::new(Action::Click, image_bot.steps[save].window.clone());
    click.target = Some(Target {
        image: Some(codegen::vision::to_data_uri(&snap.png)),
        ..Target::default()
    });
    image_bot.steps.insert(save, click);
    image_bot.check().unwrap();
    desk.xdotool(&["windowkill", &rid]);
    let (id, _) = start_form(&mut desk, dir.path(), &out, &["--at", "+400+330"]);
    let before = saved(&out).len();
    let mut row = Params::new();
    row.insert("first_name".into(), "Stella".into());
    row.insert("last_name".into(), "Marsh".into());
    let o = run(&mut replay, &image_bot, 0, &row, &ReplayOptions::default()).unwrap();
    let lines: Vec<String> = o.checks.iter().map(|c| c.line()).collect();
    assert!(o.failure.is_none(), "{:?}\n{lines:#?}", o.failure);
    let found: Vec<Option<&str>> = o.checks.iter().map(|c| c.found_by).collect();
    assert!(
        found.contains(&Some("image")) && found.contains(&Some("text")),
        "{lines:#?}"
    );
    let got = wait_saved(&out, before + 1);
    assert_eq!(
        got[before..],
        [record("Stella", "Marsh", true)],
        "{lines:#?}"
    );
    eprintln!(
        "image step: {}",
        lines.iter().find(|l| l.contains("found by image")).unwrap()
    );
    desk.xdotool(&["windowkill", &id]);
}

/// The bot without its images, for messages.
fn brief(yaml: &str) -> String {
    yaml.lines()
        .map(|l| match l.find("data:image/png;base64,") {
            Some(i) => format!("{}…", &l[..i + 30]),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Event ids in the order `Store::events` returns events.
fn event_ids(store: &uilog::Store) -> Vec<i64> {
    let mut ids = Vec::new();
    store
        .scan(|row| -> uilog::Result<()> {
            ids.push(row.id);
            Ok(())
        })
        .unwrap();
    ids
}
