//! The business objects of a saved run's instances: stored with the run, read back equal to what
//! extraction computes, not served for other rules or a changed log, and gone with the run when a
//! person is erased — together with the link reports that counted them.

use std::path::Path;

use miner::link::{self, LinkOptions, ProcessLog};
use miner::objects::{self, ObjectRules};
use uilog::simulate::{simulate_with_process_log, Config};
use uilog::Store;

fn simulated(cfg: &Config) -> (Store, uilog::simulate::ProcessLog, miner::Mining) {
    let mut store = Store::open_in_memory().unwrap();
    let mut out = None;
    store
        .write_batch(None, "simulator", |sink| -> uilog::Result<()> {
            out = Some(simulate_with_process_log(cfg, |e| sink.push(e))?);
            Ok(())
        })
        .unwrap();
    let (_, sim) = out.unwrap();
    let (_, mining) =
        miner::mine(&store, &miner::Options::default(), &mut miner::NoProgress).unwrap();
    (store, sim, mining)
}

fn count(store: &Store, sql: &str, run: i64) -> i64 {
    store
        .connection()
        .query_row(sql, [run], |r| r.get(0))
        .unwrap()
}

#[test]
fn stored_objects_equal_the_computed_ones_with_plain_and_with_hashed_text() {
    for text_key in [None, Some("5a".repeat(32))] {
        let hashed = text_key.is_some();
        let (store, _, mining) = simulated(&Config {
            users: 3,
            days: 1,
            text_key,
            ..Config::default()
        });
        let conn = uilog::Conn::from(&store);
        let run = miner::results::save(conn, &mining).unwrap();
        let rules = ObjectRules::default().compile().unwrap();
        let computed = objects::extract(&store, &mining, &rules).unwrap();
        assert!(!computed.is_empty());
        let stored =
            objects::extract_and_store(&store, uilog::Conn::from(&store), run, &mining, &rules)
                .unwrap();
        assert_eq!(stored, computed);

        // Read back from the run as `link` and the OCEL export do: equal, and marked as stored.
        let latest = miner::results::load_latest(conn).unwrap().unwrap();
        let (back, from_store) = objects::stored_or_extract(
            &store,
            uilog::Conn::from(&store),
            Some(run),
            &latest,
            &rules,
        )
        .unwrap();
        assert!(from_store, "hashed text: {hashed}");
        assert_eq!(back, computed, "hashed text: {hashed}");

        // One row per object with its type, or per value hash (no type: no text to type it by).
        let plain = count(
            &store,
            "SELECT count(*) FROM mining_instance_objects WHERE run_id = ?1 AND hashed = 0 AND object_type IS NOT NULL",
            run,
        );
        let hashes = count(
            &store,
            "SELECT count(*) FROM mining_instance_objects WHERE run_id = ?1 AND hashed = 1 AND object_type IS NULL AND length(value) = 16",
            run,
        );
        let objects_n: usize = computed.iter().map(|i| i.objects.len()).sum();
        let hashes_n: usize = computed.iter().map(|i| i.hashes.len()).sum();
        assert_eq!(plain as usize, objects_n);
        assert_eq!(hashes as usize, hashes_n);
        if hashed {
            // The policy kept no typed text: identifiers are only hashes (titles may still name
            // some objects).
            assert!(hashes > 0);
            let typed_plain = count(
                &store,
                "SELECT count(*) FROM mining_instance_objects WHERE run_id = ?1 AND hashed = 0 AND source IN ('typed', 'copied', 'pasted')",
                run,
            );
            assert_eq!(typed_plain, 0);
        } else {
            assert!(plain > 0);
        }

        // Objects found with other patterns are not served for these.
        let other = ObjectRules {
            patterns: ObjectRules::default().patterns[..1].to_vec(),
        }
        .compile()
        .unwrap();
        let (_, from_store) = objects::stored_or_extract(
            &store,
            uilog::Conn::from(&store),
            Some(run),
            &latest,
            &other,
        )
        .unwrap();
        assert!(!from_store, "other rules are computed, not read back");
    }
}

#[test]
fn a_changed_log_is_extracted_again() {
    let (mut store, _, mining) = simulated(&Config {
        users: 3,
        days: 1,
        ..Config::default()
    });
    let run = miner::results::save(uilog::Conn::from(&store), &mining).unwrap();
    let rules = ObjectRules::default().compile().unwrap();
    objects::extract_and_store(&store, uilog::Conn::from(&store), run, &mining, &rules).unwrap();
    assert!(
        objects::stored_or_extract(
            &store,
            uilog::Conn::from(&store),
            Some(run),
            &mining,
            &rules
        )
        .unwrap()
        .1
    );
    store
        .write_batch(None, "later", |sink| -> uilog::Result<()> {
            let mut e = uilog::Event::new(
                "late",
                "user-09",
                1_800_000_000_000_000,
                uilog::EventKind::Focus,
            );
            e.app = "erp".into();
            sink.push(&e)
        })
        .unwrap();
    assert!(
        !objects::stored_or_extract(
            &store,
            uilog::Conn::from(&store),
            Some(run),
            &mining,
            &rules
        )
        .unwrap()
        .1
    );
}

#[test]
fn erasing_a_person_removes_their_instances_objects_and_the_link_reports_that_counted_them() {
    let (store, sim, mining) = simulated(&Config {
        users: 4,
        days: 2,
        ..Config::default()
    });
    let conn = uilog::Conn::from(&store);
    let run = miner::results::save(conn, &mining).unwrap();
    let rules = ObjectRules::default().compile().unwrap();
    let objects =
        objects::extract_and_store(&store, uilog::Conn::from(&store), run, &mining, &rules)
            .unwrap();
    let log = ProcessLog::from_simulated(&sim, Path::new("p2p.csv"));
    let report = link::link(&mining, &objects, &log, &LinkOptions::default()).unwrap();
    let names = miner::naming::routine_names(&mining);
    let id = link::stored::save(conn, &report, &mining, &names, Some(run)).unwrap();
    let back = link::stored::load_latest(conn).unwrap().unwrap();
    assert_eq!(back.id, id);
    assert_eq!(back.report, report);
    assert!(back.report.activities.iter().all(|a| a.users >= 1));

    let victim = mining.routines[0].instances[0].user.clone();
    let rows = |sql: &str, run: i64| count(&store, sql, run);
    assert!(
        rows(
            "SELECT count(*) FROM mining_instance_words WHERE run_id = ?1",
            run
        ) > 0
    );
    let runs = miner::results::forget_user(conn, &victim).unwrap();
    assert_eq!(runs, 1);
    for table in objects::STORED_TABLES {
        assert_eq!(
            rows(
                &format!("SELECT count(*) FROM {table} WHERE run_id = ?1"),
                run
            ),
            0,
            "{table}"
        );
    }
    assert!(link::stored::load_latest(conn).unwrap().is_none());

    // A person none of whose instances a report counted keeps it; the server's runs (pruned on
    // erasure) take their objects with them.
    let run = miner::results::save_for_log(conn, &mining, store.version().unwrap()).unwrap();
    objects::extract_and_store(&store, uilog::Conn::from(&store), run, &mining, &rules).unwrap();
    assert!(
        rows(
            "SELECT count(*) FROM mining_instance_objects WHERE run_id = ?1",
            run
        ) > 0
    );
    link::stored::save(conn, &report, &mining, &names, Some(run)).unwrap();
    assert_eq!(
        link::stored::forget_user(conn, "nobody-recorded").unwrap(),
        0
    );
    assert!(link::stored::load_latest(conn).unwrap().is_some());
    assert_eq!(miner::results::prune_log_runs(conn, 0).unwrap(), 1);
    for table in objects::STORED_TABLES {
        assert_eq!(
            rows(
                &format!("SELECT count(*) FROM {table} WHERE run_id = ?1"),
                run
            ),
            0,
            "{table}"
        );
    }
}

#[test]
fn a_link_report_of_a_result_never_stored_goes_with_an_erasure_too() {
    let (store, sim, mining) = simulated(&Config {
        users: 3,
        days: 1,
        ..Config::default()
    });
    let conn = uilog::Conn::from(&store);
    let rules = ObjectRules::default().compile().unwrap();
    let objects = objects::extract(&store, &mining, &rules).unwrap();
    let log = ProcessLog::from_simulated(&sim, Path::new("p2p.csv"));
    let report = link::link(&mining, &objects, &log, &LinkOptions::default()).unwrap();
    let names = miner::naming::routine_names(&mining);
    link::stored::save(conn, &report, &mining, &names, None).unwrap();
    assert_eq!(miner::results::schema_version(conn).unwrap(), 0);
    let victim = mining.routines[0].instances[0].user.clone();
    assert_eq!(miner::results::forget_user(conn, &victim).unwrap(), 0);
    assert!(link::stored::load_latest(conn).unwrap().is_none());
}
