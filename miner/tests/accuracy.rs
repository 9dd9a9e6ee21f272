//! Accuracy on simulator logs with known routines: the acceptance thresholds, on a few small logs so
//! that the test stays fast in a debug build. The 10-seed table of the README comes from
//! `cargo run --release -p miner --example accuracy`.

use miner::eval::evaluate;
use miner::{mine, NoProgress, Options};
use uilog::simulate::{simulate_into_store, Config};
use uilog::Store;

fn run(seed: u64, noise: f64, variant_steps: f64) -> (f64, f64) {
    let cfg = Config {
        seed,
        users: 4,
        days: 3,
        noise,
        variant_steps,
        ..Config::default()
    };
    let mut store = Store::open_in_memory().unwrap();
    let truth = simulate_into_store(&cfg, &mut store).unwrap();
    let (log, m) = mine(&store, &Options::default(), &mut NoProgress).unwrap();
    let e = evaluate(&log, &m, &truth);
    assert_eq!(e.unknown_truth_events, 0);
    (e.routines.f1, e.boundaries.f1)
}

#[test]
fn clean_logs_give_routine_f1_of_at_least_0_95() {
    for seed in [11, 12, 13] {
        let (routines, boundaries) = run(seed, 0.0, 0.0);
        assert!(routines >= 0.95, "seed {seed}: routine F1 {routines:.3}");
        assert!(
            boundaries >= 0.90,
            "seed {seed}: boundary F1 {boundaries:.3}"
        );
    }
}

#[test]
fn noisy_logs_with_variants_give_routine_f1_of_at_least_0_90() {
    for seed in [11, 12, 13] {
        let (routines, boundaries) = run(seed, 0.1, 0.1);
        assert!(routines >= 0.90, "seed {seed}: routine F1 {routines:.3}");
        assert!(
            boundaries >= 0.90,
            "seed {seed}: boundary F1 {boundaries:.3}"
        );
    }
}
