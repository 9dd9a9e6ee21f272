//! Segmentation and discovery on public logs of the literature (Leno et al., ICPM 2020), whose rows
//! carry their true instance (`caseID`). The miner never sees the case ids: they are only read back
//! here to check the instances it found. Data: tests/data/leno-rpm (see SOURCE.md there).

use std::collections::BTreeSet;
use std::path::Path;

use miner::{mine, NoProgress, Options};
use uilog::{import_file, ImportOptions, Store};

/// (boundaries found, true boundaries, correct ones, routines found), boundaries being the first and
/// last event of each instance, in (session, ts, id) order.
fn check(file: &str) -> (usize, usize, usize, usize) {
    let mut store = Store::open_in_memory().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/leno-rpm")
        .join(file);
    import_file(&mut store, &path, &ImportOptions::default(), &mut |_| {}).unwrap();
    let (log, m) = mine(&store, &Options::default(), &mut NoProgress).unwrap();
    let mut stmt = store
        .connection()
        .prepare("SELECT case_id FROM events ORDER BY session_id, ts, id")
        .unwrap();
    let cases: Vec<Option<i64>> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    assert_eq!(cases.len(), log.events.len());
    let mut truth: BTreeSet<(usize, bool)> = BTreeSet::new();
    for (i, c) in cases.iter().enumerate() {
        if c.is_some() && (i == 0 || cases[i - 1] != *c) {
            truth.insert((i, false));
        }
        if c.is_some() && cases.get(i + 1) != Some(c) {
            truth.insert((i, true));
        }
    }
    let found: BTreeSet<(usize, bool)> = m
        .routines
        .iter()
        .flat_map(|r| &r.instances)
        .flat_map(|i| [(i.span.0 as usize, false), (i.span.1 as usize, true)])
        .collect();
    let correct = found.intersection(&truth).count();
    (found.len(), truth.len(), correct, m.routines.len())
}

#[test]
fn a_synthetic_log_is_segmented_exactly() {
    // 100 instances of one routine: every boundary found, nothing else.
    assert_eq!(check("log1_segmented.csv"), (200, 200, 200, 1));
}

#[test]
fn a_real_recording_is_segmented_almost_exactly() {
    let (found, truth, correct, routines) = check("StudentRecord_segmented.csv");
    assert_eq!(truth, 100, "50 true instances");
    assert_eq!(routines, 1);
    let (p, r) = (correct as f64 / found as f64, correct as f64 / truth as f64);
    assert!(
        p >= 0.95 && r >= 0.95,
        "precision {p:.3}, recall {r:.3} ({correct} of {found} found, {truth} true)"
    );
}
