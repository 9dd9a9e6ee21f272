//! Erasing one person from a log of about 1M events: time to delete their rows and time to compact
//! the file. `cargo run --release -p server --example erase_bench [events]`.

use std::time::Instant;

fn main() {
    let target: u64 = std::env::args()
        .nth(1)
        .map_or(1_000_000, |a| a.parse().expect("events: a number"));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("log.db");
    let cfg = uilog::SimConfig {
        events_target: Some(target),
        ..uilog::SimConfig::default()
    };
    let start = Instant::now();
    let mut store = uilog::Store::open(&db).expect("open");
    let mut users = std::collections::BTreeSet::new();
    store
        .write_batch(None, "bench", |sink| -> uilog::Result<()> {
            uilog::simulate(&cfg, |e| {
                users.insert(e.user.clone());
                sink.push(e)
            })
            .map(|_| ())
        })
        .expect("write the log");
    let stats = store.stats().expect("stats");
    let size = std::fs::metadata(&db).map_or(0, |m| m.len());
    println!(
        "log: {} events of {} users, {:.0} MB, written in {:.1} s",
        stats.events,
        stats.users,
        size as f64 / 1e6,
        start.elapsed().as_secs_f64()
    );
    let person = users.iter().nth(users.len() / 2).expect("a user").clone();
    let start = Instant::now();
    let e = server::erasure::erase(&mut store, &person, "bench", "local", true).expect("erase");
    println!(
        "erased {} ({} events): {:.2} s deleting + {:.2} s compacting = {:.2} s (target < 10 s)",
        person,
        e.events,
        e.delete.as_secs_f64(),
        e.compact.as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
}
