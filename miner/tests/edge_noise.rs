//! Instances performed back to back without telling pauses, where the person often wanders off
//! between two of them (a glance at the mail: focus it, click a message, come back): that noise
//! gathers at the edges of instances and must stay out of them, while a variant's step at the edge
//! (a few instances end by printing the form) stays in.

use miner::eval::evaluate;
use miner::{mine, NoProgress, Options};
use uilog::{Element, Event, EventKind, GroundTruth, Store, TruthInstance, TruthRoutine};

const T0: i64 = 1_764_000_000_000_000;

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
    /// 0.3–3 s, between steps and between instances alike.
    fn pause(&mut self) -> i64 {
        300_000 + (self.next() % 2_700_000) as i64
    }
}

fn el(role: &str, name: &str) -> Option<Element> {
    Some(Element {
        role: Some(role.into()),
        name: Some(name.into()),
        ..Element::default()
    })
}

/// `instances` expense records; before each instance but the first, a detour to the mail with
/// `detour_pct` % chance; `print_pct` % of the instances end by printing the form.
fn recording(instances: usize, seed: u64, detour_pct: u64, print_pct: u64) -> (Store, GroundTruth) {
    let mut rng = Lcg(seed);
    let mut store = Store::open_in_memory().unwrap();
    let mut truth = GroundTruth::new("edge noise");
    truth.routines.push(TruthRoutine {
        id: 1,
        name: "enter an expense".into(),
        ..Default::default()
    });
    let (x, w) = ("excel", "expenses.xlsx - Excel");
    let (b, f) = ("chromium", "New expense - Chromium");
    let (m, i) = ("thunderbird", "Inbox - Mail");
    let mut ts = T0;
    store
        .write_batch(None, "test", |sink| -> uilog::Result<()> {
            let mut push = |kind, app: &str, window: &str, element, ts: &mut i64, rng: &mut Lcg| {
                let mut e = Event::new("monday", "clerk", *ts, kind);
                e.app = app.into();
                e.window = window.into();
                e.element = element;
                let at = *ts;
                *ts += rng.pause();
                sink.push(&e).map(|_| at)
            };
            for k in 0..instances {
                if k > 0 && rng.next() % 100 < detour_pct {
                    push(EventKind::Focus, m, i, None, &mut ts, &mut rng)?;
                    let message = if rng.next() % 2 == 0 {
                        "Lunch?"
                    } else {
                        "Minutes"
                    };
                    push(
                        EventKind::Click,
                        m,
                        i,
                        el("tree item", message),
                        &mut ts,
                        &mut rng,
                    )?;
                    if rng.next() % 2 == 0 {
                        push(EventKind::Scroll, m, i, None, &mut ts, &mut rng)?;
                    }
                }
                let mut stamps = vec![
                    push(EventKind::Focus, x, w, None, &mut ts, &mut rng)?,
                    push(
                        EventKind::Click,
                        x,
                        w,
                        el("table cell", "A"),
                        &mut ts,
                        &mut rng,
                    )?,
                    push(
                        EventKind::Copy,
                        x,
                        w,
                        el("table cell", "A"),
                        &mut ts,
                        &mut rng,
                    )?,
                    push(EventKind::Focus, b, f, None, &mut ts, &mut rng)?,
                    push(
                        EventKind::Paste,
                        b,
                        f,
                        el("entry", "Payee"),
                        &mut ts,
                        &mut rng,
                    )?,
                    push(
                        EventKind::Click,
                        b,
                        f,
                        el("entry", "Amount"),
                        &mut ts,
                        &mut rng,
                    )?,
                    push(
                        EventKind::Type,
                        b,
                        f,
                        el("entry", "Amount"),
                        &mut ts,
                        &mut rng,
                    )?,
                    push(
                        EventKind::Click,
                        b,
                        f,
                        el("push button", "Submit"),
                        &mut ts,
                        &mut rng,
                    )?,
                ];
                if rng.next() % 100 < print_pct {
                    stamps.push(push(
                        EventKind::Click,
                        b,
                        f,
                        el("push button", "Print"),
                        &mut ts,
                        &mut rng,
                    )?);
                }
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

#[test]
fn detours_between_instances_stay_out_and_a_variants_last_step_stays_in() {
    for seed in [1, 2, 3] {
        let (store, truth) = recording(80, seed, 40, 12);
        let printed = truth
            .instances
            .iter()
            .filter(|t| t.events.len() == 9)
            .count();
        assert!(printed >= 4, "seed {seed}: {printed} printed");
        let (log, m) = mine(&store, &Options::default(), &mut NoProgress).unwrap();
        let e = evaluate(&log, &m, &truth);
        eprintln!(
            "seed {seed}: routines {}, boundary P {:.3} R {:.3} ({} of {} found, {} true)",
            m.routines.len(),
            e.boundaries.precision,
            e.boundaries.recall,
            e.boundaries.correct,
            e.boundaries.found,
            e.boundaries.truth
        );
        assert_eq!(e.routines.f1, 1.0, "seed {seed}");
        // No instance takes in the mail: its actions are nowhere inside one.
        for r in &m.routines {
            for inst in &r.instances {
                let (a, b) = inst.span;
                let mail = log.events[a as usize..=b as usize]
                    .iter()
                    .filter(|e| log.actions[e.action as usize].app == "thunderbird")
                    .count();
                assert_eq!(mail, 0, "seed {seed}: an instance holds {mail} mail events");
            }
        }
        // Every printed instance ends with its print.
        let ends: std::collections::BTreeSet<i64> = m
            .routines
            .iter()
            .flat_map(|r| &r.instances)
            .map(|i| i.end_ts)
            .collect();
        for t in truth.instances.iter().filter(|t| t.events.len() == 9) {
            assert!(
                ends.contains(t.events.last().unwrap()),
                "seed {seed}: instance {} ends without its print",
                t.id
            );
        }
        assert!(
            e.boundaries.f1 >= 0.95,
            "seed {seed}: {:.3}",
            e.boundaries.f1
        );
    }
}
