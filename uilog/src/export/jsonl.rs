//! JSONL of [`Event`](crate::Event)s, the format [`crate::import::Format::Jsonl`] reads back.

use std::io::Write;

use crate::error::{Error, Result};
use crate::event::check_ts;
use crate::log_store::LogRead;

use super::{buffered, finish, out_err};

/// Writes every event as one line of JSON. Returns the number of events written.
pub fn write_jsonl(store: &dyn LogRead, out: &mut dyn Write) -> Result<u64> {
    let mut w = buffered(out);
    let mut n = 0u64;
    let d = store.dictionary()?;
    store.visit_rows(&mut |row| -> Result<()> {
        let e = &d.resolve(&row);
        // The JSONL importer refuses a time outside the log's range; so must its exporter.
        check_ts(e.ts).map_err(|m| {
            Error::Invalid(format!(
                "an event's time cannot be exported: {m}; an import would refuse it"
            ))
        })?;
        serde_json::to_writer(&mut w, e).map_err(|x| {
            if x.is_io() {
                out_err(x.into())
            } else {
                Error::Invalid(x.to_string())
            }
        })?;
        w.write_all(b"\n").map_err(out_err)?;
        n += 1;
        Ok(())
    })?;
    finish(w)?;
    Ok(n)
}
