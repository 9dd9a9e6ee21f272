//! A short recording as a person makes one to try taskmine: one user fills a web form twelve times
//! with different data, 0.2–1.5 s between steps and 3–8 s between instances, no option set. The
//! instances must be found, with AT-SPI elements and without any (clicks told apart by position).

use miner::eval::evaluate;
use miner::{mine, NoProgress, Options};
use uilog::{
    Element, Event, EventKind, GroundTruth, Store, TruthInstance, TruthRoutine, ValueHash,
};

const T0: i64 = 1_764_000_000_000_000;

/// A small deterministic generator (64-bit LCG), so the log is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    /// Microseconds uniformly in `lo..=hi` seconds.
    fn secs(&mut self, lo: f64, hi: f64) -> i64 {
        let u = (self.next() % 1_000_001) as f64 / 1e6;
        ((lo + (hi - lo) * u) * 1e6) as i64
    }
}

/// One form field or button: its AT-SPI role and name, and where it sits in the window.
struct Control {
    role: &'static str,
    name: &'static str,
    at: (i32, i32),
}

const FIELDS: [Control; 3] = [
    Control {
        role: "entry",
        name: "First name",
        at: (220, 180),
    },
    Control {
        role: "entry",
        name: "Last name",
        at: (220, 240),
    },
    Control {
        role: "entry",
        name: "E-mail",
        at: (220, 300),
    },
];
const SAVE: Control = Control {
    role: "push button",
    name: "Save",
    at: (180, 380),
};

/// Writes `n` instances; returns the store and the truth. `elements`: whether the app exposes them.
fn recording(n: usize, elements: bool, seed: u64) -> (Store, GroundTruth) {
    let mut rng = Lcg(seed);
    let mut store = Store::open_in_memory().unwrap();
    let mut truth = GroundTruth::new("a dozen instances");
    truth.routines.push(TruthRoutine {
        id: 1,
        name: "customer form".into(),
        ..Default::default()
    });
    let mut ts = T0;
    store
        .write_batch(None, "test", |sink| -> uilog::Result<()> {
            for k in 0..n {
                let mut events = Vec::new();
                let mut emit = |e: &mut Event, ts: i64| -> uilog::Result<()> {
                    e.ts = ts;
                    events.push(ts);
                    sink.push(e)
                };
                // The data come from a list in a terminal.
                let mut e = Event::new("day-1", "analyst", ts, EventKind::Focus);
                e.app = "xterm".into();
                e.window = "customers.txt - xterm".into();
                emit(&mut e, ts)?;
                ts += rng.secs(0.2, 1.5);
                let mut e = Event::new("day-1", "analyst", ts, EventKind::Focus);
                e.app = "chromium".into();
                e.window = "Customer form - Chromium".into();
                emit(&mut e, ts)?;
                for (i, c) in FIELDS.iter().chain([&SAVE]).enumerate() {
                    ts += rng.secs(0.2, 1.5);
                    let mut e = Event::new("day-1", "analyst", ts, EventKind::Click);
                    e.app = "chromium".into();
                    e.window = "Customer form - Chromium".into();
                    // A person's clicks scatter over a few pixels.
                    let jitter = |rng: &mut Lcg| (rng.next() % 7) as i32 - 3;
                    e.wx = Some(c.at.0 + jitter(&mut rng));
                    e.wy = Some(c.at.1 + jitter(&mut rng));
                    e.x = e.wx.map(|x| x + 40);
                    e.y = e.wy.map(|y| y + 90);
                    let element = elements.then(|| Element {
                        role: Some(c.role.into()),
                        name: Some(c.name.into()),
                        id: None,
                        // An info bar shown in some instances adds a level above the form.
                        path: Some(format!(
                            "frame 'Customer form - Chromium' / document web 'Customer form'[0] / {}section[{}] / {} '{}'[{}]",
                            if rng.next() % 3 == 0 { "panel[1] / " } else { "" },
                            rng.next() % 2,
                            c.role,
                            c.name,
                            i + (rng.next() % 2) as usize
                        )),
                    });
                    e.element = element.clone();
                    emit(&mut e, ts)?;
                    if c.role == "entry" {
                        ts += rng.secs(0.2, 1.5);
                        let mut e = Event::new("day-1", "analyst", ts, EventKind::Type);
                        e.app = "chromium".into();
                        e.window = "Customer form - Chromium".into();
                        e.element = element;
                        e.value_hash = Some(ValueHash(1000 * k as u64 + i as u64 + 1));
                        emit(&mut e, ts)?;
                    }
                }
                truth.instances.push(TruthInstance {
                    id: k as u64 + 1,
                    routine: 1,
                    session: "day-1".into(),
                    user: "analyst".into(),
                    variant: None,
                    events: events.clone(),
                });
                truth.total_events += events.len() as u64;
                ts += rng.secs(3.0, 8.0);
            }
            Ok(())
        })
        .unwrap();
    (store, truth)
}

fn check(elements: bool) {
    for seed in [1, 2, 3] {
        let (store, truth) = recording(12, elements, seed);
        let (log, m) = mine(&store, &Options::default(), &mut NoProgress).unwrap();
        let e = evaluate(&log, &m, &truth);
        let what = if elements { "elements" } else { "no elements" };
        assert_eq!(
            m.routines.len(),
            1,
            "{what}, seed {seed}: {:#?}",
            m.routines
        );
        let r = &m.routines[0];
        assert_eq!(r.score.instances, 12, "{what}, seed {seed}");
        assert_eq!(r.steps.len(), 9, "{what}, seed {seed}: {:?}", r.labels);
        assert_eq!(
            (e.boundaries.correct, e.boundaries.found, e.boundaries.truth),
            (24, 24, 24),
            "{what}, seed {seed}"
        );
        // Four clicks on four controls are four actions, with or without elements.
        let clicks: std::collections::BTreeSet<u32> = r
            .steps
            .iter()
            .copied()
            .filter(|&a| m.actions[a as usize].kind == EventKind::Click)
            .collect();
        assert_eq!(clicks.len(), 4, "{what}, seed {seed}: {:?}", r.labels);
        // Twelve instances without a pause longer than the idle gap: the result says so.
        assert!(
            m.summary.warnings.iter().any(|w| w.contains("pauses")),
            "{what}, seed {seed}: {:?}",
            m.summary.warnings
        );
    }
}

#[test]
fn a_dozen_instances_with_atspi_elements_are_found_with_no_option_set() {
    check(true);
}

#[test]
fn a_dozen_instances_without_elements_are_found_from_click_positions() {
    check(false);
}

#[test]
fn a_handful_of_instances_is_reported_as_thin_evidence() {
    let (store, _) = recording(5, true, 7);
    let (_, m) = mine(&store, &Options::default(), &mut NoProgress).unwrap();
    assert!(!m.routines.is_empty());
    assert!(
        m.summary
            .warnings
            .iter()
            .any(|w| w.contains("fewer than 10 instances")),
        "{:?}",
        m.summary.warnings
    );
}
