//! Stored mining results through the `taskmine` binary: `mine` stores its result with the log's
//! version and spans, `bots` and `mine --report` read it back instead of mining while the log is
//! unchanged, a new import or other options make them mine again, `--fresh` always mines, and bots
//! drafted from a stored result are the ones drafted from a fresh mine.

mod cli_support;

use std::collections::BTreeMap;
use std::path::Path;

use cli_support::{ok_with_stderr as ok, p};

/// The one line saying where the result came from: (read back?, run id).
fn origin(stderr: &str) -> (bool, Option<i64>) {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("read back mining run ") || l.starts_with("mined the log"))
        .collect();
    assert_eq!(lines.len(), 1, "one line on the result's origin: {stderr}");
    let line = lines[0];
    let run = |after: &str| {
        line.split_once(after).and_then(|(_, rest)| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse().ok())
        })
    };
    if line.starts_with("read back") {
        (true, run("read back mining run "))
    } else {
        (false, run("stored as mining run "))
    }
}

/// The stored runs' ids: a command that read a result back added none.
fn runs(db: &Path) -> Vec<i64> {
    let store = uilog::Store::open(db).unwrap();
    miner::results::run_ids((&store).into()).unwrap()
}

/// Every file `taskmine bots` wrote under `out`, by path below it, with its text.
fn bot_files(out: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for dir in std::fs::read_dir(out).unwrap() {
        let dir = dir.unwrap().path();
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            let key = f.strip_prefix(out).unwrap().to_string_lossy().into_owned();
            files.insert(key, std::fs::read_to_string(&f).unwrap());
        }
    }
    files
}

#[test]
fn bots_and_mine_read_back_the_stored_result_until_the_log_changes_or_fresh_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("team.db");
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/team-week.yaml");
    ok(&["simulate", "--config", config, "--db", p(&db)]);

    let (table, said) = ok(&["mine", "--db", p(&db)]);
    let (read_back, mined_run) = origin(&said);
    assert!(!read_back, "the first mine mines: {said}");
    let mined_run = mined_run.expect("mine says the run it stored");
    assert_eq!(runs(&db), vec![mined_run]);
    assert!(table.contains("result stored in"), "{table}");

    // bots reads mine's result back: the line names mine's run and no run is added.
    let from_stored = dir.path().join("from-stored");
    let (drafted, said) = ok(&[
        "bots",
        "--db",
        p(&db),
        "--top",
        "3",
        "--out",
        p(&from_stored),
    ]);
    assert_eq!(origin(&said), (true, Some(mined_run)), "{said}");
    assert_eq!(runs(&db), vec![mined_run]);
    assert!(drafted.contains("steps"), "{drafted}");

    // --fresh mines (and stores) whatever is stored; the bots are the same, file for file.
    let fresh = dir.path().join("fresh");
    let (_, said) = ok(&[
        "bots",
        "--db",
        p(&db),
        "--top",
        "3",
        "--out",
        p(&fresh),
        "--fresh",
    ]);
    let (read_back, fresh_run) = origin(&said);
    assert!(!read_back && said.contains("--fresh"), "{said}");
    let fresh_run = fresh_run.expect("bots says the run it stored");
    assert_eq!(runs(&db), vec![mined_run, fresh_run]);
    let (stored_bots, fresh_bots) = (bot_files(&from_stored), bot_files(&fresh));
    assert!(
        stored_bots.keys().any(|k| k.ends_with("bot.yaml")),
        "{:?}",
        stored_bots.keys()
    );
    assert_eq!(stored_bots, fresh_bots);

    // mine --report reads back the latest fitting run, and prints the same table as it mined.
    let html = dir.path().join("report.html");
    let (again, said) = ok(&["mine", "--db", p(&db), "--report", p(&html)]);
    assert_eq!(origin(&said), (true, Some(fresh_run)), "{said}");
    assert!(std::fs::read_to_string(&html).unwrap().contains("<html"));
    fn body(t: &str) -> Vec<&str> {
        t.lines()
            .skip(1)
            .filter(|l| !l.contains("stored in"))
            .collect()
    }
    assert_eq!(body(&again), body(&table));
    assert!(again.contains("read back"), "{again}");

    // Other options are another result: mined, not read back.
    let (_, said) = ok(&["mine", "--db", p(&db), "--min-len", "4", "--no-store"]);
    assert!(!origin(&said).0, "{said}");
    assert!(said.contains("no stored run"), "{said}");
    assert_eq!(runs(&db).len(), 2, "--no-store stores nothing");

    // New events make the stored runs stale: bots mines again, then reads that run back.
    let more = dir.path().join("more.csv");
    ok(&[
        "simulate",
        "--users",
        "2",
        "--days",
        "1",
        "--seed",
        "99",
        "--csv",
        p(&more),
    ]);
    ok(&["import", p(&more), "--db", p(&db)]);
    let out = dir.path().join("after-import");
    let (_, said) = ok(&["bots", "--db", p(&db), "--top", "3", "--out", p(&out)]);
    let (read_back, new_run) = origin(&said);
    assert!(!read_back && said.contains("no stored run"), "{said}");
    let new_run = new_run.unwrap();
    assert!(new_run > fresh_run);
    let (_, said) = ok(&["bots", "--db", p(&db), "--top", "3", "--out", p(&out)]);
    assert_eq!(origin(&said), (true, Some(new_run)), "{said}");
}
