//! Replay overhead: the time each step takes beyond its declared wait and the pace, on a private Xvfb + openbox
//! desktop with one xterm. Every step checks the focused window first, so the figure includes that
//! check (an X round trip or three) and the input the step injects.
//!
//! `cargo bench -p codegen --bench replay` (needs xvfb, openbox, xterm, xdotool). `REPLAY_RUNS`
//! sets the number of runs (default 5) of the 41-step bot.
//!
//! The second part replays a bot whose steps find their elements by selector (AT-SPI) on the GTK
//! form of tests/apps, on a desktop with its own accessibility bus: 20 runs with new data, five
//! each on the original window, after it moved and grew by 200 px, with a field added above the
//! first one, and both; the app's own file of saved records says whether each run filled the
//! right fields. Then the failure cases (a selector that matches nothing, an app that moves the
//! focus away from the field typed into), where a run reported as passed is a false pass. It
//! prints the pass rate, the false passes and the time each selector step takes. Last, the same
//! 20 runs on the HTML form in Chromium (tests/apps/form.html), whose page says what it saved.

#[path = "../../recorder/tests/support/mod.rs"]
mod support;

#[path = "../../tests/a11y/mod.rs"]
mod a11y;

use std::collections::BTreeMap;

use codegen::bot::{
    exact, Action, Bot, Evidence, Input, InputType, Params, Selector, Source, Step, WindowMatch,
    API_VERSION,
};
use codegen::replay::{run, Desktop as ReplayDesktop, ReplayOptions};

fn bot(wait_ms: u64) -> Bot {
    let w = WindowMatch {
        app: "xterm".into(),
        title: "^bench$".into(),
    };
    let mut steps = vec![Step::new(Action::FocusWindow, w.clone())];
    for i in 0..40 {
        let mut s = match i % 4 {
            0 => {
                let mut s = Step::new(Action::Type, w.clone());
                s.text = Some("abc".into());
                s
            }
            1 => {
                let mut s = Step::new(Action::Key, w.clone());
                s.keys = Some("enter".into());
                s
            }
            2 => {
                let mut s = Step::new(Action::Click, w.clone());
                (s.x, s.y) = (Some(40), Some(40));
                s.fallback = Some(codegen::bot::Fallback::Position);
                s
            }
            _ => Step::new(Action::AssertWindow, w.clone()),
        };
        s.wait_ms = wait_ms;
        steps.push(s);
    }
    Bot {
        api_version: API_VERSION.into(),
        name: "bench".into(),
        description: String::new(),
        source: Source {
            routine: 0,
            evidence: Evidence {
                instances: 0,
                users: 0,
                standardization: 0.0,
                hours_per_month: 0.0,
                median_duration_s: 0.0,
            },
            variant: vec![],
        },
        inputs: vec![],
        steps,
        postconditions: vec![],
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn form_bot() -> Bot {
    let w = WindowMatch {
        app: "form.py".into(),
        title: "^Customer form$".into(),
    };
    let mut steps = vec![Step::new(Action::FocusWindow, w.clone())];
    let sel = |role: &str, name: &str| Selector {
        role: Some(exact(role)),
        name: Some(exact(name)),
        id: None,
        path: Some(format!(
            "^frame 'Customer form' / panel / {role} '{}'$",
            regex::escape(name)
        )),
    };
    for (field, input) in [
        ("First name", "first_name"),
        ("Last name", "last_name"),
        ("E-mail", "e_mail"),
    ] {
        let mut click = Step::new(Action::Click, w.clone());
        click.selector = Some(sel("text", field));
        let mut ty = Step::new(Action::Type, w.clone());
        ty.selector = click.selector.clone();
        ty.text = Some(format!("{{{{ {input} }}}}"));
        steps.extend([click, ty]);
    }
    let mut save = Step::new(Action::Click, w.clone());
    save.selector = Some(sel("push button", "Save"));
    steps.push(save);
    let mut b = bot(0);
    b.name = "form".into();
    b.inputs = ["first_name", "last_name", "e_mail"]
        .iter()
        .map(|n| Input {
            name: (*n).into(),
            kind: InputType::Text,
            samples: vec![],
            required: true,
        })
        .collect();
    b.steps = steps;
    b
}

fn row(i: usize) -> Params {
    let mut p = Params::new();
    p.insert("first_name".into(), format!("Ann{i}"));
    p.insert("last_name".into(), format!("Berg-{i}"));
    p.insert("e_mail".into(), format!("ann{i}@example.org"));
    p
}

fn start_form(s: &mut a11y::Session, out: &std::path::Path, layout: usize, steal: bool) -> u32 {
    let geometry = if layout % 2 == 0 {
        "420x300+40+40"
    } else {
        "620x500+240+240"
    };
    let mut app = s.cmd(a11y::PYTHON);
    app.arg(a11y::apps().join("form.py"))
        .arg("--out")
        .arg(out)
        .args(["--geometry", geometry])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if layout >= 2 {
        app.arg("--extra");
    }
    if steal {
        app.arg("--steal");
    }
    let pid = s.spawn("form.py", app);
    s.form("Customer form", &["First name", "Save"]);
    pid
}

/// A desktop with its own accessibility bus and a replay connected to it, for `bot`.
fn selector_desktop(bot: &Bot) -> (a11y::Session, ReplayDesktop) {
    let s = a11y::Session::start();
    // The replay in this process reaches the buses through the environment, as `taskmine replay`
    // does; no other thread reads the environment yet.
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &s.bus);
    std::env::set_var("DISPLAY", &s.display);
    let replay = ReplayDesktop::connect(Some(&s.display)).expect("connect");
    bot.check().expect("a valid bot");
    (s, replay)
}

fn selectors() {
    let bot = form_bot();
    let (mut s, mut replay) = selector_desktop(&bot);
    let out = s.home().join("saved.txt");
    let mut passed = 0;
    let mut by_action: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut app = 0;
    let runs = 20;
    for i in 0..runs {
        let layout = i / 5;
        if i % 5 == 0 {
            if app != 0 {
                s.stop(app);
            }
            app = start_form(&mut s, &out, layout, false);
        }
        let p = row(i);
        let o = run(&mut replay, &bot, i, &p, &ReplayOptions::default()).expect("replay runs");
        std::thread::sleep(std::time::Duration::from_millis(200));
        let saved = std::fs::read_to_string(&out).unwrap_or_default();
        let want = format!("{}|{}|{}", p["first_name"], p["last_name"], p["e_mail"]);
        let right = saved.lines().last() == Some(want.as_str());
        if o.failure.is_none() && right {
            passed += 1;
        } else {
            println!(
                "  run {} (layout {layout}): failure {:?}, saved {:?}",
                i + 1,
                o.failure.map(|f| f.to_string()),
                saved.lines().last()
            );
        }
        for (st, ms) in bot.steps.iter().zip(&o.step_ms) {
            if st.selector.is_some() {
                by_action.entry(st.action.as_str()).or_default().push(*ms);
            }
        }
    }
    s.stop(app);
    println!(
        "selector replay on the GTK form (AT-SPI): {passed}/{runs} runs passed with the right values \
         (5 each: as recorded, moved and resized by 200 px, a field added above, both)"
    );
    println!(
        "  {:<14} {:>6} {:>10} {:>10} {:>10}",
        "action", "steps", "median ms", "p90 ms", "max ms"
    );
    for (action, mut v) in by_action {
        v.sort_by(f64::total_cmp);
        println!(
            "  {:<14} {:>6} {:>10.2} {:>10.2} {:>10.2}",
            action,
            v.len(),
            percentile(&v, 50.0),
            percentile(&v, 90.0),
            v.last().copied().unwrap_or(0.0)
        );
    }

    // The failure cases: every run must fail, and a run that fails before input types nothing.
    let mut broken = bot.clone();
    broken.steps[2].selector.as_mut().unwrap().name = Some("^No such field$".into());
    let mut false_passes = 0;
    let mut cases = 0;
    let out = s.home().join("saved-fail.txt");
    let app = start_form(&mut s, &out, 3, false);
    for i in 0..3 {
        let o = run(
            &mut replay,
            &broken,
            i,
            &row(100 + i),
            &ReplayOptions::default(),
        )
        .expect("replay runs");
        cases += 1;
        // Passed, or typed anything at all: the halt before any input did not hold.
        let typed = s
            .probe("Customer form")
            .iter()
            .any(|f| f.role == "text" && f.text.as_deref().is_some_and(|t| !t.is_empty()));
        if o.failure.is_none() || typed {
            false_passes += 1;
            println!(
                "  no-match case {}: passed or typed: {:?}",
                i + 1,
                o.failure
            );
        }
    }
    s.stop(app);
    let _ = std::fs::remove_file(&out);
    for i in 0..3 {
        // A fresh form each time: a failed run leaves text behind.
        let app = start_form(&mut s, &out, 1, true);
        let p = row(200 + i);
        let o = run(&mut replay, &bot, i, &p, &ReplayOptions::default()).expect("replay runs");
        cases += 1;
        // A pass is false unless the app saved exactly the row (it cannot: the focus moves).
        std::thread::sleep(std::time::Duration::from_millis(200));
        let want = format!("{}|{}|{}", p["first_name"], p["last_name"], p["e_mail"]);
        let saved = std::fs::read_to_string(&out).unwrap_or_default();
        if o.failure.is_none() && saved.lines().last() != Some(want.as_str()) {
            false_passes += 1;
        }
        match &o.failure {
            None => println!(
                "  moved-focus case {}: passed, saved {:?}",
                i + 1,
                saved.lines().last()
            ),
            Some(f) => println!("  moved-focus case {}: failed at {f}", i + 1),
        }
        s.stop(app);
    }
    println!(
        "failure cases (a selector matching nothing x3, typing moved to another field x3): \
         {false_passes} false passes of {cases}"
    );
    // The replay's X connection goes before the display it is connected to.
    drop(replay);
}

/// The form bot for the HTML form in Chromium: fields found by role, label and DOM id, no path.
fn chromium_bot() -> Bot {
    let w = WindowMatch {
        app: "chromium".into(),
        title: "^Customer form".into(),
    };
    let mut steps = vec![Step::new(Action::FocusWindow, w.clone())];
    let sel = |role: &str, name: &str, id: &str| Selector {
        role: Some(exact(role)),
        name: Some(exact(name)),
        id: Some(exact(id)),
        path: None,
    };
    for (field, id, input) in [
        ("First name", "first_name", "first_name"),
        ("Last name", "last_name", "last_name"),
        ("E-mail", "email", "e_mail"),
    ] {
        let mut click = Step::new(Action::Click, w.clone());
        click.selector = Some(sel("entry", field, id));
        let mut ty = Step::new(Action::Type, w.clone());
        ty.selector = click.selector.clone();
        ty.text = Some(format!("{{{{ {input} }}}}"));
        steps.extend([click, ty]);
    }
    let mut save = Step::new(Action::Click, w.clone());
    save.selector = Some(sel("push button", "Save", "save"));
    steps.push(save);
    let mut b = form_bot();
    b.name = "chromium-form".into();
    b.steps = steps;
    b
}

/// Chromium with the HTML form at a geometry, with the extra field above First name or not.
fn start_chromium(s: &mut a11y::Session, run: usize, layout: usize) -> u32 {
    a11y::require("chromium", "chromium");
    let (size, pos) = if layout % 2 == 0 {
        ("700,600", "40,40")
    } else {
        ("900,800", "240,240")
    };
    let mut url = format!("file://{}/form.html?", a11y::apps().display());
    if layout >= 2 {
        url.push_str("extra=1");
    }
    let mut app = s.cmd("chromium");
    app.env("ACCESSIBILITY_ENABLED", "1")
        .arg("--no-sandbox")
        .arg(format!(
            "--user-data-dir={}",
            s.home().join(format!("profile-{run}")).display()
        ))
        .args([
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--force-renderer-accessibility",
        ])
        .arg(format!("--window-size={size}"))
        .arg(format!("--window-position={pos}"))
        .arg(format!("--app={url}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let pid = s.spawn("chromium", app);
    s.form("Customer form", &["First name", "Save"]);
    pid
}

/// The 20 selector runs in Chromium: typing there once lost a capital to a keymap change.
fn chromium_selectors() {
    let bot = chromium_bot();
    let (mut s, mut replay) = selector_desktop(&bot);
    let (runs, mut passed) = (20, 0);
    let mut app = 0;
    for i in 0..runs {
        let layout = i / 5;
        if i % 5 == 0 {
            if app != 0 {
                s.stop(app);
            }
            app = start_chromium(&mut s, i, layout);
        }
        let p = row(i);
        let o = run(&mut replay, &bot, i, &p, &ReplayOptions::default()).expect("replay runs");
        let want = format!("{}|{}|{}", p["first_name"], p["last_name"], p["e_mail"]);
        let mut saved = Vec::new();
        s.wait(std::time::Duration::from_secs(3), || {
            saved = s.saved_in_page("Customer form");
            saved.last() == Some(&want)
        });
        if o.failure.is_none() && saved.last() == Some(&want) {
            passed += 1;
        } else {
            println!(
                "  run {} (layout {layout}): failure {:?}, saved {:?}",
                i + 1,
                o.failure.map(|f| f.to_string()),
                saved.last()
            );
        }
    }
    s.stop(app);
    println!(
        "selector replay on the HTML form in Chromium (AT-SPI): {passed}/{runs} runs passed with \
         the right values (5 each: as recorded, moved and resized by 200 px, a field added above, both)"
    );
    drop(replay);
}

fn main() {
    if std::env::var_os("REPLAY_SKIP_XTERM").is_none() {
        xterm();
    }
    selectors();
    chromium_selectors();
}

fn xterm() {
    let runs: usize = std::env::var("REPLAY_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let mut desk = support::Desktop::start();
    let id = desk.xterm("bench", "60x15+20+20", &[]);
    desk.activate(&id);
    let mut replay = ReplayDesktop::connect(Some(&desk.display)).expect("connect");
    println!("replay time per step beyond declared waits and the pace ({runs} runs of 41 steps, Xvfb + openbox + xterm)");
    for wait_ms in [0, 50] {
        let bot = bot(wait_ms);
        bot.check().expect("a valid bot");
        let mut by_action: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for r in 0..runs {
            let out = run(
                &mut replay,
                &bot,
                r,
                &Params::new(),
                &ReplayOptions::default(),
            )
            .expect("replay runs");
            if let Some(f) = out.failure {
                panic!("the benchmark bot failed: {f}");
            }
            for (s, ms) in bot.steps.iter().zip(out.step_ms) {
                by_action.entry(s.action.as_str()).or_default().push(ms);
            }
        }
        println!("declared wait {wait_ms} ms per step:");
        println!(
            "  {:<14} {:>6} {:>10} {:>10} {:>10}",
            "action", "steps", "median ms", "p90 ms", "max ms"
        );
        let mut all = Vec::new();
        for (action, mut v) in by_action {
            v.sort_by(f64::total_cmp);
            println!(
                "  {:<14} {:>6} {:>10.2} {:>10.2} {:>10.2}",
                action,
                v.len(),
                percentile(&v, 50.0),
                percentile(&v, 90.0),
                v.last().copied().unwrap_or(0.0)
            );
            all.extend(v);
        }
        all.sort_by(f64::total_cmp);
        let p90 = percentile(&all, 90.0);
        println!(
            "  {:<14} {:>6} {:>10.2} {:>10.2} {:>10.2}   target < 50 ms: {}",
            "all",
            all.len(),
            percentile(&all, 50.0),
            p90,
            all.last().copied().unwrap_or(0.0),
            if p90 < 50.0 {
                "met (p90)"
            } else {
                "NOT met (p90)"
            }
        );
    }
}
