//! Erasing one recorded person: no byte of what only they typed or titled is left in the database
//! file after the compaction, mining afterwards does not count them, and the audit trail records
//! the erasure without naming them.

mod support;

use std::collections::BTreeSet;

use support::*;
use uilog::{Event, EventKind, Store};

/// Every string of an event a person produced: typed text, window title, element parts, attributes.
fn strings(e: &Event) -> Vec<String> {
    let mut s = vec![e.window.clone(), e.session.clone()];
    s.extend(e.text.clone());
    if let Some(el) = &e.element {
        s.extend(
            [
                el.role.clone(),
                el.name.clone(),
                el.id.clone(),
                el.path.clone(),
            ]
            .into_iter()
            .flatten(),
        );
    }
    s.extend(e.attrs.values().cloned());
    s.extend(e.case.clone());
    s
}

#[test]
fn erasure_leaves_no_byte_of_a_persons_own_strings_and_mining_forgets_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db");
    simulated_store(&db, 5, 2);
    let mut store = Store::open(&db).unwrap();
    let target = "user-02";
    // Strings no simulator makes, so that the check cannot pass by the simulator's luck.
    let mut own = Event::new(
        "private-session-x",
        target,
        1_795_000_000_000_000,
        EventKind::Type,
    );
    own.app = "writer".into();
    own.window = "Letter to my doctor about the diagnosis - Writer".into();
    own.text = Some("my own typed sentence 7731".into());
    store
        .write_batch(None, "test", |sink| -> uilog::Result<()> {
            sink.push(&own)
        })
        .unwrap();
    let before = store.events().unwrap();
    let theirs: Vec<&Event> = before.iter().filter(|e| e.user == target).collect();
    assert!(
        theirs.len() > 100,
        "the person did real work: {}",
        theirs.len()
    );
    let version = store.version().unwrap();

    let erased = server::erasure::erase(&mut store, target, "cli:test", "local", true).unwrap();
    assert_eq!(erased.events, theirs.len() as u64);
    assert_ne!(
        store.version().unwrap(),
        version,
        "a miner sees that the log changed"
    );
    let err = server::erasure::erase(&mut store, target, "cli:test", "local", false).unwrap_err();
    assert!(err.to_string().contains("user-02"), "{err}");

    // What is left: every other person's events, untouched.
    let after = store.events().unwrap();
    let others: Vec<&Event> = before.iter().filter(|e| e.user != target).collect();
    assert_eq!(after.len(), others.len());
    assert!(after.iter().zip(&others).all(|(a, b)| a == *b));

    // Strings only the person used (not also somewhere in what is left) must be gone from the
    // file's bytes, the WAL included.
    let left: String = after
        .iter()
        .flat_map(strings)
        .collect::<Vec<_>>()
        .join("\n");
    let only_theirs: BTreeSet<String> = theirs
        .iter()
        .flat_map(|e| strings(e))
        .filter(|s| s.len() >= 6 && !left.contains(s.as_str()))
        .collect();
    assert!(only_theirs.contains("my own typed sentence 7731"));
    assert!(only_theirs.contains("Letter to my doctor about the diagnosis - Writer"));
    drop(store);
    let mut bytes = std::fs::read(&db).unwrap();
    if let Ok(wal) = std::fs::read(dir.path().join("log.db-wal")) {
        bytes.extend(wal);
    }
    let found: Vec<&String> = only_theirs
        .iter()
        .filter(|s| bytes.windows(s.len()).any(|w| w == s.as_bytes()))
        .collect();
    assert!(
        found.is_empty(),
        "{} of {} strings left: {found:?}",
        found.len(),
        only_theirs.len()
    );
    let pseudonym = target.as_bytes();
    assert!(
        !bytes.windows(pseudonym.len()).any(|w| w == pseudonym),
        "the pseudonym itself is gone, the audit trail included"
    );
    eprintln!(
        "{} strings only {target} used, none left in the file",
        only_theirs.len()
    );

    // Mining afterwards counts 4 people and never this one.
    let store = Store::open(&db).unwrap();
    let a = server::Analysis::compute(
        &store,
        &miner::Options::default(),
        server::Privacy::builtin(),
    )
    .unwrap();
    assert_eq!(a.stats.users, 4);
    assert!(!a.mining.routines.is_empty());
    for r in &a.mining.routines {
        assert!(
            r.users.iter().all(|u| u.user != target),
            "routine {} counts {target}",
            r.id
        );
    }
    let trail = server::audit::list(store.connection(), 10).unwrap();
    let entry = trail
        .iter()
        .find(|e| e.action == "erase")
        .expect("the erasure is audited");
    assert_eq!(
        entry.detail,
        format!(
            "{} events={}",
            server::erasure::person_ref(target),
            theirs.len()
        )
    );
    assert_eq!(
        (entry.actor.as_str(), entry.remote.as_str()),
        ("cli:test", "local")
    );
}
