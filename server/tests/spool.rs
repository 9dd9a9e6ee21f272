//! The uploader's spool: the server goes away mid-recording and comes back; a forwarder crashes
//! between spooling and saving its cursor; answers get lost. Every event must arrive exactly once.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use server::client::{Forwarder, Uploader, UploaderConfig};
use support::*;
use uilog::{Element, Event, EventKind, Store, ValueHash};

const T0: i64 = 1_764_000_000_000_000;

/// A varied event, so that every field makes the round trip.
fn recorded(i: i64) -> Event {
    let kinds = [
        EventKind::Click,
        EventKind::Type,
        EventKind::Copy,
        EventKind::Focus,
    ];
    let mut e = Event::new("rec-1", "user-7", T0 + i * 1_000, kinds[(i % 4) as usize]);
    e.host = "host-3".into();
    e.app = format!("app-{}", i % 3);
    e.window = format!("Window {}", i % 5);
    if i % 2 == 0 {
        e.element = Some(Element {
            role: Some("button".into()),
            name: Some(format!("b{}", i % 7)),
            id: None,
            path: None,
        });
        e.x = Some(i as i32);
        e.y = Some(2 * i as i32);
    }
    if i % 4 == 1 {
        e.text = Some("****".into());
        e.value_hash = Some(ValueHash(i as u64 * 7919));
    }
    if i % 9 == 0 {
        e.attrs
            .insert("url".into(), format!("https://example.invalid/{i}"));
    }
    e
}

fn append(db: &std::path::Path, from: i64, n: i64) {
    let mut store = Store::open(db).unwrap();
    store
        .write_batch(None, "recorder", |sink| -> uilog::Result<()> {
            for i in from..from + n {
                sink.push(&recorded(i))?;
            }
            Ok(())
        })
        .unwrap();
}

/// A loopback port nothing listens on (yet).
fn free_addr() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

#[test]
fn server_stopped_mid_recording_every_event_arrives_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (remote, local, spool) = (
        dir.path().join("server.db"),
        dir.path().join("local.db"),
        dir.path().join("spool"),
    );
    let token = server::agents::add(&Store::open(&remote).unwrap(), "desk").unwrap();
    Store::open(&local).unwrap();
    let addr = free_addr();
    let mut srv = Some(TestServer::start_with(server::Config::new(&remote), addr));
    let mut cfg = UploaderConfig::new(&format!("http://{addr}"), &token, &spool);
    cfg.max_batch_events = 150;
    cfg.timeout = Duration::from_secs(5);
    let mut fwd = Forwarder::open(&local, cfg).unwrap();

    const CHUNKS: usize = 30;
    const PER_CHUNK: i64 = 100;
    let written = AtomicUsize::new(0);
    let (mut outage_seen, mut max_pending, mut restarted) = (false, 0, false);
    std::thread::scope(|s| {
        s.spawn(|| {
            for c in 0..CHUNKS {
                append(&local, c as i64 * PER_CHUNK, PER_CHUNK);
                written.store(c + 1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(15));
            }
        });
        let start = Instant::now();
        for _ in 0..5_000 {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "bounded in time"
            );
            let done = written.load(Ordering::SeqCst);
            if done >= 10 && srv.is_some() && !restarted {
                srv.take().unwrap().stop();
            }
            if done >= 20 && srv.is_none() {
                srv = Some(TestServer::start_with(server::Config::new(&remote), addr));
                restarted = true;
            }
            let flush = fwd.sync().unwrap();
            if srv.is_none() && flush.unreachable.is_some() {
                outage_seen = true;
                max_pending = max_pending.max(flush.pending);
            }
            assert!(flush.rejected.is_empty(), "{flush:?}");
            if done == CHUNKS && flush.pending == 0 && flush.unreachable.is_none() {
                // One more round: the last chunk may have landed after this sync's collect.
                let last = fwd.sync().unwrap();
                if last.pending == 0 && last.batches_sent == 0 {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    assert!(
        restarted && outage_seen,
        "the server really was away while recording"
    );
    assert!(max_pending > 0, "batches waited in the spool");
    assert!(fwd.uploader().pending().unwrap().is_empty());
    let sent = Store::open(&remote).unwrap().events().unwrap();
    let recorded_here = Store::open(&local).unwrap().events().unwrap();
    assert_eq!(recorded_here.len(), CHUNKS * PER_CHUNK as usize);
    assert_eq!(sent.len(), recorded_here.len(), "nothing lost or doubled");
    assert_eq!(sent, recorded_here, "every field arrives as recorded");
}

#[test]
fn a_forwarder_restarted_after_a_crash_spools_nothing_twice_and_lost_answers_are_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let (remote, local, spool) = (
        dir.path().join("server.db"),
        dir.path().join("local.db"),
        dir.path().join("spool"),
    );
    let token = server::agents::add(&Store::open(&remote).unwrap(), "desk").unwrap();
    append(&local, 0, 250);
    let addr = free_addr();
    let mut cfg = UploaderConfig::new(&format!("http://{addr}"), &token, &spool);
    cfg.max_batch_events = 100;
    cfg.timeout = Duration::from_secs(5);

    let mut fwd = Forwarder::open(&local, cfg.clone()).unwrap();
    let flush = fwd.sync().unwrap();
    assert!(flush.unreachable.is_some(), "nothing listens yet");
    assert_eq!(flush.pending, 3);
    drop(fwd);
    // A crash after a batch was spooled but before the cursor was saved.
    std::fs::remove_file(spool.join("cursor")).unwrap();
    let mut fwd = Forwarder::open(&local, cfg.clone()).unwrap();
    assert_eq!(
        fwd.collect().unwrap(),
        0,
        "the spooled batches' names keep the position"
    );
    append(&local, 250, 50);
    assert_eq!(fwd.collect().unwrap(), 50);
    let pending = fwd.uploader().pending().unwrap();
    assert_eq!(pending.len(), 4);
    let kept = std::fs::read(spool.join(format!("{}.batch.json", pending[1]))).unwrap();

    let _srv = TestServer::start_with(server::Config::new(&remote), addr);
    let flush = fwd.sync().unwrap();
    assert_eq!(
        (flush.batches_sent, flush.events_written, flush.pending),
        (4, 300, 0),
        "{flush:?}"
    );
    assert_eq!(count_events(&remote), 300);

    // The answer to a batch was lost, so it is still in the spool and is sent again.
    std::fs::write(spool.join(format!("{}.batch.json", pending[1])), kept).unwrap();
    let flush = fwd.sync().unwrap();
    assert_eq!(
        (flush.batches_sent, flush.duplicates, flush.events_written),
        (1, 1, 0)
    );
    assert_eq!(
        Store::open(&remote).unwrap().events().unwrap(),
        Store::open(&local).unwrap().events().unwrap()
    );
}

#[test]
fn a_bad_token_keeps_the_batch_and_a_malformed_one_is_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let remote = dir.path().join("server.db");
    let token = server::agents::add(&Store::open(&remote).unwrap(), "desk").unwrap();
    let srv = TestServer::start(&remote);
    let base = format!("http://{}", srv.addr);

    let mut up =
        Uploader::open(UploaderConfig::new(&base, "tm_wrong", dir.path().join("a"))).unwrap();
    up.spool_batch("b1", &[recorded(1)]).unwrap();
    #[cfg(unix)]
    {
        // Spooled batches hold work activity: the owner's eyes only.
        use std::os::unix::fs::PermissionsExt;
        let mode =
            |p: std::path::PathBuf| std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(dir.path().join("a")), 0o700);
        assert_eq!(mode(dir.path().join("a/b1.batch.json")), 0o600);
    }
    let err = up.flush().unwrap_err().to_string();
    assert!(err.contains("401") && err.contains("b1"), "{err}");
    assert_eq!(up.pending().unwrap(), vec!["b1".to_owned()]);

    let spool = dir.path().join("b");
    let mut up = Uploader::open(UploaderConfig::new(&base, &token, &spool)).unwrap();
    std::fs::write(
        spool.join("a-bad.batch.json"),
        br#"{"batch_id":"a-bad","events":[{"session":"s","user":"u","kind":"click"}]}"#,
    )
    .unwrap();
    up.spool_batch("b-good", &[recorded(1), recorded(2)])
        .unwrap();
    let flush = up.flush().unwrap();
    assert_eq!(flush.rejected.len(), 1, "{flush:?}");
    assert!(
        flush.rejected[0].contains("events[0]") && flush.rejected[0].contains("ts"),
        "{flush:?}"
    );
    assert_eq!(flush.events_written, 2);
    assert!(spool.join("rejected/a-bad.batch.json").is_file());
    assert!(up.pending().unwrap().is_empty());
    assert_eq!(count_events(&remote), 2);
}
