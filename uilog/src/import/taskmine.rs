//! taskmine's own CSV: one column per field of [`Event`], as [`crate::export::write_csv`] writes it.
//!
//! `ts` is RFC 3339 with microseconds, `kind` an [`EventKind`] name, `value_hash` 16 hex digits,
//! `attrs` a JSON object of strings; an empty cell is an absent value (so an empty `text` or `case`
//! reads back as absent). Columns are found by name; `session`, `user`, `ts` and `kind` are required.

use std::collections::BTreeMap;
use std::io::Read;

use crate::error::{Error, Result};
use crate::event::{Event, EventKind, ValueHash};

use super::time::parse_log_ts;
use super::{
    csv_header, csv_reader, field_line, parse_coord, set_opt, set_sorted_attrs, Ctx, Push,
    QuoteCheck,
};

/// The columns of the taskmine CSV, in the order the exporter writes them.
pub const COLUMNS: [&str; 19] = [
    "session",
    "user",
    "host",
    "ts",
    "kind",
    "app",
    "window",
    "element_role",
    "element_name",
    "element_id",
    "element_path",
    "x",
    "y",
    "wx",
    "wy",
    "text",
    "value_hash",
    "case",
    "attrs",
];

const REQUIRED: [usize; 4] = [0, 1, 3, 4];

pub(super) fn read(input: impl Read, ctx: &Ctx, sink: &mut dyn Push) -> Result<()> {
    let file = ctx.file.as_path();
    let mut reader = csv_reader(QuoteCheck::new(input, b','), false, b',');
    let header = csv_header(&mut reader, file)?;
    // Where each of COLUMNS sits in this file.
    let mut at: [Option<usize>; COLUMNS.len()] = [None; COLUMNS.len()];
    // Truth label columns (only in a truth import): read into `attrs` for the import to take out.
    let mut labels: Vec<(usize, &str)> = Vec::new();
    for (i, name) in header.iter().enumerate() {
        match COLUMNS.iter().position(|c| c == name) {
            Some(c) if at[c].is_none() => at[c] = Some(i),
            Some(_) => return Err(Error::parse(file, 1, name.as_str(), "column appears twice")),
            None if ctx.is_label(name) => {
                if labels.iter().any(|(_, n)| n == name) {
                    return Err(Error::parse(file, 1, name.as_str(), "column appears twice"));
                }
                labels.push((i, name));
            }
            None => {
                return Err(Error::parse(
                    file,
                    1,
                    name.as_str(),
                    format!(
                        "not a column of the taskmine CSV (expected {})",
                        COLUMNS.join(",")
                    ),
                ))
            }
        }
    }
    for c in REQUIRED {
        if at[c].is_none() {
            return Err(Error::parse(
                file,
                1,
                COLUMNS[c],
                "required column is missing from the header",
            ));
        }
    }

    // The record as text when all of it is UTF-8 (checked once per row, nearly always ASCII), else
    // as bytes, whose cells are checked one by one to name the bad one.
    let mut record: Record = Err(csv::ByteRecord::new());
    let mut e = Event::new("", "", 0, EventKind::Other);
    let mut spare = Vec::new();
    loop {
        let mut raw = match record {
            Ok(text) => text.into_byte_record(),
            Err(raw) => raw,
        };
        if !QuoteCheck::next_record(&mut reader, &mut raw, file)? {
            break;
        }
        record = csv::StringRecord::from_byte_record(raw).map_err(|x| x.into_byte_record());
        let row = Row {
            record: &record,
            at: &at,
            file,
        };
        let fail = |c: usize, message: String| row.fail(c, message);
        let cell = |c: usize| row.cell(c);
        fn opt(s: &str) -> Option<&str> {
            (!s.is_empty()).then_some(s)
        }
        let int = |c: usize, s: &str| -> Result<Option<i32>> {
            if s.is_empty() {
                return Ok(None);
            }
            parse_coord(s).map(Some).map_err(|m| fail(c, m))
        };

        e.session.clear();
        if ctx.session_override {
            e.session.push_str(&ctx.session);
        } else {
            e.session.push_str(cell(0)?);
            if e.session.is_empty() {
                return Err(fail(0, "empty session".into()));
            }
        }
        e.user.clear();
        e.user.push_str(cell(1)?);
        e.host.clear();
        e.host.push_str(cell(2)?);
        e.ts = parse_log_ts(cell(3)?).map_err(|m| fail(3, m))?;
        e.kind = cell(4)?.parse().map_err(|m| fail(4, m))?;
        e.app.clear();
        e.app.push_str(cell(5)?);
        e.window.clear();
        e.window.push_str(cell(6)?);
        // The previous row's element is refilled in place: its strings are this row's buffers.
        let mut element = e.element.take().unwrap_or_default();
        set_opt(&mut element.role, opt(cell(7)?));
        set_opt(&mut element.name, opt(cell(8)?));
        set_opt(&mut element.id, opt(cell(9)?));
        set_opt(&mut element.path, opt(cell(10)?));
        e.element = (!element.is_empty()).then_some(element);
        e.x = int(11, cell(11)?)?;
        e.y = int(12, cell(12)?)?;
        e.wx = int(13, cell(13)?)?;
        e.wy = int(14, cell(14)?)?;
        set_opt(&mut e.text, opt(cell(15)?));
        let hash = cell(16)?;
        e.value_hash = if hash.is_empty() {
            None
        } else {
            Some(hash.parse::<ValueHash>().map_err(|m| fail(16, m))?)
        };
        set_opt(&mut e.case, opt(cell(17)?));
        let attrs = cell(18)?;
        if attrs.is_empty() {
            e.attrs.clear();
        } else if let Ok(map) = serde_json::from_str::<BTreeMap<&str, &str>>(attrs) {
            // Strings without escapes (nearly all) are borrowed from the cell and copied into the
            // previous row's buffers, instead of allocating every key and value of every row.
            set_sorted_attrs(&mut e.attrs, map.iter().map(|(k, v)| (*k, *v)), &mut spare);
        } else {
            e.attrs = serde_json::from_str(attrs)
                .map_err(|x| fail(18, format!("not a JSON object of strings: {x}")))?;
        }
        for &(i, name) in &labels {
            let raw = row.raw();
            let value = std::str::from_utf8(&raw[i]).map_err(|_| {
                Error::parse(file, field_line(file, raw, i), name, "not valid UTF-8")
            })?;
            e.attrs.insert(name.to_owned(), value.to_owned());
        }
        sink.push_refilled(&mut e)?;
    }
    Ok(())
}

/// A record read as text, or as bytes when some cell is not UTF-8.
type Record = std::result::Result<csv::StringRecord, csv::ByteRecord>;

/// One record with what is needed to read its cells and to name where a bad one is.
struct Row<'r> {
    record: &'r Record,
    at: &'r [Option<usize>; COLUMNS.len()],
    file: &'r std::path::Path,
}

impl<'r> Row<'r> {
    fn raw(&self) -> &'r csv::ByteRecord {
        match self.record {
            Ok(text) => text.as_byte_record(),
            Err(raw) => raw,
        }
    }

    fn cell(&self, c: usize) -> Result<&'r str> {
        match (self.at[c], self.record) {
            (None, _) => Ok(""),
            (Some(i), Ok(text)) => Ok(&text[i]),
            (Some(i), Err(raw)) => std::str::from_utf8(&raw[i]).map_err(|x| {
                self.fail(
                    c,
                    format!(
                        "not valid UTF-8 (after byte {} of the field)",
                        x.valid_up_to()
                    ),
                )
            }),
        }
    }

    fn fail(&self, c: usize, message: String) -> Error {
        let line = field_line(self.file, self.raw(), self.at[c].unwrap_or(0));
        Error::parse(self.file, line, COLUMNS[c], message)
    }
}
