//! `taskmine copy --from A --to B`: moves a UI log between backends (SQLite file ⇄ PostgreSQL),
//! or between two databases of one backend.
//!
//! The source is read in event-id order, in chunks; each chunk is one batch in the target whose
//! key names the source and the chunk's first and last event id. A chunk already in the target is
//! a no-op, and a new run starts after the last chunk the target holds, so an interrupted copy
//! resumes where it stopped and a repeated one copies only what the source gained since.

use anyhow::{bail, Context};
use clap::Args;
use uilog::{BatchOutcome, LogRead, LogStore};

use super::DbArg;
use crate::Ui;

#[derive(Args)]
pub struct CopyArgs {
    /// The log to read: a SQLite file or a postgres:// URL.
    #[arg(long, value_name = "DB")]
    from: String,
    /// The log to write into (created when it is a new SQLite file): a SQLite file or a
    /// postgres:// URL.
    #[arg(long, value_name = "DB")]
    to: String,
    /// Events per batch in the target.
    #[arg(long, default_value_t = 50_000)]
    chunk: usize,
}

pub fn run(args: CopyArgs, ui: &Ui) -> anyhow::Result<()> {
    let from = DbArg {
        db: args.from.clone().into(),
    };
    let to = DbArg {
        db: args.to.clone().into(),
    };
    let source = from.open_log_existing()?;
    let mut target = to.open_log()?;
    if source.location() == target.location() {
        bail!(
            "{}: --from and --to are the same database",
            source.location()
        );
    }
    let outcome = copy(&source, &mut target, args.chunk.max(1), ui)
        .with_context(|| format!("copying {} to {}", from.shown(), to.shown()))?;
    eprintln!(
        "copied {} events in {} batches from {} to {}{}",
        outcome.events,
        outcome.batches,
        from.shown(),
        to.shown(),
        match (outcome.skipped, outcome.resumed_after) {
            (0, 0) => String::new(),
            (0, id) => format!(" (resumed after source event {id})"),
            (n, _) => format!(" ({n} batches were there already)"),
        }
    );
    Ok(())
}

/// What [`copy`] did.
#[derive(Debug, Default)]
pub struct Copied {
    pub events: u64,
    pub batches: u64,
    /// Chunks the target already held (a concurrent copy wrote them).
    pub skipped: u64,
    /// The source event id the copy started after (0 for a first copy).
    pub resumed_after: i64,
}

/// Copies the events of `source` that `target` does not hold yet; see the module's description.
pub fn copy(
    source: &LogStore,
    target: &mut LogStore,
    chunk: usize,
    ui: &Ui,
) -> anyhow::Result<Copied> {
    let prefix = format!("copy:{}:", source.location());
    // Chunk keys end in `<first id>-<last id>`: the last id of the last chunk is where to go on.
    let mut cursor = 0i64;
    for key in target.batch_keys(&prefix)? {
        let last = key
            .rsplit('-')
            .next()
            .and_then(|id| id.parse::<i64>().ok())
            .with_context(|| format!("batch key {key:?} in the target does not end in an id"))?;
        cursor = cursor.max(last);
    }
    let mut out = Copied {
        resumed_after: cursor,
        ..Copied::default()
    };
    let upto = source.last_event_id()?;
    if upto <= cursor {
        return Ok(out);
    }
    // Read after `upto`: every event up to it was committed with its strings before.
    let dict = source.dictionary()?;
    let origin = format!("copy:{}", source.location());
    let total = source.event_count()?;
    let bar = ui.bar(total, "copy", "events");
    let mut events = Vec::with_capacity(chunk);
    loop {
        events.clear();
        let (mut first, mut last) = (0i64, 0i64);
        source.scan_after(cursor, upto, chunk, |row| -> uilog::Result<()> {
            if first == 0 {
                first = row.id;
            }
            last = row.id;
            events.push(dict.resolve(&row));
            Ok(())
        })?;
        if events.is_empty() {
            break;
        }
        let key = format!("{prefix}{first:016}-{last:016}");
        let written = target.write_batch(Some(&key), &origin, |sink| -> uilog::Result<()> {
            events.iter().try_for_each(|e| sink.push(e))
        })?;
        match written {
            BatchOutcome::Written { events } => {
                out.events += events;
                out.batches += 1;
            }
            BatchOutcome::AlreadyWritten => out.skipped += 1,
        }
        bar.inc(events.len() as u64);
        cursor = last;
        if events.len() < chunk {
            break;
        }
    }
    bar.finish_and_clear();
    Ok(out)
}
