//! Importing a labelled log as an unlabelled one plus its ground truth.
//!
//! Public logs of the literature say which task instance (and task type) each row belongs to. For
//! an evaluation the miner must not see that: [`import_with_truth`] reads the file with the label
//! columns set aside, writes the events without them (neither in `attrs` nor as `case`), and returns
//! the labels as a [`GroundTruth`] whose `(session, ts)` pairs are exactly the stored events'.

use std::path::Path;

use crate::error::{Error, Result};
use crate::event::{check_ts, Event};
use crate::log_store::LogWrite;
use crate::truth::GroundTruth;

use super::rpa::{role_of, Role};
use super::{batch_key, prepare, read_file, ImportOptions, ImportSummary, Push};

/// Which columns of a labelled log hold the truth, and how its rows make instances.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TruthLabels {
    /// The column (CSV), attribute key (XES, JSONL `attrs`) or `case` whose value names the task
    /// instance of a row. Rows without a value are noise.
    pub case: String,
    /// The column naming the routine (task type) of a row; without it every instance is filed under
    /// one routine named after the file.
    pub routine: Option<String>,
    /// Keep the file's row order: every row goes into one session (the `session` option or the
    /// file stem) in the order of the file, and a timestamp not later than the one before it is
    /// moved to 1 µs after it. Without it, each session's rows are put in time order first.
    pub stream: bool,
}

/// A private attribute that carries an event's routine label from the reader to
/// [`GroundTruth::take_labels`]; removed before anything is stored.
const ROUTINE_KEY: &str = "\u{0}taskmine:truth-routine";

/// Imports `path` like [`super::import_file`], but takes the label columns `labels` out of every
/// event and returns them as a ground truth. Returns the import's summary and the truth; writing
/// the truth (for example with [`GroundTruth::write`]) is the caller's.
///
/// The whole file is read into memory first, because the truth's timestamps must be those the
/// store keeps and [`GroundTruth::take_labels`] may move tied ones. On any error nothing is stored.
/// A file imported before with the same options and labels is not stored again
/// ([`crate::BatchOutcome::AlreadyWritten`]), but its truth is still returned.
pub fn import_with_truth(
    store: &mut impl LogWrite,
    path: &Path,
    opts: &ImportOptions,
    labels: &TruthLabels,
    progress: &mut dyn FnMut(u64),
) -> Result<(ImportSummary, GroundTruth)> {
    if labels.case.is_empty() {
        return Err(Error::input(path, "the truth's case column has no name"));
    }
    let (format, mut ctx) = prepare(path, opts)?;
    ctx.labels.push(labels.case.clone());
    ctx.labels.extend(labels.routine.iter().cloned());
    if labels.stream {
        ctx.session_override = true;
    }
    let mut collect = Collect {
        labels,
        events: Vec::new(),
        labelled: 0,
    };
    read_file(format, &ctx, &mut collect, progress)?;
    let Collect {
        mut events,
        labelled,
        ..
    } = collect;
    if labelled == 0 {
        return Err(Error::input(
            path,
            format!(
                "no event has a value in the case column `{}`; name the column that labels the instances",
                labels.case
            ),
        ));
    }
    if !labels.stream {
        // `take_labels` wants each session's events together; a file may interleave sessions.
        let mut first: std::collections::HashMap<String, usize> = Default::default();
        for e in &events {
            let n = first.len();
            first.entry(e.session.clone()).or_insert(n);
        }
        events.sort_by_key(|e| first[&e.session]);
    }
    if labels.stream {
        for i in 1..events.len() {
            if events[i].ts <= events[i - 1].ts {
                events[i].ts = events[i - 1].ts + 1;
            }
        }
    }
    let source = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let truth =
        GroundTruth::take_labels(&mut events, &source, |e| e.attrs.get(ROUTINE_KEY).cloned());
    for e in &mut events {
        e.attrs.remove(ROUTINE_KEY);
        // Moving tied timestamps apart may pass the last instant the log holds.
        check_ts(e.ts).map_err(|m| Error::input(path, m))?;
    }

    let mut extra = b"truth\0".to_vec();
    extra.extend_from_slice(labels.case.as_bytes());
    extra.push(0);
    extra.extend_from_slice(labels.routine.as_deref().unwrap_or("").as_bytes());
    extra.extend_from_slice(if labels.stream {
        b"\0stream\0"
    } else {
        b"\0sorted\0"
    });
    let key = batch_key(path, format, &ctx, &extra)?;
    let origin = format!("import:{format}:{}", path.display());
    let outcome = store.write_events(Some(&key), &origin, |sink| -> Result<()> {
        for e in &events {
            sink.push(e)?;
        }
        Ok(())
    })?;
    Ok((
        ImportSummary {
            path: path.to_path_buf(),
            format,
            outcome,
        },
        truth,
    ))
}

/// Collects the events of a labelled file with their labels moved into `case` (the instance) and
/// [`ROUTINE_KEY`] (the routine), as [`GroundTruth::take_labels`] wants them.
struct Collect<'l> {
    labels: &'l TruthLabels,
    events: Vec<Event>,
    labelled: u64,
}

/// Takes the value of label column `name` out of an event: from `attrs`, where the readers put label
/// columns, or from `case` when the label is the format's case column (`case` of the taskmine CSV
/// and JSONL, a trace's name in XES).
fn take_label(e: &mut Event, name: &str) -> Option<String> {
    if let Some(v) = e.attrs.remove(name) {
        return Some(v);
    }
    if role_of(name).0 == Role::Case {
        return e.case.take();
    }
    None
}

impl Push for Collect<'_> {
    fn push(&mut self, e: &Event) -> Result<()> {
        let mut e = e.clone();
        let case = take_label(&mut e, &self.labels.case).filter(|c| !c.is_empty());
        let routine = match &self.labels.routine {
            Some(col) => take_label(&mut e, col).filter(|r| !r.is_empty()),
            None => None,
        };
        // The stored event keeps no case: the only case an evaluation has is the label's.
        e.case = case;
        if e.case.is_some() {
            self.labelled += 1;
        }
        if let Some(r) = routine {
            e.attrs.insert(ROUTINE_KEY.to_owned(), r);
        }
        self.events.push(e);
        Ok(())
    }
}
