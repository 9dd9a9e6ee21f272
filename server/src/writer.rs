//! The one thread that owns the writing connection: handlers queue batches to it, so concurrent
//! agents never wait on SQLite's write lock.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Notify};
use uilog::{BatchOutcome, Event, Store};

use crate::error::Error;

/// A batch for the writer thread.
pub(crate) struct Job {
    pub key: String,
    pub origin: String,
    pub events: Vec<Event>,
    pub reply: oneshot::Sender<Result<BatchOutcome, Error>>,
}

/// Starts the thread that owns the one writing connection. It ends when every sender is dropped.
/// `written` is signalled after every batch that wrote events, for the mining job.
pub(crate) fn spawn_writer(mut store: Store, written: Arc<Notify>) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(64);
    std::thread::Builder::new()
        .name("taskmine-writer".into())
        .spawn(move || {
            while let Some(job) = rx.blocking_recv() {
                let result = store
                    .write_batch(Some(&job.key), &job.origin, |sink| -> uilog::Result<()> {
                        for e in &job.events {
                            sink.push(e)?;
                        }
                        Ok(())
                    })
                    .map_err(Error::from);
                if let Ok(BatchOutcome::Written { .. }) = result {
                    written.notify_one();
                }
                // The handler may have gone (client hung up); the batch is written either way.
                let _ = job.reply.send(result);
            }
        })
        .expect("spawn the writer thread");
    tx
}
