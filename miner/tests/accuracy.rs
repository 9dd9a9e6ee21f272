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

/// A configuration bundled in the repository's `examples/` (the accuracy example's settings).
fn bundled(file: &str, seed: u64) -> Config {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut cfg: Config = serde_norway::from_str(&text).unwrap();
    cfg.seed = seed;
    cfg
}

fn evaluate_config(cfg: &Config) -> miner::eval::Evaluation {
    let mut store = Store::open_in_memory().unwrap();
    let truth = simulate_into_store(cfg, &mut store).unwrap();
    let (log, m) = mine(&store, &Options::default(), &mut NoProgress).unwrap();
    evaluate(&log, &m, &truth)
}

/// The 64-step form-filling routine (ten copy → paste blocks, no pauses between instances, 10 %
/// noise) comes out as one routine, not as its blocks: the blocks are joined and the routine is
/// the consensus of the joined segments (measured 0.904 and 0.930 boundary F1 on these seeds).
#[test]
fn a_long_routine_with_repeated_blocks_is_found_whole() {
    for seed in [1, 3] {
        let e = evaluate_config(&bundled("sim-long-form.yaml", seed));
        assert_eq!(e.routines.found, 1, "seed {seed}");
        assert_eq!(e.routines.f1, 1.0, "seed {seed}");
        assert!(
            e.boundaries.f1 >= 0.85,
            "seed {seed}: boundary F1 {:.3}",
            e.boundaries.f1
        );
    }
}

/// Four task types in one stream without pauses, one of them a form whose fields are filled by a
/// repeated copy-from-the-mail block (measured event-level F1 0.99–1.00 on these seeds).
#[test]
fn a_stream_of_four_task_types_is_labelled_by_task() {
    for seed in [1, 2] {
        let e = evaluate_config(&bundled("sim-task-stream.yaml", seed));
        assert!(
            e.event_tasks.f1 >= 0.97,
            "seed {seed}: event-level F1 {:.3}",
            e.event_tasks.f1
        );
    }
}
