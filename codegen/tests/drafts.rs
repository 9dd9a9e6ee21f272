//! Drafting bots from a small hand-made log, the JSON Schema, and the rendered scripts checked with
//! the real tools (python3's parser, `robot --dryrun` where Robot Framework is installed).

use std::path::Path;
use std::process::Command;

use codegen::bot::{Action, Bot, InputType};
use codegen::render::{Format, Renderer};
use uilog::{Element, Event, EventKind, Store};

const MIN: i64 = 60_000_000;

fn ev(ts: i64, kind: EventKind, app: &str, window: &str) -> Event {
    let mut e = Event::new("s1", "alice", ts, kind);
    e.app = app.into();
    e.window = window.into();
    e
}

/// Six performances of "focus the terminal, click its field, type a command with the invoice
/// number, press enter", with different numbers and pauses, a noise action in one of them, and
/// unrelated work in between.
fn hand_made_log(plain: bool) -> Store {
    let mut store = Store::open_in_memory().unwrap();
    let mut events = Vec::new();
    let numbers = ["4711", "815", "1234", "99", "5150", "2020"];
    for (i, n) in numbers.iter().enumerate() {
        let t0 = i as i64 * 20 * MIN;
        let pause = (i as i64 % 3 + 1) * 700_000;
        events.push(ev(t0, EventKind::Focus, "xterm", "target"));
        let mut click = ev(t0 + pause, EventKind::Click, "xterm", "target");
        (click.wx, click.wy) = (Some(40 + i as i32 % 2), Some(30));
        click.element = Some(Element {
            role: Some("terminal".into()),
            ..Element::default()
        });
        events.push(click);
        if i == 2 {
            let mut noise = ev(t0 + pause + 300_000, EventKind::Scroll, "xterm", "target");
            noise.attrs.insert("dy".into(), "1".into());
            events.push(noise);
        }
        let mut ty = ev(t0 + 2 * pause, EventKind::Type, "xterm", "target");
        let text = format!("echo {n} > out-{n}.txt");
        ty.value_hash = Some(uilog::ValueHash::keyed(&[7; 32], &text));
        ty.text = plain.then_some(text);
        events.push(ty);
        let mut enter = ev(t0 + 3 * pause, EventKind::Shortcut, "xterm", "target");
        enter.attrs.insert("keys".into(), "enter".into());
        events.push(enter);
        // Other work, far enough from the routine to be a segment of its own.
        let mut other = ev(
            t0 + 8 * MIN,
            EventKind::Click,
            "firefox",
            &format!("News {i}"),
        );
        (other.wx, other.wy) = (Some(5 * i as i32), Some(9));
        events.push(other);
    }
    store
        .write_batch(None, "hand-made", |sink| -> uilog::Result<()> {
            events.iter().try_for_each(|e| sink.push(e))
        })
        .unwrap();
    store
}

fn drafts(plain: bool) -> Vec<codegen::Draft> {
    let store = hand_made_log(plain);
    let (log, mining) =
        miner::mine(&store, &miner::Options::default(), &mut miner::NoProgress).unwrap();
    assert!(!mining.routines.is_empty(), "the miner finds the routine");
    codegen::draft_bots(&store, &log, &mining, 3).unwrap()
}

fn schema() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/bot.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid(bot: &Bot) {
    let yaml = bot.to_yaml().unwrap();
    let value: serde_json::Value = serde_norway::from_str(&yaml).unwrap();
    let v = schema();
    let errors: Vec<String> = v
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{yaml}");
}

#[test]
fn the_routine_becomes_a_bot_with_the_number_as_input() {
    let d = drafts(true);
    let draft = &d[0];
    let bot = &draft.bot;
    let actions: Vec<Action> = bot.steps.iter().map(|s| s.action).collect();
    assert_eq!(
        actions,
        [
            Action::FocusWindow,
            Action::Click,
            Action::Type,
            Action::Key
        ],
        "{}",
        bot.to_yaml().unwrap()
    );
    assert_eq!(bot.steps[0].window.title, "^target$");
    assert_eq!(bot.steps[0].window.app, "xterm");
    assert_eq!(
        bot.steps[2].text.as_deref(),
        Some("echo {{ value_1 }} > out-{{ value_1 }}.txt")
    );
    assert_eq!(bot.steps[3].keys.as_deref(), Some("enter"));
    assert_eq!(
        (bot.steps[1].x, bot.steps[1].y),
        (Some(41), Some(30)),
        "median position"
    );
    assert_eq!(
        (bot.steps[1].selector.as_ref(), bot.steps[1].fallback),
        (None, Some(codegen::bot::Fallback::Position)),
        "a role alone tells no element apart: the click is by position, and the file says so"
    );
    assert_eq!(bot.inputs.len(), 1);
    assert_eq!(bot.inputs[0].kind, InputType::Number);
    assert!(
        bot.inputs[0].samples.contains(&"4711".to_owned()),
        "{:?}",
        bot.inputs[0]
    );
    assert_eq!(bot.source.evidence.instances, 6);
    assert_eq!(bot.source.variant.len(), 4);
    assert_eq!(draft.rows.len(), 6, "one parameter row per instance");
    assert!(draft.rows.iter().any(|r| r["value_1"] == "99"));
    for d in &d {
        assert_valid(&d.bot);
    }
}

#[test]
fn hashed_text_gives_placeholders_not_values() {
    let d = drafts(false);
    let bot = &d[0].bot;
    assert_eq!(bot.steps[2].text.as_deref(), Some("{{ value_1 }}"));
    assert!(bot.inputs[0].samples.is_empty());
    assert!(bot.inputs[0].required);
    assert_eq!(
        bot.sample_params()["value_1"],
        "",
        "no made-up value to type"
    );
    assert!(d[0].rows.iter().all(|r| r["value_1"].is_empty()));
    assert_valid(bot);
}

/// Twelve performances of a form: click First name, type, click E-mail, type, click Save. The
/// elements are as the AT-SPI recorder captures them; the e-mail was replaced by the policy's PII
/// tag, and the app is Chromium's WM_CLASS instance with a profile path in it.
fn form_log(extra_field_from: usize) -> Store {
    let mut store = Store::open_in_memory().unwrap();
    let mut events = Vec::new();
    let app = "chromium (/home/ann/.config/chromium-profile)";
    let title = "Customer form - Chromium";
    let el = |role: &str, name: &str, index: usize| {
        Element {
        role: Some(role.into()),
        name: Some(name.into()),
        id: None,
        path: Some(format!(
            "frame '{title}' / document web 'Customer form'[0] / section[1] / {role} '{name}'[{index}]"
        )),
    }
    };
    let names = [
        "Ann", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ida", "Jo", "Kai", "Lu",
    ];
    for (i, n) in names.iter().enumerate() {
        // From some instance on, a field above First name shifts every index by one.
        let shift = usize::from(i >= extra_field_from);
        let t0 = i as i64 * 20 * MIN;
        let step = 900_000;
        let mut c1 = ev(t0, EventKind::Click, app, title);
        (c1.wx, c1.wy) = (Some(100), Some(200 + 10 * i as i32));
        c1.element = Some(el("entry", "First name", 1 + shift));
        let mut t1 = ev(t0 + step, EventKind::Type, app, title);
        t1.text = Some((*n).into());
        t1.element = c1.element.clone();
        let mut c2 = ev(t0 + 2 * step, EventKind::Click, app, title);
        (c2.wx, c2.wy) = (Some(100), Some(260));
        c2.element = Some(el("entry", "E-mail", 3 + shift));
        let mut t2 = ev(t0 + 3 * step, EventKind::Type, app, title);
        t2.text = Some("<email>".into());
        t2.element = c2.element.clone();
        let mut save = ev(t0 + 4 * step, EventKind::Click, app, title);
        (save.wx, save.wy) = (Some(100), Some(300));
        save.element = Some(el("push button", "Save", 4 + shift));
        events.extend([c1, t1, c2, t2, save]);
        let mut other = ev(
            t0 + 8 * MIN,
            EventKind::Click,
            "xterm",
            &format!("News {i}"),
        );
        (other.wx, other.wy) = (Some(5 * i as i32), Some(9));
        events.push(other);
    }
    store
        .write_batch(None, "form", |sink| -> uilog::Result<()> {
            events.iter().try_for_each(|e| sink.push(e))
        })
        .unwrap();
    store
}

#[test]
fn form_steps_get_selectors_inputs_named_after_fields_and_masked_values_stay_required() {
    let store = form_log(6);
    let (log, mining) =
        miner::mine(&store, &miner::Options::default(), &mut miner::NoProgress).unwrap();
    let drafts = codegen::draft_bots(&store, &log, &mining, 1).unwrap();
    let d = &drafts[0];
    let bot = &d.bot;
    let yaml = bot.to_yaml().unwrap();
    // Named after the routine as the miner names it, in file-name-safe words: no profile path.
    let i = mining
        .routines
        .iter()
        .position(|r| r.id == bot.source.routine)
        .unwrap();
    let routine_name = &miner::naming::routine_names(&mining)[i];
    assert_eq!(
        bot.name,
        codegen::bot_name(bot.source.routine, routine_name),
        "{yaml}"
    );
    assert!(
        bot.name
            .starts_with(&format!("routine-{}-", bot.source.routine))
            && bot.name.contains("customer-form")
            && !bot.name.contains("config"),
        "{yaml}"
    );
    assert!(bot.description.starts_with(routine_name.as_str()), "{yaml}");
    let names = bot.input_names();
    assert_eq!(names, ["first_name", "e_mail"], "{yaml}");
    assert!(!bot.inputs[0].required && bot.inputs[0].samples.contains(&"Ann".to_owned()));
    assert!(
        bot.inputs[1].required && bot.inputs[1].samples.is_empty(),
        "{yaml}"
    );
    assert!(
        d.rows.iter().all(|r| r["e_mail"].is_empty()),
        "the masked sample is no value: {:?}",
        d.rows
    );
    let clicks: Vec<&codegen::bot::Step> = bot
        .steps
        .iter()
        .filter(|s| s.action == Action::Click)
        .collect();
    assert_eq!(clicks.len(), 3, "{yaml}");
    for c in &clicks {
        assert!(
            c.fallback.is_none(),
            "no position fallback where elements are known: {yaml}"
        );
    }
    let save = clicks[2].selector.as_ref().expect("a selector for Save");
    assert_eq!(save.role.as_deref(), Some("^push button$"));
    assert_eq!(save.name.as_deref(), Some("^Save$"));
    // The selector keeps the path but not its indices, which changed halfway through the log.
    let path = save.path.as_deref().unwrap();
    assert!(!path.contains('['), "{path}");
    let m = save.matcher().unwrap();
    let moved = Element {
        role: Some("push button".into()),
        name: Some("Save".into()),
        id: None,
        path: Some("frame 'Customer form - Chromium' / document web 'Customer form'[0] / section[1] / push button 'Save'[9]".into()),
    };
    assert!(m.matches(&moved), "{path}");
    let typed: Vec<&codegen::bot::Step> = bot
        .steps
        .iter()
        .filter(|s| s.action == Action::Type)
        .collect();
    assert_eq!(typed[0].text.as_deref(), Some("{{ first_name }}"));
    assert_eq!(
        typed[1].selector.as_ref().and_then(|s| s.name.as_deref()),
        Some("^E-mail$")
    );
    assert!(
        bot.steps
            .iter()
            .all(|s| s.window.title == "^Customer form \\- Chromium$"
                || s.window.title == "^Customer form - Chromium$"),
        "a title that never varies stays literal: {yaml}"
    );
    assert!(
        bot.source
            .variant
            .iter()
            .filter(|a| a.selector.is_some())
            .count()
            >= 5,
        "the routine's actions carry selectors for the trace check: {yaml}"
    );
    assert_valid(bot);
    // The renderings never type the masked sample; bot.py looks the elements up and requires the
    // e-mail, the Robot suite refuses to guess where the element is.
    let r = Renderer::new(None).unwrap();
    for f in [Format::Python, Format::Robot] {
        let text = r.render(bot, f).unwrap();
        assert!(!text.contains("<email>"), "{text}");
    }
    let py = r.render(bot, Format::Python).unwrap();
    assert!(py.contains("REQUIRED = [\"e_mail\"]"), "{py}");
    assert_eq!(
        py.matches("click_element(").count(),
        1 + clicks.len(),
        "{py}"
    );
    assert!(
        py.contains("\"name\":\"^E-mail$\"") || py.contains("\"name\": \"^E-mail$\""),
        "{py}"
    );
    let dir = tempfile::tempdir().unwrap();
    let py_path = dir.path().join("bot.py");
    std::fs::write(&py_path, &py).unwrap();
    let out = Command::new("python3")
        .args(["-c", "import ast,sys; ast.parse(open(sys.argv[1]).read())"])
        .arg(&py_path)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}\n{py}",
        String::from_utf8_lossy(&out.stderr)
    );
    let robot = r.render(bot, Format::Robot).unwrap();
    assert!(
        robot.contains("Should Not Be Empty    ${e_mail}"),
        "{robot}"
    );
    assert_eq!(
        robot.matches("    Fail    step ").count(),
        clicks.len(),
        "{robot}"
    );
}

#[test]
fn the_schema_rejects_what_the_model_rejects() {
    let mut value: serde_json::Value =
        serde_norway::from_str(&drafts(true)[0].bot.to_yaml().unwrap()).unwrap();
    let v = schema();
    assert!(v.is_valid(&value));
    value["steps"][2].as_object_mut().unwrap().remove("text");
    assert!(!v.is_valid(&value), "a type step without text");
    value["steps"][2]["text"] = "x".into();
    value["apiVersion"] = "taskmine/v2".into();
    assert!(!v.is_valid(&value), "another version");
    value["apiVersion"] = "taskmine/v1".into();
    value["steps"][0]["teleport"] = true.into();
    assert!(!v.is_valid(&value), "an unknown field");
    value["steps"][0]
        .as_object_mut()
        .unwrap()
        .remove("teleport");
    assert!(v.is_valid(&value));
    value["steps"][1]
        .as_object_mut()
        .unwrap()
        .remove("fallback");
    assert!(
        !v.is_valid(&value),
        "a click by position that the file does not allow"
    );
    value["steps"][1]["selector"] = serde_json::json!({});
    assert!(!v.is_valid(&value), "an empty selector");
    value["steps"][1]["selector"] = serde_json::json!({"name": "^OK$"});
    assert!(v.is_valid(&value), "a click by selector");
}

fn step_markers(text: &str, comment: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(comment))
        .filter_map(|l| l.strip_prefix("step "))
        .map(|l| {
            l.split_once(": ")
                .map(|(_, a)| a.trim().to_owned())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn rendered_scripts_parse_and_keep_the_steps() {
    let mut bot = drafts(true)[0].bot.clone();
    // Text that needs escaping in both languages.
    bot.steps[2].text = Some("echo \"{{ value_1 }}\"  $HOME #x \\n > out-{{ value_1 }}.txt".into());
    bot.postconditions.push(codegen::bot::PostCondition::File {
        path: "out-{{ value_1 }}.txt".into(),
        content: Some("{{ value_1 }}".into()),
        timeout_ms: 2000,
    });
    bot.check().unwrap();
    let r = Renderer::new(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let yaml_steps: Vec<String> = bot
        .steps
        .iter()
        .map(|s| s.action.as_str().to_owned())
        .collect();

    let py = r.render(&bot, Format::Python).unwrap();
    assert_eq!(step_markers(&py, "# "), yaml_steps, "{py}");
    let py_path = dir.path().join("bot.py");
    std::fs::write(&py_path, &py).unwrap();
    let out = Command::new("python3")
        .args(["-c", "import ast,sys; ast.parse(open(sys.argv[1]).read())"])
        .arg(&py_path)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}\n{py}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(py.contains("row[\"value_1\"]"), "{py}");
    assert!(py.contains(r#""echo \"""#), "the quote is escaped: {py}");

    let robot = r.render(&bot, Format::Robot).unwrap();
    assert_eq!(step_markers(&robot, "# "), yaml_steps, "{robot}");
    assert!(
        robot.contains("${value_1}") && robot.contains("\\$HOME") && robot.contains("\\#x"),
        "{robot}"
    );
    let robot_path = dir.path().join("bot.robot");
    std::fs::write(&robot_path, &robot).unwrap();
    match Command::new("robot")
        .args([
            "--dryrun",
            "--output",
            "NONE",
            "--report",
            "NONE",
            "--log",
            "NONE",
            "--console",
            "quiet",
        ])
        .arg(&robot_path)
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "robot --dryrun: {}{}\n{robot}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        // Robot Framework comes from PyPI (pip install robotframework); without it the section
        // structure is what can be checked.
        Err(_) => {
            eprintln!("robot not installed: checking the suite's sections only");
            for s in ["*** Settings ***", "*** Test Cases ***", "*** Keywords ***"] {
                assert!(robot.contains(s), "{s} missing");
            }
        }
    }
}

#[test]
fn simulated_team_work_drafts_valid_bots_that_wait_for_windows_and_name_inputs() {
    let mut store = Store::open_in_memory().unwrap();
    let cfg = uilog::SimConfig {
        seed: 7,
        users: 3,
        days: 2,
        routines: 4,
        ..uilog::SimConfig::default()
    };
    uilog::simulate::simulate_into_store(&cfg, &mut store).unwrap();
    let (log, mining) =
        miner::mine(&store, &miner::Options::default(), &mut miner::NoProgress).unwrap();
    let drafts = codegen::draft_bots(&store, &log, &mining, 3).unwrap();
    assert_eq!(drafts.len(), 3);
    let r = Renderer::new(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for d in &drafts {
        assert_valid(&d.bot);
        let written = codegen::render::write_draft(
            d,
            &dir.path().join(&d.bot.name),
            &[Format::Yaml, Format::Python],
            &r,
        )
        .unwrap();
        // What was written reads back as the same bot, and its parameter file fits it.
        let back = Bot::load(&written[0]).unwrap();
        assert_eq!(back, d.bot);
        let rows = codegen::params::read(&written[2], &back).unwrap();
        assert_eq!(rows, d.rows);
        assert!(d.rows.iter().all(|row| row.len() == d.bot.inputs.len()));
    }
    let steps: Vec<&codegen::bot::Step> = drafts.iter().flat_map(|d| &d.bot.steps).collect();
    assert!(
        steps.iter().any(|s| s.action == Action::WaitForWindow),
        "a window an earlier step opens is waited for"
    );
    let names: Vec<&str> = drafts
        .iter()
        .flat_map(|d| d.bot.inputs.iter().map(|i| i.name.as_str()))
        .collect();
    assert!(
        names.iter().any(|n| !n.starts_with("value_")),
        "inputs typed into named elements take their names: {names:?}"
    );
}
