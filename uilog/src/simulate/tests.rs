use std::collections::{HashMap, HashSet};

use super::config::{DAY, MAX_TYPING_S};
use super::routine::compile_catalogue;
use super::run::working_days;
use super::*;
use crate::error::{Error, Result};
use crate::event::{Event, EventKind, Micros, ValueHash};
use crate::store::Store;
use crate::truth::GroundTruth;

fn small(seed: u64) -> Config {
    Config {
        seed,
        users: 3,
        days: 2,
        ..Config::default()
    }
}

fn run(cfg: &Config) -> (Vec<Event>, GroundTruth) {
    simulate_to_vec(cfg).unwrap()
}

/// The events of the log by (session, ts).
fn by_key(events: &[Event]) -> HashMap<(&str, Micros), &Event> {
    events
        .iter()
        .map(|e| ((e.session.as_str(), e.ts), e))
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_log_and_a_different_seed_another() {
    let (a, ta) = run(&small(7));
    let (b, tb) = run(&small(7));
    assert_eq!(a, b);
    assert_eq!(ta, tb);
    let (c, tc) = run(&small(8));
    assert_ne!(a, c);
    assert_ne!(ta.instances, tc.instances);
}

#[test]
fn timestamps_strictly_increase_within_a_session_and_sessions_are_contiguous() {
    let (events, _) = run(&small(1));
    let mut done: HashSet<&str> = HashSet::new();
    for w in events.windows(2) {
        if w[0].session == w[1].session {
            assert!(w[1].ts > w[0].ts, "{:?} then {:?}", w[0], w[1]);
        } else {
            assert!(
                done.insert(&w[0].session),
                "session {} appears twice",
                w[0].session
            );
        }
    }
    assert!(!done.contains(events.last().unwrap().session.as_str()));
}

#[test]
fn every_instance_event_is_in_the_log_in_order_and_the_counts_add_up() {
    let cfg = Config {
        noise: 0.1,
        ..small(3)
    };
    let (events, truth) = run(&cfg);
    truth.validate().unwrap();
    let log = by_key(&events);
    assert_eq!(
        log.len(),
        events.len(),
        "(session, ts) must identify an event"
    );
    let mut in_instances = 0;
    for inst in &truth.instances {
        let routine = truth.routine(inst.routine).unwrap();
        assert!(inst.events.windows(2).all(|w| w[0] < w[1]));
        for ts in &inst.events {
            let e = log
                .get(&(inst.session.as_str(), *ts))
                .unwrap_or_else(|| panic!("instance {} names a missing event", inst.id));
            assert_eq!(e.user, inst.user);
            assert!(!matches!(e.kind, EventKind::IdleStart | EventKind::IdleEnd));
        }
        if inst.variant.is_none() {
            assert_eq!(
                inst.events.len(),
                routine.steps.len(),
                "a dominant instance has one event per step"
            );
        }
        in_instances += inst.events.len() as u64;
    }
    assert_eq!(truth.total_events, events.len() as u64);
    let idle = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::IdleStart | EventKind::IdleEnd))
        .count() as u64;
    assert_eq!(truth.idle_events, idle);
    assert!(
        idle >= 2 * cfg.users as u64 * cfg.days as u64,
        "every day has a lunch break"
    );
    assert_eq!(
        truth.noise_events,
        events.len() as u64 - idle - in_instances
    );
    assert!(
        events.iter().all(|e| e.case.is_none()),
        "the simulator never hands out the answer"
    );
}

#[test]
fn noise_share_follows_the_config_and_noise_falls_inside_instances_too() {
    for noise in [0.0, 0.1, 0.25] {
        let cfg = Config {
            noise,
            users: 8,
            ..small(11)
        };
        let (events, truth) = run(&cfg);
        let share = truth.noise_events as f64 / (truth.total_events - truth.idle_events) as f64;
        assert!(
            (share - noise).abs() < 0.015,
            "noise {noise}: measured {share}"
        );
        let index = truth.index();
        let inside = truth
            .instances
            .iter()
            .map(|inst| {
                let (a, b) = inst.span().unwrap();
                events
                    .iter()
                    .filter(|e| e.session == inst.session && e.ts > a && e.ts < b)
                    .filter(|e| index.instance_of(&e.session, e.ts).is_none())
                    .count()
            })
            .sum::<usize>();
        if noise == 0.0 {
            assert_eq!(truth.noise_events, 0);
            assert_eq!(inside, 0);
        } else {
            assert!(
                inside as u64 > truth.noise_events / 4,
                "noise {noise}: {inside} inside instances"
            );
            assert!((inside as u64) < truth.noise_events);
        }
    }
}

#[test]
fn no_idle_marker_falls_inside_an_instance() {
    let (events, truth) = run(&Config {
        noise: 0.1,
        ..small(5)
    });
    for inst in &truth.instances {
        let (a, b) = inst.span().unwrap();
        assert!(!events.iter().any(|e| e.session == inst.session
            && e.ts > a
            && e.ts < b
            && matches!(e.kind, EventKind::IdleStart | EventKind::IdleEnd)));
    }
}

#[test]
fn pasted_values_were_copied_earlier_in_the_same_instance_and_differ_between_instances() {
    let (events, truth) = run(&small(9));
    let log = by_key(&events);
    // Per routine, the values each instance copied: single values may repeat (two new hires can
    // share a first name), the set of them rarely does.
    let mut copies: HashMap<u32, Vec<Vec<ValueHash>>> = HashMap::new();
    let mut pastes = 0;
    for inst in &truth.instances {
        let mut copied: HashMap<ValueHash, &str> = HashMap::new();
        let mut all = Vec::new();
        for ts in &inst.events {
            let e = log[&(inst.session.as_str(), *ts)];
            match e.kind {
                EventKind::Copy => {
                    let h = e.value_hash.unwrap();
                    assert_eq!(
                        h,
                        ValueHash::keyed(&ValueHash::IMPORT_KEY, e.text.as_deref().unwrap())
                    );
                    copied.insert(h, e.app.as_str());
                    all.push(h);
                }
                EventKind::Paste => {
                    let h = e.value_hash.unwrap();
                    let from = copied.get(&h).unwrap_or_else(|| {
                        panic!("instance {}: paste of a value not copied before", inst.id)
                    });
                    assert_ne!(*from, e.app, "copied and pasted in the same app");
                    pastes += 1;
                }
                EventKind::Type => assert!(e.value_hash.is_some() && e.text.is_some()),
                _ => {}
            }
        }
        if !all.is_empty() {
            copies.entry(inst.routine).or_default().push(all);
        }
    }
    assert!(pastes > 50);
    assert!(copies.len() >= 5);
    for (routine, hashes) in copies {
        let distinct = hashes.iter().collect::<HashSet<_>>().len();
        assert!(
            distinct as f64 >= 0.9 * hashes.len() as f64,
            "routine {routine}: {distinct} of {}",
            hashes.len()
        );
    }
}

#[test]
fn variants_follow_the_config_and_are_declared_by_their_routine() {
    let (_, truth) = run(&Config {
        variant_steps: 0.0,
        ..small(2)
    });
    assert!(truth.instances.iter().all(|i| i.variant.is_none()));

    let (_, truth) = run(&Config {
        variant_steps: 0.3,
        users: 6,
        ..small(2)
    });
    let deviating = truth
        .instances
        .iter()
        .filter(|i| i.variant.is_some())
        .count();
    let share = deviating as f64 / truth.instances.len() as f64;
    assert!((share - 0.3).abs() < 0.05, "{share}");
    for inst in &truth.instances {
        if let Some(v) = &inst.variant {
            let routine = truth.routine(inst.routine).unwrap();
            assert!(
                routine.variants.iter().any(|d| &d.name == v),
                "{v} not declared"
            );
        }
    }
}

#[test]
fn every_configured_routine_occurs_and_sessions_and_users_are_named_as_documented() {
    let cfg = Config {
        routines: catalogue_len(),
        users: 12,
        days: 1,
        ..Config::default()
    };
    let (events, truth) = run(&cfg);
    let seen: HashSet<u32> = truth.instances.iter().map(|i| i.routine).collect();
    assert_eq!(seen.len(), catalogue_len());
    assert_eq!(events[0].session, "u01-2026-11-23");
    assert_eq!(events[0].user, "user-01");
    assert_eq!(events[0].host, "host-01");
    let users: HashSet<&str> = events.iter().map(|e| e.user.as_str()).collect();
    assert_eq!(users.len(), 12);
    assert!(users.contains("user-12"));
}

#[test]
fn weekends_are_skipped() {
    let days = working_days(DEFAULT_START, 7);
    let dates: Vec<&str> = days.iter().map(|d| d.1.as_str()).collect();
    assert_eq!(dates[4], "2026-11-27");
    assert_eq!(dates[5], "2026-11-30");
    assert_eq!(days[5].0 - days[4].0, 3 * DAY);
}

#[test]
fn the_catalogue_is_large_and_its_routines_are_distinguishable() {
    let all = catalogue();
    assert!(all.len() >= 8);
    let dominant: HashSet<&Vec<String>> = all.iter().map(|r| &r.steps).collect();
    assert_eq!(dominant.len(), all.len());
    for r in &all {
        assert!(r.steps.len() >= 4, "{}", r.name);
        assert!(!r.variants.is_empty(), "{} has no variants", r.name);
        let names: HashSet<&str> = r.variants.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            names.len(),
            r.variants.len(),
            "{}: variant names repeat",
            r.name
        );
    }
    // Realism: several routines start the same way, but no two share their first three steps.
    let starts: HashSet<&[String]> = all.iter().map(|r| &r.steps[..3]).collect();
    assert_eq!(starts.len(), all.len());
    let first: HashSet<&String> = all.iter().map(|r| &r.steps[0]).collect();
    assert!(first.len() < all.len());
}

#[test]
fn the_truth_round_trips_through_json_with_the_config_to_regenerate_it() {
    let cfg = small(4);
    let (_, truth) = run(&cfg);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("truth.json");
    truth.write(&path).unwrap();
    let back = GroundTruth::read(&path).unwrap();
    assert_eq!(back, truth);
    let again: Config = serde_json::from_value(back.config.unwrap()).unwrap();
    assert_eq!(again, cfg);
}

#[test]
fn events_target_sets_the_size_of_the_log() {
    let cfg = Config {
        events_target: Some(60_000),
        days: 2,
        ..Config::default()
    };
    let (events, _) = run(&cfg);
    let n = events.len() as f64;
    assert!((n / 60_000.0 - 1.0).abs() < 0.1, "{n} events");
    assert!(cfg.effective_users() > cfg.users);
}

#[test]
fn a_config_file_names_only_what_it_changes_and_typos_are_refused() {
    let cfg: Config = serde_json::from_str(
        r#"{"seed": 3, "noise": 0.1, "instances_per_day": {"min": 2, "max": 4}}"#,
    )
    .unwrap();
    assert_eq!(cfg.seed, 3);
    assert_eq!(cfg.users, Config::default().users);
    assert_eq!(cfg.instances_per_day, CountRange { min: 2, max: 4 });
    assert!(serde_json::from_str::<Config>(r#"{"nosie": 0.1}"#).is_err());

    // The form `taskmine simulate --config` reads.
    let yaml = "seed: 7\nusers: 4\nthink_time: { min: 0.5, max: 4.0 }\nevents_target: 50000\n";
    let cfg: Config = serde_norway::from_str(yaml).unwrap();
    assert_eq!(cfg.think_time, SecondsRange { min: 0.5, max: 4.0 });
    assert_eq!(cfg.events_target, Some(50_000));
    assert_eq!(cfg.lunch, Config::default().lunch);
    let err = serde_norway::from_str::<Config>("gap: { min: 1 }\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("max"), "{err}");
}

#[test]
fn invalid_configs_are_refused_naming_the_field() {
    let cases: Vec<(Config, &str)> = vec![
        (
            Config {
                noise: 1.5,
                ..Config::default()
            },
            "noise",
        ),
        (
            Config {
                routines: 99,
                ..Config::default()
            },
            "routines",
        ),
        (
            Config {
                routines: 0,
                ..Config::default()
            },
            "routines",
        ),
        (
            Config {
                days: 0,
                ..Config::default()
            },
            "days",
        ),
        (
            Config {
                users: 0,
                ..Config::default()
            },
            "users",
        ),
        (
            Config {
                variant_steps: -0.1,
                ..Config::default()
            },
            "variant_steps",
        ),
        (
            Config {
                instances_per_day: CountRange { min: 5, max: 2 },
                ..Config::default()
            },
            "instances_per_day",
        ),
        (
            Config {
                gap: SecondsRange { min: 0.0, max: 1.0 },
                ..Config::default()
            },
            "gap",
        ),
        (
            Config {
                idle_after_s: 10.0,
                ..Config::default()
            },
            "idle_after_s",
        ),
        (
            Config {
                start: i64::MAX,
                ..Config::default()
            },
            "start",
        ),
    ];
    for (cfg, field) in cases {
        let err = simulate_to_vec(&cfg).unwrap_err().to_string();
        assert!(err.contains(&format!("`{field}`")), "{field}: {err}");
    }
}

#[test]
fn events_look_like_recorded_ones() {
    let (events, _) = run(&small(6));
    for e in &events {
        match e.kind {
            EventKind::IdleStart | EventKind::IdleEnd => {
                assert!(e.app.is_empty() && e.window.is_empty())
            }
            _ => assert!(
                !e.app.is_empty() && !e.window.is_empty() && !e.window.contains('{'),
                "{e:?}"
            ),
        }
        if let (Some(x), Some(wx)) = (e.x, e.wx) {
            assert!(x >= wx && e.y.unwrap() >= e.wy.unwrap());
        }
        match e.kind {
            EventKind::Shortcut | EventKind::Copy | EventKind::Paste => {
                assert!(e.attrs.contains_key("keys"), "{e:?}")
            }
            EventKind::Click | EventKind::DoubleClick | EventKind::Scroll | EventKind::Drag => {
                assert!(e.wx.is_some(), "{e:?}")
            }
            _ => {}
        }
    }
    assert!(events.iter().any(|e| e
        .attrs
        .get("url")
        .is_some_and(|u| u.starts_with("https://"))));
    assert!(events.iter().any(|e| e.attrs.contains_key("cell")));
    let kinds: HashSet<EventKind> = events.iter().map(|e| e.kind).collect();
    for k in [
        EventKind::Focus,
        EventKind::Click,
        EventKind::DoubleClick,
        EventKind::Type,
        EventKind::Copy,
        EventKind::Paste,
        EventKind::Shortcut,
        EventKind::Scroll,
    ] {
        assert!(kinds.contains(&k), "no {k} events");
    }
}

#[test]
fn simulating_into_the_store_writes_every_event() {
    let mut store = Store::open_in_memory().unwrap();
    let truth = simulate_into_store(
        &Config {
            users: 2,
            days: 1,
            ..Config::default()
        },
        &mut store,
    )
    .unwrap();
    let stats = store.stats().unwrap();
    assert_eq!(stats.events, truth.total_events);
    assert_eq!(stats.sessions, 2);
    let index = truth.index();
    let labelled = store
        .events()
        .unwrap()
        .iter()
        .filter(|e| index.instance_of(&e.session, e.ts).is_some())
        .count() as u64;
    assert_eq!(labelled, truth.instance_events());
}

#[test]
fn an_emit_error_stops_the_simulation() {
    let mut n = 0;
    let err = simulate(&small(1), |_| -> Result<()> {
        n += 1;
        if n == 100 {
            return Err(Error::Invalid("sink full".into()));
        }
        Ok(())
    })
    .unwrap_err();
    assert!(err.to_string().contains("sink full"));
    assert_eq!(n, 100);
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn any_seed_gives_a_consistent_log(seed in any::<u64>(), noise in 0.0..0.3f64, variants in 0.0..1.0f64) {
            let cfg = Config { seed, noise, variant_steps: variants, users: 2, days: 1, routines: catalogue_len(), ..Config::default() };
            let (events, truth) = simulate_to_vec(&cfg).unwrap();
            prop_assert!(truth.validate().is_ok());
            prop_assert_eq!(truth.total_events, events.len() as u64);
            prop_assert!(events.windows(2).all(|w| w[0].session != w[1].session || w[0].ts < w[1].ts));
            let log = by_key(&events);
            for inst in &truth.instances {
                for ts in &inst.events {
                    prop_assert!(log.contains_key(&(inst.session.as_str(), *ts)));
                }
            }
        }
    }
}

#[test]
fn each_instance_has_exactly_the_steps_of_its_variant() {
    let cfg = Config {
        variant_steps: 0.5,
        noise: 0.1,
        routines: catalogue_len(),
        ..small(12)
    };
    let (events, truth) = run(&cfg);
    let log = by_key(&events);
    let routines = compile_catalogue();
    let mut steps = Vec::new();
    for inst in &truth.instances {
        let r = &routines[inst.routine as usize - 1];
        let v = inst
            .variant
            .as_ref()
            .map(|v| r.variations.iter().position(|(n, _)| n == v).unwrap());
        r.expand(v, &mut steps);
        assert_eq!(
            inst.events.len(),
            steps.len(),
            "instance {} ({:?})",
            inst.id,
            inst.variant
        );
        for (ts, step) in inst.events.iter().zip(&steps) {
            let e = log[&(inst.session.as_str(), *ts)];
            assert_eq!(
                (e.kind, e.app.as_str()),
                (step.kind, step.app.name()),
                "instance {}",
                inst.id
            );
        }
    }
}

#[test]
fn noise_forms_no_pattern_as_frequent_as_a_routine() {
    let cfg = Config {
        noise: 0.1,
        users: 10,
        days: 5,
        ..Config::default()
    };
    let (events, truth) = run(&cfg);
    let index = truth.index();
    let label = |e: &Event| {
        let el = e
            .element
            .as_ref()
            .map(|el| (el.role.clone(), el.name.clone()));
        (
            e.kind,
            e.app.clone(),
            e.window.clone(),
            el,
            e.attrs.get("keys").cloned(),
        )
    };
    // Three noise events in a row, within a session, counted by their action.
    let mut triples: HashMap<_, usize> = HashMap::new();
    for w in events.windows(3) {
        let noise = |e: &Event| {
            index.instance_of(&e.session, e.ts).is_none()
                && !matches!(e.kind, EventKind::IdleStart | EventKind::IdleEnd)
        };
        if w.iter().all(|e| e.session == w[0].session && noise(e)) {
            *triples
                .entry((label(&w[0]), label(&w[1]), label(&w[2])))
                .or_insert(0) += 1;
        }
    }
    let most = triples.values().copied().max().unwrap_or(0);
    let mut per_routine: HashMap<u32, usize> = HashMap::new();
    for inst in &truth.instances {
        *per_routine.entry(inst.routine).or_insert(0) += 1;
    }
    let rarest = per_routine.values().copied().min().unwrap();
    assert!(!triples.is_empty());
    assert!(
        most * 10 < rarest,
        "a noise pattern occurs {most} times, the rarest routine {rarest} times"
    );
}

// ---- The configurations of issues 10 and 11 ------------------------------------------------------

/// A bundled simulator configuration from the repository's `examples/`.
fn bundled(name: &str) -> Config {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let cfg: Config = serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    cfg.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
    cfg
}

const BUNDLED: [&str; 5] = [
    "team-week.yaml",
    "sim-short-recording.yaml",
    "sim-long-form.yaml",
    "sim-task-stream.yaml",
    "sim-web-paths.yaml",
];

/// The steps of a path: `(role, name, index)`; the window's frame has no index.
fn path_steps(path: &str) -> Vec<(String, Option<String>, Option<u32>)> {
    path.split(" / ")
        .map(|step| {
            let (head, index) = match step.strip_suffix(']') {
                Some(rest) => {
                    let open = rest.rfind('[').unwrap_or_else(|| panic!("{path}: {step}"));
                    let index: u32 = rest[open + 1..]
                        .parse()
                        .unwrap_or_else(|_| panic!("{path}: {step}"));
                    (&rest[..open], Some(index))
                }
                None => (step, None),
            };
            match head.find(" '") {
                Some(q) => {
                    assert!(head.ends_with('\''), "{path}: {step}");
                    (
                        head[..q].to_owned(),
                        Some(head[q + 2..head.len() - 1].to_owned()),
                        index,
                    )
                }
                None => (head.to_owned(), None, index),
            }
        })
        .collect()
}

#[test]
fn every_bundled_config_parses_validates_and_is_deterministic_by_seed() {
    for name in BUNDLED {
        let cfg = bundled(name);
        if name == "team-week.yaml" {
            continue; // 20,000 events; the default's determinism is tested above.
        }
        let (a, ta) = run(&cfg);
        let (b, tb) = run(&cfg);
        assert_eq!(a, b, "{name}");
        assert_eq!(ta, tb, "{name}");
        ta.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ta.total_events, a.len() as u64, "{name}");
        let (c, _) = run(&Config {
            seed: cfg.seed + 1,
            ..cfg.clone()
        });
        assert_ne!(a, c, "{name}: another seed gives another log");
    }
}

#[test]
fn routine_ids_pick_routines_of_the_catalogue_by_their_ids() {
    let cfg = bundled("sim-task-stream.yaml");
    let (_, truth) = run(&cfg);
    let ids: Vec<u32> = truth.routines.iter().map(|r| r.id).collect();
    assert_eq!(ids, cfg.routine_ids);
    let all = catalogue();
    for r in &truth.routines {
        assert_eq!(r, &all[r.id as usize - 1], "the truth keeps catalogue ids");
    }
    let used: HashSet<u32> = truth.instances.iter().map(|i| i.routine).collect();
    assert_eq!(used.len(), cfg.routine_ids.len());
}

#[test]
fn atspi_elements_have_the_recorders_roles_and_a_path_from_the_window_frame_down() {
    const ROLES: &[&str] = &[
        "push button",
        "entry",
        "combo box",
        "menu item",
        "menu",
        "page tab",
        "table cell",
        "tree item",
        "list item",
        "paragraph",
        "document web",
        "link",
        "heading",
        "image",
    ];
    let cfg = Config {
        elements: ElementStyle::Atspi,
        routines: catalogue_len(),
        noise: 0.1,
        ..small(21)
    };
    let (events, _) = run(&cfg);
    let mut with_id = 0;
    let mut with_element = 0;
    for e in &events {
        let Some(el) = &e.element else { continue };
        with_element += 1;
        let role = el.role.as_deref().unwrap();
        assert!(ROLES.contains(&role), "{role:?} is no AT-SPI role: {e:?}");
        let path = el.path.as_deref().unwrap();
        let steps = path_steps(path);
        assert_eq!(
            steps[0],
            ("frame".into(), Some(e.window.clone()), None),
            "{path}"
        );
        assert!(steps[1..].iter().all(|s| s.2.is_some()), "{path}");
        let leaf = steps.last().unwrap();
        assert_eq!((&leaf.0, &leaf.1), (&role.to_owned(), &el.name), "{path}");
        if el.id.is_some() {
            with_id += 1;
            assert!(
                ["firefox", "thunderbird"].contains(&e.app.as_str()),
                "only Gecko exposes DOM ids: {e:?}"
            );
        }
        if role == "table cell" && e.app == "libreoffice-calc" {
            let cell = el.name.as_deref().unwrap();
            assert!(cell.starts_with(|c: char| c.is_ascii_uppercase()), "{cell}");
            if let Some(attr) = e.attrs.get("cell") {
                assert_eq!(attr, cell, "a cell is named by its reference");
            }
        }
    }
    assert!(with_element > 1000, "{with_element}");
    assert!(
        with_id > 0 && with_id < with_element * 3 / 4,
        "ids are often empty: {with_id} of {with_element}"
    );
}

#[test]
fn the_last_index_of_a_path_shifts_in_some_instances_and_not_in_most() {
    let cfg = Config {
        elements: ElementStyle::Atspi,
        routine_ids: vec![1],
        noise: 0.0,
        variant_steps: 0.0,
        ..small(5)
    };
    let (events, truth) = run(&cfg);
    let log = by_key(&events);
    // The `Reference` entry of the ERP form, once per instance.
    let mut indices: HashMap<u32, usize> = HashMap::new();
    let mut prefixes: HashSet<String> = HashSet::new();
    for inst in &truth.instances {
        let e = inst
            .events
            .iter()
            .map(|ts| log[&(inst.session.as_str(), *ts)])
            .find(|e| {
                e.kind == EventKind::Click
                    && e.element.as_ref().and_then(|el| el.name.as_deref()) == Some("Reference")
            })
            .expect("every instance clicks the Reference field");
        let path = e.element.as_ref().unwrap().path.clone().unwrap();
        let steps = path_steps(&path);
        *indices.entry(steps.last().unwrap().2.unwrap()).or_default() += 1;
        prefixes.insert(path[..path.rfind(" / ").unwrap()].to_owned());
    }
    assert_eq!(indices.len(), 2, "{indices:?}");
    let (usual, shifted) = {
        let mut v: Vec<(u32, usize)> = indices.into_iter().collect();
        v.sort();
        (v[0], v[1])
    };
    assert_eq!(shifted.0, usual.0 + 1);
    assert!(usual.1 > shifted.1, "most instances keep the index");
    assert_eq!(
        prefixes.len(),
        1,
        "the form's window and panels stay: {prefixes:?}"
    );
}

#[test]
fn apps_without_accessibility_log_no_element_but_keep_the_position_in_the_window() {
    let mut share = Vec::new();
    for seed in 1..=20 {
        let cfg = Config {
            elements: ElementStyle::Atspi,
            apps_without_elements: 0.3,
            routines: catalogue_len(),
            users: 1,
            days: 1,
            ..small(seed)
        };
        let (events, truth) = run(&cfg);
        let index = truth.index();
        // Per app: (events that name an element when the app exposes them, of those with one).
        let mut apps: HashMap<&str, (usize, usize)> = HashMap::new();
        for e in events
            .iter()
            .filter(|e| index.instance_of(&e.session, e.ts).is_some())
        {
            if matches!(e.kind, EventKind::Click | EventKind::DoubleClick) {
                assert!(e.wx.is_some() && e.wy.is_some(), "{e:?}");
            }
            if matches!(
                e.kind,
                EventKind::Click
                    | EventKind::DoubleClick
                    | EventKind::Type
                    | EventKind::Copy
                    | EventKind::Paste
            ) {
                let counts = apps.entry(e.app.as_str()).or_default();
                counts.0 += 1;
                counts.1 += usize::from(e.element.is_some());
            }
        }
        let listed = apps_without_elements(&cfg).unwrap();
        for (app, (n, with)) in &apps {
            assert!(*with == 0 || with == n, "seed {seed}, {app}: {with} of {n}");
            assert_eq!(
                *with == 0,
                listed.contains(app),
                "seed {seed}, {app}: {listed:?}"
            );
        }
        assert_eq!(
            apps.get("xterm").map_or(0, |c| c.1),
            0,
            "xterm has no AT-SPI"
        );
        apps.remove("xterm");
        let bare = apps.values().filter(|(_, with)| *with == 0).count();
        share.push(bare as f64 / apps.len() as f64);
    }
    let mean = share.iter().sum::<f64>() / share.len() as f64;
    assert!(
        (0.15..0.45).contains(&mean),
        "share of apps without elements {mean:.2}: {share:?}"
    );

    // The same knob at 0 leaves every app its elements, but for xterm, which has no AT-SPI.
    let cfg = Config {
        elements: ElementStyle::Atspi,
        ..small(3)
    };
    assert_eq!(apps_without_elements(&cfg).unwrap(), ["xterm"]);
    let (events, _) = run(&cfg);
    assert!(events
        .iter()
        .any(|e| e.app == "xterm" && e.kind == EventKind::Type));
    assert!(events
        .iter()
        .all(|e| e.app != "xterm" || e.element.is_none()));
    let apps: HashSet<&str> = events
        .iter()
        .filter(|e| e.element.is_some())
        .map(|e| e.app.as_str())
        .collect();
    for app in ["thunderbird", "firefox", "libreoffice-calc", "tryton"] {
        assert!(apps.contains(app), "{app}");
    }
}

#[test]
fn a_short_recording_has_one_session_a_dozen_instances_and_short_pauses() {
    let cfg = bundled("sim-short-recording.yaml");
    for seed in 1..=5 {
        let cfg = Config {
            seed,
            noise: 0.0,
            ..cfg.clone()
        };
        let (events, truth) = run(&cfg);
        let sessions: HashSet<&str> = events.iter().map(|e| e.session.as_str()).collect();
        assert_eq!(sessions.len(), 1);
        assert_eq!(truth.instances.len(), 12);
        assert_eq!(truth.idle_events, 0, "no lunch break, no long pause");
        for w in truth.instances.windows(2) {
            let gap = (w[1].events[0] - w[0].events.last().unwrap()) as f64 / 1e6;
            // The pause runs from when the user is done with the last step (typing lasts).
            assert!(
                (3.0..=8.0 + MAX_TYPING_S).contains(&gap),
                "seed {seed}: {gap} s"
            );
        }
        for inst in &truth.instances {
            for w in inst.events.windows(2) {
                let step = (w[1] - w[0]) as f64 / 1e6;
                assert!(
                    (0.2..=1.5 + MAX_TYPING_S).contains(&step),
                    "seed {seed}: {step} s"
                );
            }
        }
    }
}

#[test]
fn the_long_routine_repeats_one_block_ten_times_over_at_least_60_steps() {
    let all = catalogue();
    let long = all
        .iter()
        .find(|r| r.steps.len() >= 60)
        .expect("a long routine");
    let focus_form = long
        .steps
        .iter()
        .filter(|s| s.starts_with("focus firefox [New customer"))
        .count();
    assert_eq!(focus_form, 10, "{:#?}", long.steps);
    let pastes: HashSet<&String> = long
        .steps
        .iter()
        .filter(|s| s.starts_with("paste"))
        .collect();
    assert_eq!(pastes.len(), 10, "ten different fields");

    let cfg = bundled("sim-long-form.yaml");
    let (events, truth) = run(&cfg);
    let log = by_key(&events);
    for inst in truth.instances.iter().filter(|i| i.variant.is_none()) {
        assert_eq!(inst.events.len(), long.steps.len());
        // Each block pastes the value it copied, into another field.
        let evs: Vec<&Event> = inst
            .events
            .iter()
            .map(|ts| log[&(inst.session.as_str(), *ts)])
            .collect();
        let copies: Vec<&Option<String>> = evs
            .iter()
            .filter(|e| e.kind == EventKind::Copy)
            .map(|e| &e.text)
            .collect();
        let pastes: Vec<&Option<String>> = evs
            .iter()
            .filter(|e| e.kind == EventKind::Paste)
            .map(|e| &e.text)
            .collect();
        assert_eq!(copies, pastes);
        assert_eq!(copies.len(), 10);
    }
}

#[test]
fn without_pauses_an_instance_starts_within_a_think_time_of_the_last() {
    let cfg = Config {
        noise: 0.0,
        ..bundled("sim-long-form.yaml")
    };
    assert!(!cfg.pauses);
    let (events, truth) = run(&cfg);
    assert_eq!(truth.idle_events, 0);
    let log = by_key(&events);
    let mut gaps = Vec::new();
    for w in truth.instances.windows(2) {
        if w[0].session != w[1].session {
            continue;
        }
        let last = log[&(w[0].session.as_str(), *w[0].events.last().unwrap())];
        let typing = last
            .attrs
            .get("duration_ms")
            .map_or(0, |d| d.parse::<i64>().unwrap() * 1000);
        gaps.push((w[1].events[0] - last.ts - typing) as f64 / 1e6);
    }
    assert!(gaps.len() > 20);
    for g in &gaps {
        assert!(
            *g >= cfg.think_time.min - 1e-6 && *g <= cfg.think_time.max + 1e-6,
            "{g} s"
        );
    }
}

#[test]
fn four_task_types_interleave_in_one_stream() {
    let cfg = bundled("sim-task-stream.yaml");
    let (events, truth) = run(&cfg);
    let sessions: HashSet<&str> = events.iter().map(|e| e.session.as_str()).collect();
    assert_eq!(sessions.len(), 1);
    assert!(truth.instances.len() >= 200);
    let changes = truth
        .instances
        .windows(2)
        .filter(|w| w[0].routine != w[1].routine)
        .count();
    assert!(
        changes > truth.instances.len() / 2,
        "{changes} changes of task type"
    );
    for id in &cfg.routine_ids {
        let n = truth.instances.iter().filter(|i| i.routine == *id).count();
        assert!(n >= 20, "routine {id}: {n} instances");
    }
    assert_eq!(truth.noise_events + truth.idle_events, 0);
    assert_eq!(truth.instance_events(), events.len() as u64);
}

#[test]
fn web_content_has_xpaths_whose_indices_vary_between_instances() {
    let cfg = bundled("sim-web-paths.yaml");
    let (events, _) = run(&cfg);
    let mut paths: HashMap<(&str, &str), HashSet<&str>> = HashMap::new();
    for e in events.iter().filter(|e| e.app == "firefox") {
        let Some(el) = &e.element else { continue };
        let path = el.path.as_deref().unwrap();
        if !path.starts_with('/') {
            continue; // a dialog of the browser itself, captured through AT-SPI
        }
        assert!(path.starts_with("/html/body/div["), "{path}");
        let role = el.role.as_deref().unwrap();
        assert!(
            role.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
            "{role}"
        );
        assert!(path.ends_with(role) || path.ends_with(']'), "{path}");
        assert_eq!(el.id, None, "generated page ids are left out");
        if let Some(name) = el.name.as_deref() {
            paths.entry((role, name)).or_default().insert(path);
        }
    }
    let first = &paths[&("input", "First name")];
    assert!(first.len() >= 3, "{first:?}");
    assert!(paths.len() >= 10);
    // Desktop apps keep AT-SPI elements.
    assert!(events.iter().any(|e| e.app == "libreoffice-calc"
        && e.element
            .as_ref()
            .is_some_and(|el| el.role.as_deref() == Some("table cell"))));
}

#[test]
fn new_fields_are_refused_naming_the_field_when_invalid() {
    let cases: Vec<(Config, &str)> = vec![
        (
            Config {
                routine_ids: vec![0],
                ..Config::default()
            },
            "routine_ids",
        ),
        (
            Config {
                routine_ids: vec![catalogue_len() as u32 + 1],
                ..Config::default()
            },
            "routine_ids",
        ),
        (
            Config {
                routine_ids: vec![2, 2],
                ..Config::default()
            },
            "routine_ids",
        ),
        (
            Config {
                apps_without_elements: 1.5,
                ..Config::default()
            },
            "apps_without_elements",
        ),
        (
            Config {
                start: crate::TS_MAX - DAY,
                ..Config::default()
            },
            "start",
        ),
        (
            Config {
                start: -1,
                ..Config::default()
            },
            "start",
        ),
    ];
    for (cfg, field) in cases {
        let err = simulate_to_vec(&cfg).unwrap_err().to_string();
        assert!(err.contains(&format!("`{field}`")), "{field}: {err}");
    }
    // `routine_ids` replaces `routines`, whose value then does not matter.
    Config {
        routine_ids: vec![3],
        routines: 0,
        ..Config::default()
    }
    .validate()
    .unwrap();
    let err = serde_norway::from_str::<Config>("elements: uia\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("atspi"), "{err}");
}

#[test]
fn a_day_that_runs_past_the_end_of_the_range_stops_with_an_error_naming_start() {
    // Valid by `validate`'s estimate, but 5,000 instances with 10-minute pauses take 35 days.
    let cfg = Config {
        start: crate::TS_MAX - 10 * DAY,
        days: 1,
        users: 1,
        instances_per_day: CountRange {
            min: 5_000,
            max: 5_000,
        },
        gap: SecondsRange {
            min: 600.0,
            max: 600.0,
        },
        ..Config::default()
    };
    cfg.validate().unwrap();
    let err = simulate(&cfg, |_| -> Result<()> { Ok(()) })
        .unwrap_err()
        .to_string();
    assert!(err.contains("`start`") && err.contains("9999"), "{err}");
}

#[test]
fn the_recorder_csv_imports_back_with_the_truth_held_out() {
    let cfg = Config {
        users: 1,
        days: 1,
        instances_per_day: CountRange { min: 30, max: 30 },
        ..bundled("sim-web-paths.yaml")
    };
    let (events, truth) = run(&cfg);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("web-recorder.csv");
    let mut file = std::fs::File::create(&path).unwrap();
    let rows = write_recorder_csv(&events, &truth, &mut file, &path).unwrap();
    drop(file);
    assert_eq!(rows, events.len() as u64);
    let text = std::fs::read_to_string(&path).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let x = header.iter().position(|h| *h == "x").unwrap();
    let floats = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(l.as_bytes())
                .records()
                .next()
        })
        .filter_map(|r| r.ok())
        .filter(|r| {
            r.get(x)
                .is_some_and(|v| v.contains('.') && !v.ends_with(".00"))
        })
        .count();
    assert!(floats > 100, "{floats} rows with sub-pixel coordinates");

    let mut store = Store::open_in_memory().unwrap();
    let labels = crate::import::TruthLabels {
        case: "instance".into(),
        routine: Some("task".into()),
        stream: true,
    };
    let (_, back) = crate::import::import_with_truth(
        &mut store,
        &path,
        &Default::default(),
        &labels,
        &mut |_| {},
    )
    .unwrap();
    back.validate().unwrap();
    assert_eq!(back.instances.len(), truth.instances.len());
    for (a, b) in truth.instances.iter().zip(&back.instances) {
        assert_eq!(a.events.len(), b.events.len(), "instance {}", a.id);
        assert_eq!(
            truth.routine(a.routine).unwrap().name,
            back.routine(b.routine).unwrap().name
        );
    }
    assert_eq!(
        back.noise_events + back.idle_events,
        truth.noise_events + truth.idle_events
    );
    let stored = store.events().unwrap();
    assert_eq!(stored.len(), events.len());
    for (a, b) in events.iter().zip(&stored) {
        assert_eq!((a.kind, &a.app, &a.window), (b.kind, &b.app, &b.window));
        assert_eq!(a.x, b.x, "coordinates round back to the pixel");
        let path = |e: &Event| e.element.as_ref().and_then(|el| el.path.clone());
        assert_eq!(path(a), path(b));
        assert!(!b.attrs.contains_key("task") && !b.attrs.contains_key("instance"));
        assert!(b.case.is_none());
    }
}
