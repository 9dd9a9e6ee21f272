//! The threads that own the writing connections: handlers queue batches to them, so concurrent
//! agents never wait on SQLite's write lock. On SQLite there is one; on PostgreSQL a pool of
//! them, each with its own connection, since batches of different agents commit side by side
//! there (and two writers with one batch key store it once: the key is a unique column).

use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot, Notify};
use uilog::{BatchOutcome, Event, LogStore};

use crate::error::Error;

/// A batch for a writer thread.
pub(crate) struct Job {
    pub key: String,
    pub origin: String,
    pub events: Vec<Event>,
    pub reply: oneshot::Sender<Result<BatchOutcome, Error>>,
}

/// Starts `n` writer threads: the first with `first`, the others with stores from `open`. They end
/// when every sender is dropped. `written` is signalled after every batch that wrote events, for
/// the mining job.
///
/// A failed batch rolled back as a whole (its transaction); the agent is answered with the error
/// and sends it again. When the failure was a lost connection, the thread opens a new one for the
/// next batch.
pub(crate) fn spawn_writers(
    first: LogStore,
    open: impl Fn() -> uilog::Result<LogStore> + Send + Sync + 'static,
    n: usize,
    written: Arc<Notify>,
) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel::<Job>(64);
    let rx = Arc::new(Mutex::new(rx));
    let open = Arc::new(open);
    let mut first = Some(first);
    for i in 0..n.max(1) {
        let (rx, open, written) = (Arc::clone(&rx), Arc::clone(&open), Arc::clone(&written));
        let mut store = first.take();
        std::thread::Builder::new()
            .name(format!("taskmine-writer-{i}"))
            .spawn(move || loop {
                // One thread waits for the next job at a time; the others wait for the lock.
                let Some(job) = rx.lock().expect("writer queue").blocking_recv() else {
                    return;
                };
                let result = write(&mut store, &*open, &job);
                if let Ok(BatchOutcome::Written { .. }) = result {
                    written.notify_one();
                }
                // The handler may have gone (client hung up); the batch is written either way.
                let _ = job.reply.send(result);
            })
            .expect("spawn a writer thread");
    }
    tx
}

fn write(
    store: &mut Option<LogStore>,
    open: &dyn Fn() -> uilog::Result<LogStore>,
    job: &Job,
) -> Result<BatchOutcome, Error> {
    let mut attempt = 0;
    loop {
        if store.as_ref().is_none_or(LogStore::is_closed) {
            *store = Some(open()?);
        }
        let s = store.as_mut().expect("opened above");
        let result = s
            .write_batch(Some(&job.key), &job.origin, |sink| -> uilog::Result<()> {
                for e in &job.events {
                    sink.push(e)?;
                }
                Ok(())
            })
            .map_err(Error::from);
        match result {
            // SQLite answers "busy" at once, without waiting, when the batch's transaction has
            // read and another connection (the mining job storing its result) holds the write
            // lock. The batch was rolled back whole; it is tried again shortly.
            Err(e) if is_sqlite_busy(&e) && attempt < BUSY_RETRIES => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(20 * attempt));
            }
            Err(e) => {
                if s.is_closed() {
                    tracing::warn!("a writer's connection to the database was lost; it reconnects");
                    *store = None;
                } else if s.as_sqlite().is_none() {
                    // A PostgreSQL batch that failed mid-way (a statement timeout cancelling its
                    // COPY) can leave the client out of step with the server while it still
                    // looks open: the next batch then failed with "unexpected message from
                    // server" (seen under load in CI). A fresh connection costs little next to
                    // a failed batch.
                    tracing::warn!("a writer's batch failed ({e}); it reconnects");
                    *store = None;
                }
                return Err(e);
            }
            ok => return ok,
        }
    }
}

/// Times a batch is tried again after SQLite said the database is busy.
const BUSY_RETRIES: u64 = 10;

fn is_sqlite_busy(e: &Error) -> bool {
    let source = match e {
        Error::Store(uilog::Error::Sqlite { source, .. }) => source,
        Error::Sqlite { source, .. } => source,
        _ => return false,
    };
    matches!(source, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy)
}
