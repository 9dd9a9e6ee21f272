//! Prints routine and segment-boundary accuracy of the miner on simulator logs, one row per seed,
//! for the README: `cargo run --release -p miner --example accuracy -- [SEEDS] [USERS] [DAYS]`
//! (`ROUTINES=10` in the environment takes that many routines of the simulator's catalogue).

use miner::eval::evaluate;
use miner::{mine, NoProgress, Options};
use uilog::simulate::{simulate_into_store, Config};
use uilog::Store;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let seeds = args.first().copied().unwrap_or(10);
    let users = args.get(1).copied().unwrap_or(10) as u32;
    let days = args.get(2).copied().unwrap_or(5) as u32;
    let routines: usize = std::env::var("ROUTINES").map_or(Ok(6), |r| r.parse())?;
    println!("| setting | seed | events | routines found/true | routine P | routine R | routine F1 | boundary P | boundary R | boundary F1 |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (name, noise, variants) in [("clean", 0.0, 0.0), ("10% noise, 10% variants", 0.1, 0.1)] {
        let (mut rf, mut bf) = (Vec::new(), Vec::new());
        for seed in 1..=seeds {
            let cfg = Config {
                seed,
                users,
                days,
                noise,
                variant_steps: variants,
                routines,
                ..Config::default()
            };
            let mut store = Store::open_in_memory()?;
            let truth = simulate_into_store(&cfg, &mut store)?;
            let (log, m) = mine(&store, &Options::default(), &mut NoProgress)?;
            let e = evaluate(&log, &m, &truth);
            println!(
                "| {name} | {seed} | {} | {}/{} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
                m.summary.events,
                e.routines.found,
                e.routines.truth,
                e.routines.precision,
                e.routines.recall,
                e.routines.f1,
                e.boundaries.precision,
                e.boundaries.recall,
                e.boundaries.f1
            );
            if std::env::var_os("VERBOSE").is_some() {
                for r in &m.routines {
                    let matched = e.matches.iter().find(|x| x.discovered == r.id);
                    println!(
                        "    #{} steps {} inst {} var {} -> {:?}",
                        r.id,
                        r.steps.len(),
                        r.instances.len(),
                        r.variants.len(),
                        matched.map(|x| (x.truth, x.jaccard))
                    );
                }
            }
            rf.push(e.routines.f1);
            bf.push(e.boundaries.f1);
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
        println!(
            "| **{name}: mean (min)** | | | | | | **{:.3}** ({:.3}) | | | **{:.3}** ({:.3}) |",
            mean(&rf),
            min(&rf),
            mean(&bf),
            min(&bf)
        );
    }
    Ok(())
}
