//! The batched writer: events wait in memory for at most one flush interval, then go to SQLite in
//! one transaction. A crash loses at most the events of that window; since every batch is one
//! transaction in a WAL database, the file is never left half-written.

use std::time::{Duration, Instant};

use uilog::{Event, Store};

use crate::error::Result;

/// Events reach the database at least this often (the bound is 500 ms; half of it leaves
/// room for a slow transaction).
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(250);

pub struct Writer {
    store: Store,
    buf: Vec<Event>,
    /// When the oldest buffered event arrived.
    oldest: Option<Instant>,
    interval: Duration,
    written: u64,
}

impl Writer {
    pub fn new(store: Store) -> Writer {
        Writer::with_interval(store, FLUSH_INTERVAL)
    }

    pub fn with_interval(store: Store, interval: Duration) -> Writer {
        Writer {
            store,
            buf: Vec::new(),
            oldest: None,
            interval,
            written: 0,
        }
    }

    pub fn push(&mut self, events: Vec<Event>, now: Instant) {
        if events.is_empty() {
            return;
        }
        if self.buf.is_empty() {
            self.oldest = Some(now);
        }
        self.buf.extend(events);
    }

    /// When the buffered events must be written; `None` while nothing waits.
    pub fn deadline(&self) -> Option<Instant> {
        self.oldest.map(|t| t + self.interval)
    }

    /// Writes the buffer if its oldest event has waited a full interval.
    pub fn flush_if_due(&mut self, now: Instant) -> Result<()> {
        match self.deadline() {
            Some(d) if now >= d => self.flush(),
            _ => Ok(()),
        }
    }

    /// Writes everything buffered, as one batch. On failure nothing is written and the events stay
    /// buffered for the next attempt.
    pub fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let events = &self.buf;
        // All or nothing: on failure the buffer is kept, and writing it again cannot duplicate.
        self.store
            .write_batch(None, "recorder", |sink| -> uilog::Result<()> {
                for e in events {
                    sink.push(e)?;
                }
                Ok(())
            })?;
        self.written += self.buf.len() as u64;
        self.buf.clear();
        self.oldest = None;
        Ok(())
    }

    /// Events written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// For writes beside the events' batches (snapshots of events already written).
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    pub fn into_store(mut self) -> Result<Store> {
        self.flush()?;
        Ok(self.store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uilog::EventKind;

    #[test]
    fn events_wait_at_most_one_interval() {
        let mut w =
            Writer::with_interval(Store::open_in_memory().unwrap(), Duration::from_millis(100));
        let t0 = Instant::now();
        assert_eq!(w.deadline(), None);
        w.push(vec![Event::new("s", "u", 1, EventKind::Click)], t0);
        w.push(
            vec![Event::new("s", "u", 2, EventKind::Click)],
            t0 + Duration::from_millis(60),
        );
        assert_eq!(
            w.deadline(),
            Some(t0 + Duration::from_millis(100)),
            "the oldest event sets the deadline"
        );
        w.flush_if_due(t0 + Duration::from_millis(99)).unwrap();
        assert_eq!(w.store().stats().unwrap().events, 0);
        w.flush_if_due(t0 + Duration::from_millis(100)).unwrap();
        assert_eq!(w.store().stats().unwrap().events, 2);
        assert_eq!(w.written(), 2);
        assert_eq!(w.deadline(), None);
        w.push(vec![Event::new("s", "u", 3, EventKind::Focus)], t0);
        let store = w.into_store().unwrap();
        assert_eq!(store.stats().unwrap().events, 3, "closing writes the rest");
    }
}
