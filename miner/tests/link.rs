//! Routine instances linked to the simulator's process log, with plain and with hashed text, and
//! the instance-level OCEL 2.0 export checked against the standard's JSON schema and by PM4Py.

use std::path::Path;

use miner::link::{self, LinkOptions, ProcessLog};
use miner::objects::{self, ObjectRules};
use uilog::simulate::{simulate_with_process_log, Config};
use uilog::Store;

struct Run {
    store: Store,
    truth: uilog::GroundTruth,
    sim: uilog::simulate::ProcessLog,
    mining: miner::Mining,
}

fn simulate_and_mine(cfg: &Config) -> Run {
    let mut store = Store::open_in_memory().unwrap();
    let mut out = None;
    store
        .write_batch(None, "simulator", |sink| -> uilog::Result<()> {
            out = Some(simulate_with_process_log(cfg, |e| sink.push(e))?);
            Ok(())
        })
        .unwrap();
    let (truth, sim) = out.unwrap();
    let (_, mining) =
        miner::mine(&store, &miner::Options::default(), &mut miner::NoProgress).unwrap();
    Run {
        store,
        truth,
        sim,
        mining,
    }
}

fn noisy() -> Config {
    Config {
        users: 6,
        days: 3,
        noise: 0.1,
        ..Config::default()
    }
}

fn score(run: &Run, keys: Vec<[u8; 32]>) -> link::LinkScore {
    let matcher = ObjectRules::default().compile().unwrap();
    let objects = objects::extract(&run.store, &run.mining, &matcher).unwrap();
    let log = ProcessLog::from_simulated(&run.sim, Path::new("sim.csv"));
    let opts = LinkOptions {
        keys,
        ..LinkOptions::default()
    };
    let report = link::link(&run.mining, &objects, &log, &opts).unwrap();
    let s = link::score_links(
        &run.mining,
        &report,
        &run.truth,
        &run.sim.true_links(),
        &run.sim.ambiguous,
    );
    println!(
        "links: found {}, correct {}, true {}, reachable {}, recovered {}: precision {:.3}, recall {:.3}",
        s.found, s.correct, s.truth, s.reachable, s.recovered, s.precision, s.recall
    );
    s
}

#[test]
fn instances_link_to_their_cases_with_plain_text() {
    let run = simulate_and_mine(&noisy());
    assert!(run.sim.cases.len() > 50, "{} cases", run.sim.cases.len());
    let s = score(&run, LinkOptions::default().keys);
    assert!(s.precision >= 0.95, "precision {:.3}", s.precision);
    assert!(s.recall >= 0.95, "recall {:.3}", s.recall);
}

#[test]
fn instances_link_to_their_cases_through_hashed_text_with_the_recorders_key() {
    let secret = "5a".repeat(32);
    let run = simulate_and_mine(&Config {
        text_key: Some(secret.clone()),
        ..noisy()
    });
    assert!(run.store.events().unwrap().iter().all(|e| e.text.is_none()));
    let key = objects::value_key_from_secret(&objects::parse_hex_key(&secret).unwrap());
    let s = score(&run, vec![key]);
    assert!(s.precision >= 0.95, "precision {:.3}", s.precision);
    assert!(s.recall >= 0.95, "recall {:.3}", s.recall);
    // Without the key, hashes cannot meet the identifiers and titles hold no numbers.
    let matcher = ObjectRules::default().compile().unwrap();
    let objects = objects::extract(&run.store, &run.mining, &matcher).unwrap();
    let log = ProcessLog::from_simulated(&run.sim, Path::new("sim.csv"));
    let e = link::link(&run.mining, &objects, &log, &LinkOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("sim.csv") && e.contains("object_id"), "{e}");
}

#[test]
fn objects_found_in_instances_carry_the_type_of_their_pattern() {
    let run = simulate_and_mine(&Config {
        users: 3,
        days: 1,
        ..Config::default()
    });
    let matcher = ObjectRules::default().compile().unwrap();
    let objects = objects::extract(&run.store, &run.mining, &matcher).unwrap();
    let n: usize = run.mining.routines.iter().map(|r| r.instances.len()).sum();
    assert_eq!(objects.len(), n);
    // Every simulated invoice case's number is found, typed `invoice`, in some instance.
    let invoices: Vec<&str> = run
        .sim
        .cases
        .iter()
        .filter(|c| c.object_type == "invoice")
        .map(|c| c.object_id.as_str())
        .collect();
    assert!(!invoices.is_empty());
    let found = invoices
        .iter()
        .filter(|id| {
            objects.iter().any(|i| {
                i.objects
                    .iter()
                    .any(|o| o.object_type == "invoice" && o.id == **id)
            })
        })
        .count();
    assert!(
        found as f64 >= 0.9 * invoices.len() as f64,
        "{found} of {} invoices found",
        invoices.len()
    );
}

fn ocel_json(run: &Run) -> (miner::link::ocel::OcelLog, serde_json::Value) {
    ocel_json_with(run, false)
}

fn ocel_json_with(run: &Run, steps: bool) -> (miner::link::ocel::OcelLog, serde_json::Value) {
    let matcher = ObjectRules::default().compile().unwrap();
    let objects = objects::extract_with_steps(&run.store, &run.mining, &matcher, steps).unwrap();
    let log = link::ocel::build(&run.mining, &objects);
    let mut buf = Vec::new();
    link::ocel::write_json(&log, &mut buf).unwrap();
    (log, serde_json::from_slice(&buf).unwrap())
}

#[test]
fn the_ocel_json_export_validates_against_the_ocel_2_schema() {
    let run = simulate_and_mine(&Config {
        users: 2,
        days: 1,
        ..Config::default()
    });
    let (log, doc) = ocel_json(&run);
    let (with_steps, steps_doc) = ocel_json_with(&run, true);
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/link_data/ocel20-schema-json.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for d in [&doc, &steps_doc] {
        let errors: Vec<String> = validator.iter_errors(d).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{:?}", &errors[..errors.len().min(5)]);
    }
    // With steps, every event inside an instance's span is an event of its own.
    let covered: u64 = run
        .mining
        .routines
        .iter()
        .flat_map(|r| &r.instances)
        .map(|i| u64::from(i.events))
        .sum();
    let steps = with_steps.events.len() - log.events.len();
    assert!(
        steps as u64 >= covered,
        "{steps} steps, {covered} events in instances"
    );
    // The schema catches a broken document, so passing means something.
    let mut broken = doc.clone();
    broken["events"][0]["relationships"][0]
        .as_object_mut()
        .unwrap()
        .remove("qualifier");
    assert!(!validator.is_valid(&broken));

    let n: usize = run.mining.routines.iter().map(|r| r.instances.len()).sum();
    assert_eq!(doc["events"].as_array().unwrap().len(), n);
    // Every relationship names an object the log declares, and every object type is declared.
    for d in [&doc, &steps_doc] {
        let ids: std::collections::HashSet<&str> = d["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap())
            .collect();
        for e in d["events"].as_array().unwrap() {
            for r in e["relationships"].as_array().unwrap() {
                assert!(ids.contains(r["objectId"].as_str().unwrap()), "{r}");
            }
        }
    }
    let types: Vec<&str> = doc["objectTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for t in ["user", "application", "order"] {
        assert!(types.contains(&t), "{types:?}");
    }
    assert!(log
        .objects
        .iter()
        .any(|o| o.ty == "order" && o.relations.iter().any(|(_, q)| q == "handled by")));
}

#[test]
fn the_ocel_sqlite_export_has_the_standards_tables() {
    let run = simulate_and_mine(&Config {
        users: 2,
        days: 1,
        ..Config::default()
    });
    let (log, _) = ocel_json(&run);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.sqlite");
    link::ocel::write_sqlite(&log, &path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT count(*) FROM event") as usize,
        log.events.len()
    );
    assert_eq!(
        count("SELECT count(*) FROM object") as usize,
        log.objects.len()
    );
    let rels: usize = log.events.iter().map(|e| e.relations.len()).sum();
    assert_eq!(count("SELECT count(*) FROM event_object") as usize, rels);
    assert!(count("SELECT count(*) FROM object_object") > 0);
    let map: String = conn
        .query_row(
            "SELECT ocel_type_map FROM object_map_type WHERE ocel_type = 'order'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(count(&format!("SELECT count(*) FROM object_{map}")) > 0);
    // A second export does not overwrite the first.
    assert!(link::ocel::write_sqlite(&log, &path).is_err());
}

/// PM4Py reads the export. `TASKMINE_PYTHON` names the interpreter with PM4Py, and scripts/test.sh
/// (so CI) sets it to the one scripts/setup.sh installs: then a missing PM4Py fails the test.
/// Without the variable, `python3` is tried and the test says it was skipped where it has none.
#[test]
fn pm4py_reads_the_ocel_json_export() {
    let named = std::env::var("TASKMINE_PYTHON").ok();
    let python = named.clone().unwrap_or_else(|| "python3".into());
    let has = std::process::Command::new(&python)
        .args(["-c", "import pm4py"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has {
        assert!(
            named.is_none(),
            "TASKMINE_PYTHON={python} cannot import pm4py: run scripts/setup.sh, which installs it"
        );
        println!("skipped: pm4py is not importable by {python}");
        return;
    }
    let run = simulate_and_mine(&Config {
        users: 2,
        days: 1,
        ..Config::default()
    });
    let (log, _) = ocel_json_with(&run, true);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonocel");
    let mut f = std::fs::File::create(&path).unwrap();
    link::ocel::write_json(&log, &mut f).unwrap();
    drop(f);
    let out = std::process::Command::new(&python)
        .args([
            "-c",
            "import sys, pm4py\n\
             o = pm4py.read_ocel2_json(sys.argv[1])\n\
             print(len(o.events), len(o.objects), len(o.relations), len(o.o2o))",
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let nums: Vec<usize> = text
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(nums.len(), 4, "{text}");
    assert_eq!(nums[0], log.events.len());
    assert_eq!(nums[1], log.objects.len());
    let rels: usize = log.events.iter().map(|e| e.relations.len()).sum();
    assert_eq!(nums[2], rels);
}

/// The OCEL export's speed on a fleet-sized log: 1M simulated UI events, mined, their instances'
/// objects extracted and written as OCEL 2.0 JSON. Minutes in a debug build, so it runs only when
/// `TASKMINE_OCEL_BENCH=1` (with `--release`) and says it was skipped otherwise.
#[test]
fn ocel_export_of_a_million_events() {
    if std::env::var("TASKMINE_OCEL_BENCH").as_deref() != Ok("1") {
        println!("skipped: set TASKMINE_OCEL_BENCH=1 and run with --release to measure");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("big.db")).unwrap();
    let cfg = Config {
        events_target: Some(1_000_000),
        ..Config::default()
    };
    uilog::simulate::simulate_into_store(&cfg, &mut store).unwrap();
    let events = store.stats().unwrap().events;
    let t = std::time::Instant::now();
    let (_, mining) =
        miner::mine(&store, &miner::Options::default(), &mut miner::NoProgress).unwrap();
    let mine_s = t.elapsed().as_secs_f64();
    let conn = uilog::Conn::from(&store);
    miner::results::save(conn, &mining).unwrap();
    let t = std::time::Instant::now();
    let mining = miner::results::load_latest(conn).unwrap().unwrap();
    let matcher = ObjectRules::default().compile().unwrap();
    let objects = objects::extract(&store, &mining, &matcher).unwrap();
    let extract_s = t.elapsed().as_secs_f64();
    let log = link::ocel::build(&mining, &objects);
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.path().join("o.json")).unwrap());
    link::ocel::write_json(&log, &mut f).unwrap();
    drop(f);
    let json_s = t.elapsed().as_secs_f64();
    let t2 = std::time::Instant::now();
    link::ocel::write_sqlite(&log, &dir.path().join("o.sqlite")).unwrap();
    let sqlite_s = t2.elapsed().as_secs_f64();
    println!(
        "{events} events: mining {mine_s:.2} s; from the stored run: objects {extract_s:.2} s, \
         OCEL JSON written after {json_s:.2} s ({} instances, {} objects); OCEL SQLite {sqlite_s:.2} s",
        log.events.len(),
        log.objects.len()
    );
    assert!(json_s < 5.0, "OCEL JSON export took {json_s:.2} s");
}
