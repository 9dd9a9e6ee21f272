//! Segmentation and discovery on public logs of the literature (Leno et al., ICPM 2020), whose rows
//! carry their true instance (`caseID`). The miner never sees the case ids: they are only read back
//! here to check the instances it found. Data: uilog/tests/data/leno-rpm (see README.md there).

use std::collections::BTreeSet;
use std::path::Path;

use miner::{mine, NoProgress, Options};
use uilog::{import_file, ImportOptions, Store};

/// (boundaries found, true boundaries, correct ones, routines found), boundaries being the first and
/// last event of each instance, in (session, ts, id) order.
fn check(file: &str) -> (usize, usize, usize, usize) {
    let mut store = Store::open_in_memory().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../uilog/tests/data/leno-rpm")
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
    eprintln!(
        "{file}: {correct} correct of {} boundaries found, {} true; {} routines",
        found.len(),
        truth.len(),
        m.routines.len()
    );
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
    assert!(correct >= 98, "{correct} of {truth} boundaries found");
    assert_eq!(routines, 1);
    let (p, r) = (correct as f64 / found as f64, correct as f64 / truth as f64);
    assert!(
        p >= 0.95 && r >= 0.95,
        "precision {p:.3}, recall {r:.3} ({correct} of {found} found, {truth} true)"
    );
}

/// Mines a labelled stream (columns `task` and `instance`) after removing the label columns, and
/// evaluates the result against the truth the labels give.
fn check_stream(file: &str) -> miner::eval::Evaluation {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../uilog/tests/data/leno-rpm")
        .join(file);
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (task_col, instance_col) = (col("task"), col("instance"));
    let dir = tempfile::tempdir().unwrap();
    let unlabelled = dir.path().join(Path::new(file).file_name().unwrap());
    let mut writer = csv::Writer::from_path(&unlabelled).unwrap();
    let keep = |r: &csv::StringRecord| -> Vec<String> {
        r.iter()
            .enumerate()
            .filter(|&(i, _)| i != task_col && i != instance_col)
            .map(|(_, v)| v.to_owned())
            .collect()
    };
    writer.write_record(keep(&header)).unwrap();
    // (task, instance) of each row, in file order.
    let mut labels: Vec<(String, String)> = Vec::new();
    for r in reader.records() {
        let r = r.unwrap();
        labels.push((r[task_col].to_owned(), r[instance_col].to_owned()));
        writer.write_record(keep(&r)).unwrap();
    }
    writer.flush().unwrap();
    drop(writer);
    let mut store = Store::open_in_memory().unwrap();
    import_file(
        &mut store,
        &unlabelled,
        &ImportOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let (log, m) = mine(&store, &Options::default(), &mut NoProgress).unwrap();
    // The importer writes rows in file order, so the store's ids follow the rows.
    let mut by_id: Vec<&miner::Ev> = log.events.iter().collect();
    by_id.sort_by_key(|e| e.id);
    assert_eq!(by_id.len(), labels.len(), "one event per row");
    let mut truth = uilog::GroundTruth::new(file);
    let mut tasks: Vec<&str> = labels.iter().map(|(t, _)| t.as_str()).collect();
    tasks.sort_unstable();
    tasks.dedup();
    for (i, t) in tasks.iter().enumerate() {
        truth.routines.push(uilog::TruthRoutine {
            id: i as u32 + 1,
            name: t.to_string(),
            ..Default::default()
        });
    }
    let mut instances: std::collections::BTreeMap<&str, uilog::TruthInstance> = Default::default();
    for (e, (task, instance)) in by_id.iter().zip(&labels) {
        let next = instances.len() as u64 + 1;
        let inst = instances
            .entry(instance.as_str())
            .or_insert_with(|| uilog::TruthInstance {
                id: next,
                routine: tasks.binary_search(&task.as_str()).unwrap() as u32 + 1,
                session: log.session_name(e.session).to_owned(),
                user: log.user_name(log.user_of(e)).to_owned(),
                variant: None,
                events: Vec::new(),
            });
        inst.events.push(e.ts);
    }
    truth.instances = instances.into_values().collect();
    for i in &mut truth.instances {
        i.events.sort_unstable();
    }
    truth.total_events = labels.len() as u64;
    let e = miner::eval::evaluate(&log, &m, &truth);
    assert_eq!(e.unknown_truth_events, 0);
    eprintln!(
        "{file}: event task F1 {:.3}, boundary F1 {:.3} ({} of {} found, {} true), routine F1 {:.3} ({} found)",
        e.event_tasks.f1,
        e.boundaries.f1,
        e.boundaries.correct,
        e.boundaries.found,
        e.boundaries.truth,
        e.routines.f1,
        e.routines.found
    );
    e
}

#[test]
fn two_task_types_merged_into_one_stream_without_pauses_are_told_apart() {
    let e = check_stream("merged2.csv");
    assert!(
        e.event_tasks.f1 >= 0.99,
        "event task F1 {:.3}",
        e.event_tasks.f1
    );
    assert!(
        e.boundaries.f1 >= 0.95,
        "boundary F1 {:.3}",
        e.boundaries.f1
    );
    assert_eq!(e.routines.f1, 1.0);
}
