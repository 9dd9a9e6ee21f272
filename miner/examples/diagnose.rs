//! Shows, for one simulator log, how segmentation and discovery line up with the truth:
//! `cargo run --release -p miner --example diagnose -- SEED NOISE VARIANTS`.
//!
//! A tool for tuning, with switches in the environment: `LABELS=1` prints the action labels of the
//! true routines, `SHOW=3,17` the labels of those actions, `PAIR=93,15` how often a pause splits that
//! directly-follows pair, and `BOUNDS=1` the first true instances whose boundaries were missed, as
//! action ids with `~` for noise, `|` for segment starts, `[` `]` for found instances and the pause
//! before each event in seconds.

use std::collections::HashMap;

use miner::eval::evaluate;
use miner::segment;
use miner::{mine, NoProgress, Options};
use uilog::simulate::{simulate_into_store, Config};
use uilog::Store;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seed: u64 = args.first().map_or(Ok(1), |a| a.parse())?;
    let noise: f64 = args.get(1).map_or(Ok(0.0), |a| a.parse())?;
    let variant_steps: f64 = args.get(2).map_or(Ok(0.0), |a| a.parse())?;
    let cfg = Config {
        seed,
        noise,
        variant_steps,
        ..Config::default()
    };
    let mut store = Store::open_in_memory()?;
    let truth = simulate_into_store(&cfg, &mut store)?;
    let opts = Options::default();
    let (log, m) = mine(&store, &opts, &mut NoProgress)?;
    let mut at: HashMap<(u32, i64), usize> = HashMap::new();
    for (i, e) in log.events.iter().enumerate() {
        at.insert((e.session, e.ts), i);
    }
    let sid: HashMap<&str, u32> = log
        .dict
        .sessions
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i as u32))
        .collect();
    // Truth routines as action sequences of their first dominant instance.
    for r in &truth.routines {
        if let Some(inst) = truth
            .instances
            .iter()
            .find(|i| i.routine == r.id && i.variant.is_none())
        {
            let s = sid[inst.session.as_str()];
            let acts: Vec<u32> = inst
                .events
                .iter()
                .map(|ts| log.events[at[&(s, *ts)]].action)
                .collect();
            let n = truth.instances.iter().filter(|i| i.routine == r.id).count();
            println!("truth {} ({n} instances): {:?}", r.id, acts);
            if std::env::var_os("LABELS").is_some() {
                for a in &acts {
                    println!("    {a}: {}", log.actions[*a as usize].label());
                }
            }
        }
    }
    if let Ok(list) = std::env::var("SHOW") {
        for a in list.split(',') {
            let a: usize = a.parse()?;
            println!(
                "action {a}: {} ({} events)",
                log.actions[a].label(),
                log.actions[a].events
            );
        }
    }
    let seg = segment(&log, &opts.segment);
    if let Ok(list) = std::env::var("PAIR") {
        let v: Vec<u32> = list.split(',').map(|x| x.parse().unwrap()).collect();
        let gap = (seg.idle_gap_secs * 1e6) as i64;
        let (mut across, mut within, mut into_a, mut into_w) = (0, 0, 0, 0);
        for w in log.events.windows(2) {
            if w[0].session != w[1].session {
                continue;
            }
            let split = w[1].ts - w[0].ts > gap || w[1].after_idle;
            if w[1].action == v[1] {
                if split {
                    into_a += 1
                } else {
                    into_w += 1
                }
                if w[0].action == v[0] {
                    if split {
                        across += 1
                    } else {
                        within += 1
                    }
                }
            }
        }
        println!(
            "pair {v:?}: across {across} within {within}; into {}: across {into_a} within {into_w}",
            v[1]
        );
    }
    println!("starts: {:?}", seg.start_actions);
    for &a in &seg.start_actions {
        println!("  {a}: {}", log.actions[a as usize].label());
    }
    let seg_starts: std::collections::HashSet<u32> = seg.segments.iter().map(|s| s.start).collect();
    let (mut hit, mut total, mut inner) = (0, 0, 0);
    for inst in &truth.instances {
        let s = sid[inst.session.as_str()];
        let idx: Vec<usize> = inst.events.iter().map(|ts| at[&(s, *ts)]).collect();
        total += 1;
        if seg_starts.contains(&(idx[0] as u32)) {
            hit += 1;
        }
        inner += idx[1..]
            .iter()
            .filter(|&&i| seg_starts.contains(&(i as u32)))
            .count();
    }
    println!(
        "segments {}, true instances {total}, starting at a segment start {hit}, cuts inside instances {inner}",
        seg.segments.len()
    );
    for r in &m.routines {
        println!(
            "routine {} ({} inst, {} variants): {:?}",
            r.id,
            r.instances.len(),
            r.variants.len(),
            r.steps
        );
    }
    // Boundary errors, by kind.
    let mut d_start: HashMap<u32, (u32, u32)> = HashMap::new();
    let mut d_end: HashMap<u32, (u32, u32)> = HashMap::new();
    for r in &m.routines {
        for i in &r.instances {
            d_start.insert(i.span.0, i.span);
            d_end.insert(i.span.1, i.span);
        }
    }
    let mut shown = 0;
    let (mut bad_start, mut bad_end) = (0, 0);
    for inst in &truth.instances {
        let s = sid[inst.session.as_str()];
        let idx: Vec<usize> = inst.events.iter().map(|ts| at[&(s, *ts)]).collect();
        let (a, b) = (idx[0] as u32, *idx.last().unwrap() as u32);
        let ok_s = d_start.contains_key(&a);
        let ok_e = d_end.contains_key(&b);
        bad_start += (!ok_s) as u32;
        bad_end += (!ok_e) as u32;
        if (!ok_s || !ok_e) && shown < 12 && std::env::var_os("BOUNDS").is_some() {
            shown += 1;
            let lo = a.saturating_sub(3) as usize;
            let hi = (b as usize + 4).min(log.events.len());
            let line: Vec<String> = (lo..hi)
                .map(|i| {
                    let mark = if idx.contains(&i) { "" } else { "~" };
                    let ds = if d_start.contains_key(&(i as u32)) {
                        "["
                    } else {
                        ""
                    };
                    let de = if d_end.contains_key(&(i as u32)) {
                        "]"
                    } else {
                        ""
                    };
                    let cut = if seg_starts.contains(&(i as u32)) {
                        "|"
                    } else {
                        ""
                    };
                    let dt = if i > 0 {
                        (log.events[i].ts - log.events[i - 1].ts) / 1_000_000
                    } else {
                        0
                    };
                    format!("{cut}{ds}{mark}{}{de}({dt})", log.events[i].action)
                })
                .collect();
            println!(
                "routine {} variant {:?} start ok {ok_s} end ok {ok_e}: {}",
                inst.routine,
                inst.variant,
                line.join(" ")
            );
        }
    }
    println!("true instances with a wrong start {bad_start}, with a wrong end {bad_end}");
    let e = evaluate(&log, &m, &truth);
    println!("{:?}\n{:?}", e.routines, e.boundaries);
    Ok(())
}
