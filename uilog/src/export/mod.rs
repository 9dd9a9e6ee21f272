//! Exporters: the whole log out of the [`Store`](crate::Store), streamed in (session, time) order.
//!
//! - [`write_csv`]: taskmine's own CSV (the columns of [`CSV_COLUMNS`]), which
//!   [`crate::import::import_file`] reads back exactly.
//! - [`write_jsonl`]: one serde-serialized [`Event`](crate::Event) per line.
//! - [`write_xes`]: IEEE 1849 XES for process-mining tools (PM4Py, ProM, bupaR), one trace per
//!   session or per case.
//! - [`write_ocel`]: OCEL 2.0 JSON, with users, sessions, applications and cases as objects.
//!
//! Each returns the number of events written. The CSV and XES writers work on the store's interned
//! rows ([`Store::scan`](crate::Store::scan)) and resolve names by reference, so exporting a million events allocates
//! little beyond the output buffer.

use std::io::{self, Write};
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::event::Micros;
use crate::import::time::format_log_ts;

mod csv;
mod jsonl;
mod ocel;
mod xes;

pub use self::csv::write_csv;
pub use self::jsonl::write_jsonl;
pub use self::ocel::write_ocel;
pub use self::xes::{event_label, write_xes, TraceBy};
pub use crate::import::taskmine::COLUMNS as CSV_COLUMNS;

/// An error writing to the output, which the exporters do not know the name of.
fn out_err(e: io::Error) -> Error {
    Error::io(PathBuf::from("<export output>"), e)
}

/// The RFC 3339 text of an event's time. A time outside the log's range (years 1970–9999, which
/// only a database written before the range was enforced can hold) is refused rather than
/// written in a form no importer reads back.
fn ts_text(ts: Micros) -> Result<String> {
    format_log_ts(ts).map_err(|m| {
        Error::Invalid(format!(
            "an event's time cannot be exported: {m}; an import would refuse it"
        ))
    })
}

/// Writes through `out` with a buffer, reporting the first error.
fn buffered(out: &mut dyn Write) -> io::BufWriter<&mut dyn Write> {
    io::BufWriter::with_capacity(256 * 1024, out)
}

/// Flushes and turns a write error into the crate's error.
fn finish(mut w: io::BufWriter<&mut dyn Write>) -> Result<()> {
    w.flush().map_err(out_err)
}
