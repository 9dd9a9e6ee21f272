//! taskmine's own CSV, the format [`crate::import::Format::Taskmine`] reads back.

use std::fmt::Write as _;
use std::io::Write;

use crate::error::{Error, Result};
use crate::log_store::LogRead;

use super::{out_err, ts_text, CSV_COLUMNS};

/// Writes every event as one CSV row under a header of [`CSV_COLUMNS`]. Absent values are empty
/// cells (so an empty `text` or `case` is written as absent); `attrs` is the JSON object the store
/// keeps. Returns the number of events written.
pub fn write_csv(store: &dyn LogRead, out: &mut dyn Write) -> Result<u64> {
    let d = store.dictionary()?;
    let mut w = ::csv::WriterBuilder::new()
        .buffer_capacity(256 * 1024)
        .from_writer(out);
    let csv_err = |e: ::csv::Error| out_err(e.into());
    w.write_record(CSV_COLUMNS).map_err(csv_err)?;
    let mut n = 0u64;
    let mut rec = ::csv::ByteRecord::new();
    let mut num = String::new();
    store.visit_rows(&mut |row| -> Result<()> {
        let session = d
            .sessions
            .get(row.session as usize)
            .ok_or_else(|| dangling("session", row.session))?;
        let element = d
            .elements
            .get(row.element as usize)
            .and_then(Option::as_ref);
        rec.clear();
        rec.push_field(session.name.as_bytes());
        rec.push_field(name(&d.users, session.user)?.as_bytes());
        rec.push_field(name(&d.hosts, session.host)?.as_bytes());
        rec.push_field(ts_text(row.ts)?.as_bytes());
        rec.push_field(row.kind.as_str().as_bytes());
        rec.push_field(name(&d.apps, row.app)?.as_bytes());
        rec.push_field(name(&d.windows, row.window)?.as_bytes());
        rec.push_field(part(element.and_then(|e| e.role.as_ref())).as_bytes());
        rec.push_field(part(element.and_then(|e| e.name.as_ref())).as_bytes());
        rec.push_field(part(element.and_then(|e| e.id.as_ref())).as_bytes());
        rec.push_field(part(element.and_then(|e| e.path.as_ref())).as_bytes());
        for v in [row.x, row.y, row.wx, row.wy] {
            num.clear();
            if let Some(v) = v {
                let _ = write!(num, "{v}");
            }
            rec.push_field(num.as_bytes());
        }
        rec.push_field(row.text.unwrap_or("").as_bytes());
        num.clear();
        if let Some(h) = row.value_hash {
            let _ = write!(num, "{h}");
        }
        rec.push_field(num.as_bytes());
        let case = if row.case == 0 {
            ""
        } else {
            name(&d.cases, row.case)?
        };
        rec.push_field(case.as_bytes());
        rec.push_field(row.attrs.unwrap_or("").as_bytes());
        w.write_byte_record(&rec).map_err(csv_err)?;
        n += 1;
        Ok(())
    })?;
    w.flush().map_err(out_err)?;
    Ok(n)
}

fn name(v: &[String], i: u32) -> Result<&str> {
    v.get(i as usize)
        .map(String::as_str)
        .ok_or_else(|| dangling("a name", i))
}

fn part(p: Option<&String>) -> &str {
    p.map(String::as_str).unwrap_or("")
}

fn dangling(table: &str, id: u32) -> Error {
    Error::Invalid(format!(
        "an event refers to {table} with id {id}, which the store does not hold"
    ))
}
