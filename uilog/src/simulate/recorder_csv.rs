//! A simulated log written as a browser-extension recorder writes its CSV (the Action Logger logs
//! of the robotic-process-mining literature, SAP Fiori recordings): one row per event with the
//! element's tag, label and XPath, coordinates as floats with sub-pixel parts, and the ground truth
//! in two label columns that an evaluation holds out when importing
//! ([`crate::import::import_with_truth`] with case column `instance` and routine column `task`).
//!
//! It exists to test the way in that real logs take, importer included, against a known truth; the
//! store's own CSV export ([`crate::export::write_csv`]) stays the lossless one.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::event::{format_ts, Event, EventKind};
use crate::truth::GroundTruth;

/// The columns, in the recorders' own names where they have one.
const HEADER: [&str; 19] = [
    "timeStamp",
    "userID",
    "targetApp",
    "eventType",
    "window",
    "url",
    "content",
    "target.workbookName",
    "target.sheetName",
    "target.id",
    "target.tagName",
    "target.name",
    "target.value",
    "target.xpath",
    "keys",
    "x",
    "y",
    "task",
    "instance",
];

/// Writes `events` (one session's or several, in log order) with their labels from `truth`; noise
/// and idle rows have empty labels. Returns the number of rows written. `path` names the output in
/// errors.
///
/// Coordinates get a sub-pixel part drawn from the event's time, as browsers report them at page
/// zoom, so an importer must round them (never by more than half a pixel). Typing runs lose their
/// duration and drags their end point: these recorders write neither.
pub fn write_recorder_csv(
    events: &[Event],
    truth: &GroundTruth,
    out: &mut dyn Write,
    path: &Path,
) -> Result<u64> {
    let io = |e: csv::Error| {
        Error::io(
            path,
            match e.into_kind() {
                csv::ErrorKind::Io(e) => e,
                other => std::io::Error::other(format!("{other:?}")),
            },
        )
    };
    let index = truth.index();
    let names: std::collections::HashMap<u32, &str> = truth
        .routines
        .iter()
        .map(|r| (r.id, r.name.as_str()))
        .collect();
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER).map_err(io)?;
    let mut row: Vec<String> = Vec::with_capacity(HEADER.len());
    for e in events {
        row.clear();
        let attr = |k: &str| e.attrs.get(k).cloned().unwrap_or_default();
        let el = e.element.as_ref();
        let part = |f: fn(&crate::event::Element) -> &Option<String>| {
            el.and_then(|el| f(el).clone()).unwrap_or_default()
        };
        // Sub-pixel part in [-0.45, 0.45], so rounding gives back the integer.
        let frac = ((e.ts.rem_euclid(91)) as f64 - 45.0) / 100.0;
        let coord = |c: Option<i32>| c.map_or(String::new(), |c| format!("{:.2}", c as f64 + frac));
        let (content, value) = match e.kind {
            EventKind::Copy | EventKind::Paste => {
                (e.text.clone().unwrap_or_default(), String::new())
            }
            _ => (String::new(), e.text.clone().unwrap_or_default()),
        };
        let event_type = match e.kind {
            EventKind::Type => "editField".to_owned(),
            kind => kind.to_string(),
        };
        let (task, instance) = match index.instance_of(&e.session, e.ts) {
            Some(id) => {
                let routine = index.routine_of(&e.session, e.ts).unwrap_or(0);
                (
                    names.get(&routine).copied().unwrap_or("").to_owned(),
                    id.to_string(),
                )
            }
            None => (String::new(), String::new()),
        };
        row.extend([
            format_ts(e.ts),
            e.user.clone(),
            e.app.clone(),
            event_type,
            e.window.clone(),
            attr("url"),
            content,
            attr("workbook"),
            attr("sheet"),
            part(|el| &el.id),
            part(|el| &el.role),
            part(|el| &el.name),
            value,
            part(|el| &el.path),
            attr("keys"),
            coord(e.x),
            coord(e.y),
            task,
            instance,
        ]);
        w.write_record(&row).map_err(io)?;
    }
    w.flush().map_err(|e| Error::io(path, e))?;
    Ok(events.len() as u64)
}
