//! The PostgreSQL store against a real PostgreSQL server that this test binary starts
//! (`support/pg.rs`): the same log reads the same as from SQLite, batch keys hold when writers
//! race, schemas are versioned, and connection faults are one clear line.

mod support {
    pub mod pg;
}

use std::sync::{Arc, Barrier};

use support::pg;
use uilog::simulate::{simulate_to_vec, Config};
use uilog::{BatchOutcome, Event, ImportOptions, LogRead, LogStore, PgStore, Result, Stats, Store};

/// A plain client, for looking underneath the store.
fn connect(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("connect")
}

fn simulated(events: u64, seed: u64) -> Vec<Event> {
    let cfg = Config {
        events_target: Some(events),
        seed,
        noise: 0.05,
        ..Config::default()
    };
    simulate_to_vec(&cfg).unwrap().0
}

fn write(store: &mut LogStore, key: Option<&str>, events: &[Event]) -> BatchOutcome {
    store
        .write_batch(key, "test", |sink| -> Result<()> {
            events.iter().try_for_each(|e| sink.push(e))
        })
        .unwrap()
}

fn pg_log(name: &str) -> (String, LogStore) {
    let url = pg::server().fresh_db(name);
    let store = LogStore::open(&url).unwrap();
    assert_eq!(store.backend(), "postgres");
    (url, store)
}

/// One large batch whose new strings outnumber what the sink interns at a time, and whose rows
/// outgrow one COPY: every placeholder gets its string's id, in the order SQLite gives them.
#[test]
fn a_batch_with_thousands_of_new_strings_reads_back_as_on_sqlite() {
    let base = simulated(30_000, 21);
    let mut events = Vec::with_capacity(base.len() * 2);
    for (i, e) in base.into_iter().enumerate() {
        let mut e = e;
        // A new title every other event, a new case every fifth, sessions that come back after
        // others (so a session is now pending, now known), elements named per event.
        if i % 2 == 0 {
            e.window = format!("{} #{i}", e.window);
        }
        e.case = Some(format!("case-{}", i / 5));
        e.session = format!("{}-{}", e.session, (i / 700) % 9);
        if let Some(el) = &mut e.element {
            el.name = Some(format!("field {}", i % 6_000));
        }
        events.push(e.clone());
        if i % 3 == 0 {
            e.app = format!("app-{}", i % 5_000);
            events.push(e);
        }
    }
    let mut sqlite = LogStore::Sqlite(Store::open_in_memory().unwrap());
    let (_, mut pg) = pg_log("many_new_strings");
    for store in [&mut sqlite, &mut pg] {
        assert_eq!(
            write(store, Some("one"), &events),
            BatchOutcome::Written {
                events: events.len() as u64
            }
        );
    }
    assert_eq!(pg.events().unwrap(), sqlite.events().unwrap());
    let (d_pg, d_sqlite) = (pg.dictionary().unwrap(), sqlite.dictionary().unwrap());
    assert_eq!(d_pg.windows, d_sqlite.windows);
    assert_eq!(d_pg.apps, d_sqlite.apps);
    assert_eq!(d_pg.cases, d_sqlite.cases);
    assert_eq!(d_pg.sessions, d_sqlite.sessions);
    assert_eq!(d_pg.elements, d_sqlite.elements);
    // A second batch of the same events finds every string already there.
    for store in [&mut sqlite, &mut pg] {
        write(store, Some("two"), &events);
    }
    assert_eq!(pg.events().unwrap(), sqlite.events().unwrap());
    assert_eq!(pg.dictionary().unwrap().windows.len(), d_pg.windows.len());
}

#[test]
fn a_log_reads_back_from_postgresql_exactly_as_from_sqlite() {
    let mut events = simulated(6_000, 7);
    // Strings a B-tree entry could not hold, text, attributes and elements with every part.
    events[0].window = "a very long title ".repeat(400);
    events[1].text = Some("typed \"text\" with 'quotes', tabs\tand\nnewlines ✓".into());
    events[2]
        .attrs
        .insert("url".into(), "https://example.org/?q=1".into());
    if let Some(el) = &mut events[3].element {
        el.path = Some("frame 'x' / panel[2] / push button 'OK'[0]".repeat(100));
    }
    let mut sqlite = LogStore::Sqlite(Store::open_in_memory().unwrap());
    let (_, mut pg) = pg_log("round_trip");
    for (i, chunk) in events.chunks(2_500).enumerate() {
        let key = format!("chunk-{i}");
        for store in [&mut sqlite, &mut pg] {
            assert_eq!(
                write(store, Some(&key), chunk),
                BatchOutcome::Written {
                    events: chunk.len() as u64
                }
            );
        }
    }
    let from_pg = pg.events().unwrap();
    assert_eq!(from_pg.len(), events.len());
    assert_eq!(from_pg, sqlite.events().unwrap());
    assert_eq!(pg.stats().unwrap(), sqlite.stats().unwrap());
    assert_eq!(pg.event_count().unwrap(), events.len() as u64);
    assert_eq!(pg.last_event_id().unwrap(), events.len() as i64);
    // The scan's ids are the dictionary's, and consecutive in write order like SQLite's.
    let (d_pg, d_sqlite) = (pg.dictionary().unwrap(), sqlite.dictionary().unwrap());
    let mut rows = Vec::new();
    pg.scan(|row| -> Result<()> {
        rows.push((row.id, d_pg.resolve(&row)));
        Ok(())
    })
    .unwrap();
    let mut expected = Vec::new();
    sqlite
        .scan(|row| -> Result<()> {
            expected.push((row.id, d_sqlite.resolve(&row)));
            Ok(())
        })
        .unwrap();
    assert_eq!(rows, expected);
    // The uploader's reading: ids after a cursor, in id order, a page at a time.
    let page = |store: &LogStore| {
        let mut ids = Vec::new();
        store
            .scan_after(100, 5_000, 7, |row| -> Result<()> {
                ids.push(row.id);
                Ok(())
            })
            .unwrap();
        ids
    };
    assert_eq!(page(&pg), (101..=107).collect::<Vec<_>>());
    assert_eq!(page(&pg), page(&sqlite));
    assert_eq!(pg.version().unwrap().1, events.len() as i64);
}

#[test]
fn a_file_imports_into_postgresql_once_with_the_same_events_as_into_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = Store::open_in_memory().unwrap();
    let events = simulated(3_000, 11);
    source
        .write_batch(None, "t", |sink| -> Result<()> {
            events.iter().try_for_each(|e| sink.push(e))
        })
        .unwrap();
    let csv = dir.path().join("log.csv");
    uilog::export::write_csv(&source, &mut std::fs::File::create(&csv).unwrap()).unwrap();

    let (_, mut pg) = pg_log("import");
    let mut sqlite = LogStore::open(dir.path().join("log.db").to_str().unwrap()).unwrap();
    for store in [&mut pg, &mut sqlite] {
        let first =
            uilog::import_file(store, &csv, &ImportOptions::default(), &mut |_| {}).unwrap();
        assert_eq!(
            first.outcome,
            BatchOutcome::Written {
                events: events.len() as u64
            }
        );
        let again =
            uilog::import_file(store, &csv, &ImportOptions::default(), &mut |_| {}).unwrap();
        assert_eq!(again.outcome, BatchOutcome::AlreadyWritten);
    }
    assert_eq!(pg.events().unwrap(), sqlite.events().unwrap());
    assert_eq!(pg.events().unwrap(), source.events().unwrap());
}

#[test]
fn a_batch_key_is_stored_once_even_when_writers_race_for_it() {
    let (url, mut pg) = pg_log("race");
    let events = simulated(500, 3);
    let batch = &events[..100];
    assert_eq!(
        write(&mut pg, Some("agent/a/1"), batch),
        BatchOutcome::Written { events: 100 }
    );
    assert_eq!(
        write(&mut pg, Some("agent/a/1"), batch),
        BatchOutcome::AlreadyWritten
    );
    // Eight writers with their own connections send one key at the same instant.
    let writers = 8;
    let barrier = Arc::new(Barrier::new(writers));
    let threads: Vec<_> = (0..writers)
        .map(|_| {
            let (url, barrier, batch) = (url.clone(), barrier.clone(), events[100..400].to_vec());
            std::thread::spawn(move || {
                let mut store = PgStore::open(&url).unwrap();
                barrier.wait();
                store
                    .write_batch(Some("agent/b/7"), "race", |sink| -> Result<()> {
                        for e in &batch {
                            sink.push(e)?;
                        }
                        // Hold the transaction open a moment so that the others really wait.
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        Ok(())
                    })
                    .unwrap()
            })
        })
        .collect();
    let outcomes: Vec<BatchOutcome> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let written = outcomes
        .iter()
        .filter(|o| matches!(o, BatchOutcome::Written { events: 300 }))
        .count();
    assert_eq!(written, 1, "{outcomes:?}");
    assert_eq!(pg.event_count().unwrap(), 400);
    let mut client = connect(&url);
    let keys: i64 = client
        .query_one("SELECT count(*) FROM batches WHERE key = 'agent/b/7'", &[])
        .unwrap()
        .get(0);
    assert_eq!(keys, 1);
    // Concurrent interning of the same new strings gave one row each.
    let users: i64 = client
        .query_one("SELECT count(*) - count(DISTINCT name) FROM users", &[])
        .unwrap()
        .get(0);
    assert_eq!(users, 0);
}

#[test]
fn a_failed_batch_leaves_nothing_and_its_key_stays_free() {
    let (_, mut pg) = pg_log("failed");
    let events = simulated(300, 5);
    let err = pg
        .write_batch(Some("k"), "t", |sink| -> Result<()> {
            for e in &events {
                sink.push(e)?;
            }
            let mut bad = events[0].clone();
            bad.ts = uilog::TS_MAX + 1;
            sink.push(&bad)
        })
        .unwrap_err()
        .to_string();
    assert!(err.contains("event time"), "{err}");
    assert_eq!(pg.stats().unwrap(), Stats::default());
    assert_eq!(pg.version().unwrap(), (0, 0));
    // Interned ids of the rolled-back batch must not be reused from the cache.
    assert_eq!(
        write(&mut pg, Some("k"), &events),
        BatchOutcome::Written {
            events: events.len() as u64
        }
    );
    assert_eq!(pg.events().unwrap(), {
        let mut s = Store::open_in_memory().unwrap();
        s.write_batch(None, "t", |sink| -> Result<()> {
            events.iter().try_for_each(|e| sink.push(e))
        })
        .unwrap();
        s.events().unwrap()
    });
}

#[test]
fn a_new_database_is_created_once_when_many_open_it_at_once() {
    let url = pg::server().fresh_db("many");
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PgStore::open(&url).map(|s| s.schema_version().unwrap()))
        })
        .collect();
    for t in threads {
        assert_eq!(
            t.join().unwrap().unwrap() as usize,
            uilog::store_pg::PG_MIGRATIONS.len()
        );
    }
}

#[test]
fn a_database_from_a_newer_taskmine_or_another_program_is_refused() {
    let (url, store) = pg_log("newer");
    drop(store);
    let mut client = connect(&url);
    client
        .batch_execute("UPDATE uilog_schema SET version = 99")
        .unwrap();
    let err = PgStore::open(&url).err().unwrap().to_string();
    assert!(err.contains("99") && err.contains("newer"), "{err}");
    assert!(!err.contains(pg::PASSWORD), "{err}");

    let url = pg::server().fresh_db("foreign");
    connect(&url)
        .batch_execute("CREATE TABLE events (x int)")
        .unwrap();
    let err = PgStore::open(&url).err().unwrap().to_string();
    assert!(err.contains("not a taskmine UI log"), "{err}");
}

#[test]
fn a_wrong_password_or_an_unreachable_server_is_one_line_without_the_password() {
    let server = pg::server();
    let wrong = format!(
        "postgres://{}:not-the-{}@127.0.0.1:{}/postgres",
        pg::USER,
        pg::PASSWORD,
        server.port
    );
    let err = PgStore::open(&wrong).err().unwrap().to_string();
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(!err.contains(pg::PASSWORD) && !err.contains('\n'), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{}", server.port)), "{err}");

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let start = std::time::Instant::now();
    let url = format!(
        "postgres://{}:{}@127.0.0.1:{closed}/log",
        pg::USER,
        pg::PASSWORD
    );
    let err = LogStore::open(&url).err().unwrap().to_string();
    assert!(err.contains("connect") || err.contains("refused"), "{err}");
    assert!(!err.contains(pg::PASSWORD) && !err.contains('\n'), "{err}");
    assert!(start.elapsed().as_secs() < 15);

    let err = LogStore::open("postgres://u:pw@127.0.0.1:notaport/db")
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("not a PostgreSQL URL") && !err.contains(":pw@"),
        "{err}"
    );
}

#[test]
fn retention_and_erasure_remove_the_same_as_on_sqlite() {
    let events = simulated(4_000, 9);
    let mut sqlite = LogStore::Sqlite(Store::open_in_memory().unwrap());
    let (url, mut pg) = pg_log("retention");
    for store in [&mut sqlite, &mut pg] {
        write(store, None, &events);
    }
    let mut times: Vec<_> = events.iter().map(|e| e.ts).collect();
    times.sort();
    let cutoff = times[times.len() / 3];
    let deleted = sqlite.delete_before(cutoff).unwrap();
    assert!(deleted > 0);
    assert_eq!(pg.delete_before(cutoff).unwrap(), deleted);
    assert_eq!(pg.events().unwrap(), sqlite.events().unwrap());
    let user = sqlite.events().unwrap()[0].user.clone();
    let erased = sqlite.erase_user(&user).unwrap();
    assert!(erased.is_some_and(|n| n > 0));
    assert_eq!(pg.erase_user(&user).unwrap(), erased);
    assert_eq!(pg.erase_user("nobody").unwrap(), None);
    assert_eq!(pg.events().unwrap(), sqlite.events().unwrap());
    assert_eq!(pg.stats().unwrap(), sqlite.stats().unwrap());
    // What only the erased person named is gone from the tables too.
    let mut client = connect(&url);
    let left: i64 = client
        .query_one("SELECT count(*) FROM users WHERE name = $1", &[&user])
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
    let d_pg = pg.dictionary().unwrap();
    let d_sqlite = sqlite.dictionary().unwrap();
    let names = |v: &Vec<String>| {
        let mut v: Vec<_> = v.iter().filter(|s| !s.is_empty()).cloned().collect();
        v.sort();
        v
    };
    assert_eq!(names(&d_pg.windows), names(&d_sqlite.windows));
    assert_eq!(names(&d_pg.users), names(&d_sqlite.users));
    // New events after a deletion intern afresh, not through ids the deletion removed.
    write(&mut pg, None, &events[..50]);
    write(&mut sqlite, None, &events[..50]);
    assert_eq!(pg.events().unwrap(), sqlite.events().unwrap());
}

#[test]
fn writers_interning_the_same_new_strings_at_once_share_one_row_each() {
    let url = pg::server().fresh_db("intern_race");
    let events = simulated(2_000, 13);
    let writers = 4;
    let barrier = Arc::new(Barrier::new(writers));
    let threads: Vec<_> = (0..writers)
        .map(|w| {
            let (url, barrier, events) = (url.clone(), barrier.clone(), events.clone());
            std::thread::spawn(move || {
                let mut store = PgStore::open(&url).unwrap();
                barrier.wait();
                store
                    .write_batch(Some(&format!("writer/{w}")), "race", |sink| -> Result<()> {
                        events.iter().try_for_each(|e| sink.push(e))
                    })
                    .unwrap()
            })
        })
        .collect();
    for t in threads {
        assert_eq!(
            t.join().unwrap(),
            BatchOutcome::Written {
                events: events.len() as u64
            }
        );
    }
    let mut client = connect(&url);
    for (table, key) in [
        ("users", "name"),
        ("hosts", "name"),
        ("apps", "name"),
        ("windows", "title"),
        ("sessions", "name, user_id, host_id"),
        ("elements", "role, name, ident, path"),
    ] {
        let doubled: i64 = client
            .query_one(
                &format!("SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY {key} HAVING count(*) > 1) d"),
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(doubled, 0, "{table}");
    }
    let store = PgStore::open(&url).unwrap();
    assert_eq!(
        store.event_count().unwrap(),
        (writers * events.len()) as u64
    );
    let mut once = Store::open_in_memory().unwrap();
    once.write_batch(None, "t", |sink| -> Result<()> {
        events.iter().try_for_each(|e| sink.push(e))
    })
    .unwrap();
    assert_eq!(
        store.stats().unwrap().windows,
        once.stats().unwrap().windows
    );
}
