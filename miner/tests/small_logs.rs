//! Each stage on small hand-written logs, checked exactly.

use miner::{mine, NoProgress, Options};
use miner::{segment, SegmentOptions};
use uilog::{Element, Event, EventKind, Store, ValueHash};

const T0: i64 = 1_764_000_000_000_000; // 2025-11-24T16:00:00Z
const S: i64 = 1_000_000;

/// One step of a hand-written routine: kind, app, title, element name, typed/copied value.
type Step = (
    EventKind,
    &'static str,
    String,
    Option<&'static str>,
    Option<u64>,
);

fn step(
    kind: EventKind,
    app: &'static str,
    title: &str,
    el: Option<&'static str>,
    value: Option<u64>,
) -> Step {
    (kind, app, title.to_owned(), el, value)
}

/// Invoice routine: look at the invoice, copy its amount, book it in the ERP, optionally check, save.
fn invoice(n: u64, check: bool) -> Vec<Step> {
    use EventKind::*;
    let mut v = vec![
        step(Focus, "mail", "Inbox - Mail", None, None),
        step(
            Copy,
            "mail",
            &format!("Invoice {n} - Mail"),
            Some("amount"),
            Some(n),
        ),
        step(Focus, "erp", "ERP - New booking", None, None),
        step(Paste, "erp", "ERP - New booking", Some("amount"), Some(n)),
    ];
    if check {
        v.push(step(Click, "erp", "ERP - New booking", Some("Check"), None));
    }
    v.push(step(Click, "erp", "ERP - New booking", Some("Save"), None));
    v
}

/// Report routine: open the dashboard, refresh, type a note that differs each time.
fn report(note: u64) -> Vec<Step> {
    use EventKind::*;
    vec![
        step(Focus, "browser", "Dashboard - Browser", None, None),
        step(
            Click,
            "browser",
            "Dashboard - Browser",
            Some("Refresh"),
            None,
        ),
        step(
            Type,
            "browser",
            "Dashboard - Browser",
            Some("note"),
            Some(note),
        ),
    ]
}

/// Writes the instances of each (session, user) as events 2 s apart, with `gap` seconds between
/// instances.
fn store(plan: &[(&str, &str, Vec<Vec<Step>>)], gap: i64) -> Store {
    store_at(plan, gap, &vec![0; plan.len()])
}

/// Like `store`, with the sessions starting `offsets[i]` seconds after T0.
fn store_at(plan: &[(&str, &str, Vec<Vec<Step>>)], gap: i64, offsets: &[i64]) -> Store {
    let mut store = Store::open_in_memory().unwrap();
    store
        .write_batch(None, "test", |sink| -> uilog::Result<()> {
            for ((session, user, instances), offset) in plan.iter().zip(offsets) {
                let mut ts = T0 + offset * S;
                for inst in instances {
                    for (kind, app, title, el, value) in inst {
                        let mut e = Event::new(session, user, ts, *kind);
                        e.app = app.to_string();
                        e.window = title.clone();
                        e.element = el.map(|n| Element {
                            role: Some("field".into()),
                            name: Some(n.into()),
                            ..Element::default()
                        });
                        e.value_hash = value.map(ValueHash);
                        sink.push(&e)?;
                        ts += 2 * S;
                    }
                    ts += gap * S;
                }
            }
            Ok(())
        })
        .unwrap();
    store
}

fn plan() -> Vec<(&'static str, &'static str, Vec<Vec<Step>>)> {
    vec![
        (
            "s1",
            "u1",
            vec![
                invoice(1001, false),
                invoice(1002, true),
                report(1),
                invoice(1003, false),
                invoice(1004, true),
                invoice(1005, false),
            ],
        ),
        ("s2", "u2", vec![report(2), report(3)]),
    ]
}

fn options() -> Options {
    let mut o = Options::default();
    o.discovery.min_support = Some(2);
    o
}

#[test]
fn abstraction_templates_titles_and_interns_actions() {
    let st = store(&plan(), 600);
    let (_, m) = mine(&st, &options(), &mut NoProgress).unwrap();
    let labels: Vec<(String, u64)> = m.actions.iter().map(|a| (a.label(), a.events)).collect();
    assert_eq!(
        labels,
        [
            // Actions are ordered by kind, then app (as the store interned them), title and element
            // template text.
            (
                "click erp \"ERP - New booking\" field \"Check\"".to_owned(),
                2
            ),
            (
                "click erp \"ERP - New booking\" field \"Save\"".to_owned(),
                5
            ),
            (
                "click browser \"Dashboard - Browser\" field \"Refresh\"".to_owned(),
                3
            ),
            (
                "type browser \"Dashboard - Browser\" field \"note\"".to_owned(),
                3
            ),
            (
                "copy mail \"Invoice <n> - Mail\" field \"amount\"".to_owned(),
                5
            ),
            (
                "paste erp \"ERP - New booking\" field \"amount\"".to_owned(),
                5
            ),
            ("focus mail \"Inbox - Mail\"".to_owned(), 5),
            ("focus erp \"ERP - New booking\"".to_owned(), 5),
            ("focus browser \"Dashboard - Browser\"".to_owned(), 3),
        ]
    );
}

#[test]
fn idle_gaps_and_sessions_cut_segments() {
    let st = store(&plan(), 600);
    let log = miner::Log::load(&st, &Default::default(), &mut NoProgress).unwrap();
    let seg = segment(&log, &SegmentOptions::default());
    let lens: Vec<u32> = seg.segments.iter().map(|s| s.end - s.start).collect();
    assert_eq!(lens, [5, 6, 3, 5, 6, 5, 3, 3]);
    // The first actions of the instances are the learned starts.
    let starts: Vec<String> = seg
        .start_actions
        .iter()
        .map(|&a| log.actions[a as usize].label())
        .collect();
    assert_eq!(
        starts,
        [
            "focus mail \"Inbox - Mail\"",
            "focus browser \"Dashboard - Browser\""
        ]
    );
}

#[test]
fn learned_starts_cut_a_stream_without_pauses() {
    let st = store(&plan(), 0);
    let log = miner::Log::load(&st, &Default::default(), &mut NoProgress).unwrap();
    let seg = segment(&log, &SegmentOptions::default());
    let lens: Vec<u32> = seg.segments.iter().map(|s| s.end - s.start).collect();
    assert_eq!(lens, [5, 6, 3, 5, 6, 5, 3, 3]);
    let without = segment(
        &log,
        &SegmentOptions {
            learned_starts: false,
            ..SegmentOptions::default()
        },
    );
    assert_eq!(
        without.segments.len(),
        2,
        "only the session change cuts without learned starts"
    );
}

#[test]
fn routines_variants_users_data_flows_and_scores() {
    for gap in [600, 0] {
        let st = store(&plan(), gap);
        let (_, m) = mine(&st, &options(), &mut NoProgress).unwrap();
        assert_eq!(m.routines.len(), 2, "gap {gap}");
        let inv = &m.routines[0];
        assert_eq!(
            inv.labels,
            [
                "focus mail \"Inbox - Mail\"",
                "copy mail \"Invoice <n> - Mail\" field \"amount\"",
                "focus erp \"ERP - New booking\"",
                "paste erp \"ERP - New booking\" field \"amount\"",
                "click erp \"ERP - New booking\" field \"Save\"",
            ]
        );
        let check = m
            .actions
            .iter()
            .find(|a| a.element.contains("Check"))
            .unwrap()
            .id;
        let variants: Vec<(usize, u64)> = inv
            .variants
            .iter()
            .map(|v| (v.steps.len(), v.count))
            .collect();
        assert_eq!(variants, [(5, 3), (6, 2)]);
        assert!(inv.variants[1].steps.contains(&check));
        let spans: Vec<(u32, i64)> = inv
            .instances
            .iter()
            .map(|i| (i.events, i.end_ts - i.start_ts))
            .collect();
        assert_eq!(
            spans,
            [(5, 8 * S), (6, 10 * S), (5, 8 * S), (6, 10 * S), (5, 8 * S)]
        );
        assert_eq!(inv.users.len(), 1);
        assert_eq!(inv.data_flows.len(), 1);
        let f = &inv.data_flows[0];
        assert_eq!(
            (
                m.actions[f.from as usize].kind,
                m.actions[f.to as usize].kind
            ),
            (EventKind::Copy, EventKind::Paste)
        );
        assert_eq!((f.via.as_str(), f.instances), ("copy_paste", 5));

        let s = &inv.score;
        // The log covers less than a day, which counts as one day: 5 instances a day = 35 a week.
        assert_eq!(s.instances, 5);
        assert!((s.instances_per_week - 35.0).abs() < 1e-9);
        assert_eq!((s.median_duration_s, s.p90_duration_s), (8.0, 10.0));
        assert_eq!(s.variants, 2);
        assert!((s.dominant_variant_share - 0.6).abs() < 1e-12);
        let entropy = -(0.6f64 * 0.6f64.ln() + 0.4 * 0.4f64.ln());
        assert!((s.variant_entropy_standardization - (1.0 - entropy / 5f64.ln())).abs() < 1e-12);
        assert_eq!(s.automatability, 1.0);
        assert!((s.hours_saved_per_month - 35.0 * 52.0 / 12.0 * 8.0 / 3600.0).abs() < 1e-12);

        let rep = &m.routines[1];
        assert_eq!(rep.steps.len(), 3);
        assert_eq!(rep.variants.len(), 1);
        let users: Vec<(&str, u64)> = rep
            .users
            .iter()
            .map(|u| (u.user.as_str(), u.instances))
            .collect();
        assert_eq!(users, [("u1", 1), ("u2", 2)]);
        // Typed notes differ every time and were not seen before: one step in three needs a person.
        assert!((rep.score.automatability - 2.0 / 3.0).abs() < 1e-12);
        assert!(rep.data_flows.is_empty());
    }
}

#[test]
fn routines_of_fewer_than_k_users_are_withheld() {
    let st = store(&plan(), 600);
    let mut o = options();
    o.min_users = 2;
    let (_, m) = mine(&st, &o, &mut NoProgress).unwrap();
    assert_eq!(m.withheld, 1);
    assert_eq!(m.routines.len(), 1);
    assert_eq!(m.routines[0].score.users, 2);
}

#[test]
fn mining_is_deterministic() {
    let st = store(&plan(), 0);
    let a = serde_json::to_string(&mine(&st, &options(), &mut NoProgress).unwrap().1).unwrap();
    let b = serde_json::to_string(&mine(&st, &options(), &mut NoProgress).unwrap().1).unwrap();
    assert_eq!(a, b);
}

#[test]
fn a_result_is_stored_in_mining_tables_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.db");
    let st = store(&plan(), 600);
    // Copy the in-memory log into a file: the stored result must live next to the log.
    st.connection()
        .execute("VACUUM INTO ?1", [path.to_str().unwrap()])
        .unwrap();
    let st = Store::open(&path).unwrap();
    assert_eq!(
        miner::results::load_latest(uilog::Conn::from(&st)).unwrap(),
        None
    );
    let (_, m) = mine(&st, &options(), &mut NoProgress).unwrap();
    miner::results::save(uilog::Conn::from(&st), &m).unwrap();
    let mut back = miner::results::load_latest(uilog::Conn::from(&st))
        .unwrap()
        .unwrap();
    let mut want = m.clone();
    want.timings_ms.clear();
    for r in want.routines.iter_mut().chain(back.routines.iter_mut()) {
        for i in &mut r.instances {
            i.span = (0, 0);
        }
    }
    assert_eq!(back, want);
    // The uilog tables are untouched and the store still opens.
    drop(st);
    let st = Store::open(&path).unwrap();
    assert_eq!(st.stats().unwrap().events, 36);
    assert_eq!(
        miner::results::schema_version(uilog::Conn::from(&st)).unwrap(),
        1
    );
}

#[test]
fn newer_mining_tables_are_refused_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.db");
    let st = Store::open(&path).unwrap();
    miner::results::migrate(uilog::Conn::from(&st)).unwrap();
    st.connection()
        .execute(
            "UPDATE mining_meta SET value = '99' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    let err = miner::results::load_latest(uilog::Conn::from(&st))
        .unwrap_err()
        .to_string();
    assert!(err.contains("log.db") && err.contains("99"), "{err}");
}

/// The ground truth of `plan()` as `store()` writes it: routine 1 = invoice, 2 = report.
fn truth_of(plan: &[(&str, &str, Vec<Vec<Step>>)], gap: i64) -> uilog::GroundTruth {
    let mut t = uilog::GroundTruth::new("hand-written");
    for (id, name) in [(1, "invoice"), (2, "report")] {
        t.routines.push(uilog::TruthRoutine {
            id,
            name: name.into(),
            ..Default::default()
        });
    }
    let mut next = 1;
    for (session, user, instances) in plan {
        let mut ts = T0;
        for inst in instances {
            let routine = if inst[0].1 == "mail" { 1 } else { 2 };
            let events: Vec<i64> = (0..inst.len() as i64).map(|k| ts + 2 * S * k).collect();
            ts += 2 * S * inst.len() as i64 + gap * S;
            t.total_events += events.len() as u64;
            t.instances.push(uilog::TruthInstance {
                id: next,
                routine,
                session: session.to_string(),
                user: user.to_string(),
                variant: None,
                events,
            });
            next += 1;
        }
    }
    t
}

#[test]
fn evaluation_of_an_exact_result_is_perfect() {
    let st = store(&plan(), 600);
    let (log, m) = mine(&st, &options(), &mut NoProgress).unwrap();
    let e = miner::eval::evaluate(&log, &m, &truth_of(&plan(), 600));
    assert_eq!(
        (e.routines.found, e.routines.truth, e.routines.correct),
        (2, 2, 2)
    );
    assert_eq!(
        (e.boundaries.found, e.boundaries.truth, e.boundaries.correct),
        (16, 16, 16)
    );
    assert_eq!(e.routines.f1, 1.0);
    // 27 invoice and 9 report events, each labelled with its own task.
    assert_eq!(
        (
            e.event_tasks.found,
            e.event_tasks.truth,
            e.event_tasks.correct
        ),
        (36, 36, 36)
    );
    let pairs: Vec<(u32, u32, f64)> = e
        .matches
        .iter()
        .map(|x| (x.discovered, x.truth, x.jaccard))
        .collect();
    assert_eq!(pairs, [(1, 1, 1.0), (2, 2, 1.0)]);
}

#[test]
fn evaluation_matches_by_jaccard_and_counts_boundaries_by_event() {
    let st = store(&plan(), 600);
    let (log, m) = mine(&st, &options(), &mut NoProgress).unwrap();
    // The truth says the first invoice instance ends after 3 events, and its last 2 events are an
    // instance of a third routine that mining cannot know.
    let mut t = truth_of(&plan(), 600);
    t.routines.push(uilog::TruthRoutine {
        id: 3,
        name: "book".into(),
        ..Default::default()
    });
    let tail = t.instances[0].events.split_off(3);
    t.instances.push(uilog::TruthInstance {
        id: 99,
        routine: 3,
        session: "s1".into(),
        user: "u1".into(),
        variant: None,
        events: tail,
    });
    t.validate().unwrap();
    let e = miner::eval::evaluate(&log, &m, &t);
    // Invoice: 27 events found, 25 true, all 25 in common.
    assert_eq!(e.matches[0].truth, 1);
    assert!((e.matches[0].jaccard - 25.0 / 27.0).abs() < 1e-12);
    assert_eq!(
        (e.routines.found, e.routines.truth, e.routines.correct),
        (2, 3, 2)
    );
    // Every found boundary is a true one (the found end of the first instance is the end of the
    // third routine's instance); two true boundaries (end after event 3, start at event 4) are missed.
    assert_eq!(
        (e.boundaries.found, e.boundaries.truth, e.boundaries.correct),
        (16, 18, 16)
    );
    assert_eq!(e.boundaries.precision, 1.0);
    // The invoice routine is labelled with its majority task (25 of its 27 events), so the 2 events
    // of the third routine inside its first instance get the wrong task.
    assert_eq!(
        (
            e.event_tasks.found,
            e.event_tasks.truth,
            e.event_tasks.correct
        ),
        (36, 36, 34)
    );
}

#[test]
fn event_level_task_labels_count_uncovered_events_as_misses() {
    let st = store(&plan(), 600);
    let (log, mut m) = mine(&st, &options(), &mut NoProgress).unwrap();
    // Drop every instance but the first of the invoice routine: the other invoice events are
    // uncovered, which costs recall and not precision.
    let r = m.routines.iter_mut().find(|r| r.id == 1).unwrap();
    let kept = r.instances[0].events as u64;
    r.instances.truncate(1);
    let e = miner::eval::evaluate(&log, &m, &truth_of(&plan(), 600));
    assert_eq!(e.event_tasks.truth, 36);
    assert_eq!(e.event_tasks.found, kept + 9);
    assert_eq!(e.event_tasks.correct, kept + 9);
    assert_eq!(e.event_tasks.precision, 1.0);
    assert!(e.event_tasks.recall < 1.0);
}

#[test]
fn the_task_graph_has_actions_and_transitions_with_counts_and_mean_times() {
    let st = store(&plan(), 600);
    let (log, m) = mine(&st, &options(), &mut NoProgress).unwrap();
    let g = miner::graph::whole_log(&log, m.summary.idle_gap_secs);
    assert_eq!(g.node_count(), 9);
    // Within instances only: the 600 s pauses are longer than the idle gap.
    let mut edges: Vec<(String, String, u64, f64)> = g
        .edge_indices()
        .map(|e| {
            let (a, b) = g.edge_endpoints(e).unwrap();
            (
                g[a].label.clone(),
                g[b].label.clone(),
                g[e].count,
                g[e].mean_s,
            )
        })
        .collect();
    edges.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.cmp(&y.1)));
    let mut short: Vec<(&str, &str, u64)> = edges
        .iter()
        .map(|(a, b, c, _)| {
            (
                a.split(' ').next().unwrap(),
                b.split(' ').next().unwrap(),
                *c,
            )
        })
        .collect();
    short.sort();
    assert_eq!(
        short,
        [
            ("click", "click", 2),
            ("click", "type", 3),
            ("copy", "focus", 5),
            ("focus", "click", 3),
            ("focus", "copy", 5),
            ("focus", "paste", 5),
            ("paste", "click", 2),
            ("paste", "click", 3),
        ]
    );
    assert!(edges.iter().all(|e| e.3 == 2.0));
    let dot = miner::graph::to_dot(&g);
    let focus_mail = m
        .actions
        .iter()
        .find(|a| a.label() == "focus mail \"Inbox - Mail\"")
        .unwrap()
        .id;
    let copy = m
        .actions
        .iter()
        .find(|a| a.kind == EventKind::Copy)
        .unwrap()
        .id;
    assert!(
        dot.contains(&format!(
            "  a{focus_mail} -> a{copy} [label=\"5 × 2.0 s\"];\n"
        )),
        "{dot}"
    );
    let json = miner::graph::to_json(&g);
    assert_eq!(json["edges"].as_array().unwrap().len(), 8);
    assert_eq!(json["nodes"].as_array().unwrap().len(), 9);

    let inv = &m.routines[0];
    let rg = miner::graph::of_routine(&log, inv);
    assert_eq!((rg.node_count(), rg.edge_count()), (6, 6));
}

#[test]
fn an_empty_log_gives_no_routine_and_bad_options_are_named() {
    let st = Store::open_in_memory().unwrap();
    let (log, m) = mine(&st, &options(), &mut NoProgress).unwrap();
    assert!(log.events.is_empty());
    assert_eq!(
        (m.summary.events, m.summary.segments, m.routines.len()),
        (0, 0, 0)
    );

    let mut o = options();
    o.discovery.min_support = Some(0);
    let err = mine(&st, &o, &mut NoProgress).unwrap_err().to_string();
    assert!(err.contains("discovery.min_support"), "{err}");
    let mut o = options();
    o.segment.idle_gap_secs = Some(-1.0);
    let err = mine(&st, &o, &mut NoProgress).unwrap_err().to_string();
    assert!(err.contains("segment.idle_gap_secs"), "{err}");
}

#[test]
fn a_users_interleaved_sessions_are_mined_as_one_stream() {
    // One user on two hosts: the sessions take turns, one instance at a time, 600 s apart.
    let plan = vec![
        (
            "host-a",
            "u1",
            vec![
                invoice(1001, false),
                invoice(1002, true),
                invoice(1003, false),
            ],
        ),
        (
            "host-b",
            "u1",
            vec![invoice(1004, true), invoice(1005, false), report(1)],
        ),
        ("s2", "u2", vec![report(2), report(3)]),
    ];
    let st = store_at(&plan, 1200, &[0, 600, 0]);
    let (log, m) = mine(&st, &options(), &mut NoProgress).unwrap();
    // The user's events are in time order across both sessions.
    let u1: Vec<&miner::Ev> = log
        .events
        .iter()
        .filter(|e| log.user_name(log.user_of(e)) == "u1")
        .collect();
    assert!(u1.windows(2).all(|w| w[0].ts <= w[1].ts));
    let sessions: Vec<&str> = u1.iter().map(|e| log.session_name(e.session)).collect();
    assert_eq!(
        sessions.iter().filter(|s| **s == "host-b").count(),
        6 + 5 + 3
    );
    assert_eq!(m.routines.len(), 2);
    let inv = &m.routines[0];
    assert_eq!(inv.score.instances, 5);
    let per_session: Vec<&str> = inv.instances.iter().map(|i| i.session.as_str()).collect();
    assert_eq!(
        per_session,
        ["host-a", "host-b", "host-a", "host-b", "host-a"]
    );
    assert_eq!(inv.users.len(), 1);
    assert_eq!(inv.users[0].instances, 5);
}
