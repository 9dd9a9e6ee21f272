//! Shows, for one simulator log, how segmentation and discovery line up with the truth:
//! `cargo run --release -p miner --example diagnose -- SEED NOISE VARIANTS`.

use std::collections::HashMap;

use miner::eval::evaluate;
use miner::segment::segment;
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
        if let Some(inst) = truth.instances.iter().find(|i| i.routine == r.id && i.variant.is_none()) {
            let s = sid[inst.session.as_str()];
            let acts: Vec<u32> = inst.events.iter().map(|ts| log.events[at[&(s, *ts)]].action).collect();
            let n = truth.instances.iter().filter(|i| i.routine == r.id).count();
            println!("truth {} ({n} instances): {:?}", r.id, acts);
            if std::env::var_os("LABELS").is_some() {
                for a in &acts {
                    println!("    {a}: {}", log.actions[*a as usize].label());
                }
            }
        }
    }
    let seg = segment(&log, &opts.segment);
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
        inner += idx[1..].iter().filter(|&&i| seg_starts.contains(&(i as u32))).count();
    }
    println!(
        "segments {}, true instances {total}, starting at a segment start {hit}, cuts inside instances {inner}",
        seg.segments.len()
    );
    for r in &m.routines {
        println!("routine {} ({} inst, {} variants): {:?}", r.id, r.instances.len(), r.variants.len(), r.steps);
    }
    let e = evaluate(&log, &m, &truth);
    println!("{:?}\n{:?}", e.routines, e.boundaries);
    Ok(())
}
