//! Fuzzing every importer with arbitrary bytes and mutated valid files (issue 13): no panic, an
//! error is one bounded line naming the file, a failed import leaves the store as it was. Bounded
//! to a few hundred cases per importer so the file runs in seconds; `cargo run --release -p uilog
//! --example fuzz -- --secs N` runs the same generators for as long as wanted and prints figures.

mod fuzz_gen;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use fuzz_gen::{inputs, run_case, targets, Target};

fn fuzz(target: &Target, cases: u32) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("case.{}", target.ext));
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&inputs(target.valid.clone()), |bytes| {
        let outcome = run_case(&path, &bytes, target.format);
        prop_assert!(!outcome.panicked, "{}: the import panicked", target.name);
        prop_assert!(
            outcome.violation.is_none(),
            "{}: {}",
            target.name,
            outcome.violation.unwrap()
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{}: {e}", target.name);
    }
}

fn target(name: &str) -> Target {
    targets().into_iter().find(|t| t.name == name).unwrap()
}

#[test]
fn the_valid_files_import() {
    let dir = tempfile::tempdir().unwrap();
    for t in targets() {
        let path = dir.path().join(format!("valid.{}", t.ext));
        let outcome = run_case(&path, &t.valid, t.format);
        assert!(outcome.imported, "{}", t.name);
    }
}

#[test]
fn taskmine_csv_survives_fuzzing() {
    fuzz(&target("taskmine-csv"), 300);
}

#[test]
fn action_logger_csv_survives_fuzzing() {
    fuzz(&target("action-logger-csv"), 300);
}

#[test]
fn process_mining_csv_survives_fuzzing() {
    fuzz(&target("process-mining-csv"), 300);
}

#[test]
fn xes_survives_fuzzing() {
    fuzz(&target("xes"), 300);
}

#[test]
fn jsonl_survives_fuzzing() {
    fuzz(&target("jsonl"), 300);
}

#[test]
fn format_detection_survives_fuzzing() {
    // The same inputs with the format left to detection.
    for mut t in targets() {
        t.format = uilog::Format::Auto;
        fuzz(&t, 60);
    }
}
