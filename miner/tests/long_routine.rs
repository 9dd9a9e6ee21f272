//! A long routine with repeated inner blocks, performed back to back without telling pauses: copy a
//! cell in a workbook, paste it into a form field and edit it, ten times with different fields, then
//! submit: 62 steps an instance. It must come out as one routine, not as its blocks.

use miner::eval::evaluate;
use miner::{mine, NoProgress, Options};
use uilog::{
    Element, Event, EventKind, GroundTruth, Store, TruthInstance, TruthRoutine, ValueHash,
};

const T0: i64 = 1_764_000_000_000_000;
const FIELDS: [&str; 10] = [
    "First name",
    "Last name",
    "Date of birth",
    "Phone",
    "E-mail",
    "Street",
    "City",
    "Region",
    "Postcode",
    "Country",
];

/// A deterministic generator (64-bit LCG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    /// A pause between two steps, 0.3–3 s. Instances follow each other with a pause drawn the same
    /// way, so no pause marks where one ends.
    fn pause(&mut self) -> i64 {
        300_000 + (self.next() % 2_700_000) as i64
    }
}

/// `noise_pct`: the chance, in percent, that a step is followed by an event of no instance (a scroll,
/// a glance at the mail, a click in a chat), at a random place of the routine.
fn recording(instances: usize, seed: u64, noise_pct: u64) -> (Store, GroundTruth) {
    let mut rng = Lcg(seed);
    let mut store = Store::open_in_memory().unwrap();
    let mut truth = GroundTruth::new("long routine");
    truth.routines.push(TruthRoutine {
        id: 1,
        name: "enter a student record".into(),
        ..Default::default()
    });
    let mut ts = T0;
    store
        .write_batch(None, "test", |sink| -> uilog::Result<()> {
            for k in 0..instances {
                let row = k + 2;
                let mut stamps = Vec::new();
                let mut step = |kind: EventKind,
                                app: &str,
                                window: &str,
                                element: Option<Element>,
                                value: Option<u64>,
                                ts: &mut i64,
                                rng: &mut Lcg|
                 -> uilog::Result<()> {
                    let mut e = Event::new("monday", "clerk", *ts, kind);
                    e.app = app.into();
                    e.window = window.into();
                    e.element = element;
                    e.value_hash = value.map(ValueHash);
                    stamps.push(*ts);
                    *ts += rng.pause();
                    sink.push(&e)?;
                    if rng.next() % 100 < noise_pct {
                        let (kind, app, window) = match rng.next() % 3 {
                            0 => (EventKind::Scroll, "chromium", "New student - Chromium"),
                            1 => (EventKind::Focus, "thunderbird", "Inbox - Mail"),
                            _ => (EventKind::Click, "slack", "general - Slack"),
                        };
                        let mut n = Event::new("monday", "clerk", *ts, kind);
                        n.app = app.into();
                        n.window = window.into();
                        *ts += rng.pause();
                        sink.push(&n)?;
                    }
                    Ok(())
                };
                let field = |name: &str| {
                    Some(Element {
                        role: Some("entry".into()),
                        name: Some(name.into()),
                        ..Element::default()
                    })
                };
                for (f, name) in FIELDS.iter().enumerate() {
                    let cell = Some(Element {
                        role: Some("table cell".into()),
                        id: Some(format!("{}{row}", (b'A' + f as u8) as char)),
                        ..Element::default()
                    });
                    let value = 1_000 * k as u64 + f as u64 + 1;
                    let (x, w) = ("excel", "students.xlsx - Excel");
                    let (b, p) = ("chromium", "New student - Chromium");
                    step(EventKind::Focus, x, w, None, None, &mut ts, &mut rng)?;
                    step(
                        EventKind::Click,
                        x,
                        w,
                        cell.clone(),
                        None,
                        &mut ts,
                        &mut rng,
                    )?;
                    step(EventKind::Copy, x, w, cell, Some(value), &mut ts, &mut rng)?;
                    step(EventKind::Focus, b, p, None, None, &mut ts, &mut rng)?;
                    step(
                        EventKind::Paste,
                        b,
                        p,
                        field(name),
                        Some(value),
                        &mut ts,
                        &mut rng,
                    )?;
                    step(
                        EventKind::Type,
                        b,
                        p,
                        field(name),
                        Some(value + 500),
                        &mut ts,
                        &mut rng,
                    )?;
                }
                let button = |name: &str| {
                    Some(Element {
                        role: Some("push button".into()),
                        name: Some(name.into()),
                        ..Element::default()
                    })
                };
                let p = "New student - Chromium";
                step(
                    EventKind::Click,
                    "chromium",
                    p,
                    button("Submit"),
                    None,
                    &mut ts,
                    &mut rng,
                )?;
                step(
                    EventKind::Click,
                    "chromium",
                    p,
                    button("New record"),
                    None,
                    &mut ts,
                    &mut rng,
                )?;
                truth.total_events += stamps.len() as u64;
                truth.instances.push(TruthInstance {
                    id: k as u64 + 1,
                    routine: 1,
                    session: "monday".into(),
                    user: "clerk".into(),
                    variant: None,
                    events: stamps,
                });
            }
            Ok(())
        })
        .unwrap();
    (store, truth)
}

fn check(noise_pct: u64, min_boundary_f1: f64) {
    for seed in [1, 2, 3] {
        let (store, truth) = recording(50, seed, noise_pct);
        assert_eq!(truth.instances[0].events.len(), 62);
        let (log, m) = mine(&store, &Options::default(), &mut NoProgress).unwrap();
        let e = evaluate(&log, &m, &truth);
        eprintln!(
            "noise {noise_pct} %, seed {seed}: routines {} (F1 {:.3}), boundary F1 {:.3} ({} of {} found, {} true), steps {:?}",
            m.routines.len(),
            e.routines.f1,
            e.boundaries.f1,
            e.boundaries.correct,
            e.boundaries.found,
            e.boundaries.truth,
            m.routines.iter().map(|r| r.steps.len()).collect::<Vec<_>>()
        );
        assert_eq!(e.routines.f1, 1.0, "seed {seed}");
        if noise_pct == 0 {
            assert_eq!(m.routines[0].steps.len(), 62, "seed {seed}");
        }
        assert!(
            e.boundaries.f1 >= min_boundary_f1,
            "seed {seed}: {:.3}",
            e.boundaries.f1
        );
    }
}

#[test]
fn a_62_step_routine_of_ten_repeated_blocks_is_kept_whole() {
    check(0, 0.95);
}

#[test]
fn a_62_step_routine_is_kept_whole_among_ten_percent_noise() {
    // The instances are found; the pattern search stops at its work budget before the routine's
    // last steps (see miner/README.md), so the number of steps is not checked here.
    check(10, 0.90);
}
