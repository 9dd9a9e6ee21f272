//! Replay overhead: the time each step takes beyond its declared wait and the pace, on a private Xvfb + openbox
//! desktop with one xterm. Every step checks the focused window first, so the figure includes that
//! check (an X round trip or three) and the input the step injects.
//!
//! `cargo bench -p codegen --bench replay` (needs xvfb, openbox, xterm, xdotool). `REPLAY_RUNS`
//! sets the number of runs (default 5) of the 41-step bot.

#[path = "../../recorder/tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;

use codegen::bot::{Action, Bot, Evidence, Params, Source, Step, WindowMatch, API_VERSION};
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

fn main() {
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
