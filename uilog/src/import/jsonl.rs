//! JSONL of taskmine's own [`Event`] model: one JSON object per line, as serde writes an `Event`
//! (`ts` in microseconds, `kind` a kind name, absent optional fields left out). Blank lines are
//! skipped. A bad line is reported with the field that made it bad; `ts` must lie in the log's range
//! (years 1970–9999), as everywhere.

use std::io::{BufRead, BufReader, Read};

use crate::error::{Error, Result};
use crate::event::{check_ts, Event};

use super::{Ctx, Push};

pub(super) fn read(input: impl Read, ctx: &Ctx, sink: &mut dyn Push) -> Result<()> {
    let file = ctx.file.as_path();
    let mut reader = BufReader::with_capacity(256 * 1024, input);
    let mut raw = Vec::new();
    let mut line = 0u64;
    let mut events = 0u64;
    loop {
        raw.clear();
        let n = reader
            .read_until(b'\n', &mut raw)
            .map_err(|e| Error::io(file, e))?;
        if n == 0 {
            break;
        }
        line += 1;
        let mut bytes = raw.as_slice();
        if line == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        let text = std::str::from_utf8(bytes).map_err(|x| {
            Error::parse(
                file,
                line,
                "line",
                format!("not valid UTF-8 (after byte {})", x.valid_up_to()),
            )
        })?;
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let mut e: Event = match serde_json::from_str(text) {
            Ok(e) => e,
            Err(x) => with_rounded_coords(text).ok_or_else(|| {
                let (field, message) = diagnose(text, x);
                Error::parse(file, line, field, message)
            })?,
        };
        check_ts(e.ts).map_err(|m| Error::parse(file, line, "ts", m))?;
        if e.session.is_empty() && !ctx.session_override {
            return Err(Error::parse(file, line, "session", "empty session"));
        }
        if ctx.session_override {
            e.session.clone_from(&ctx.session);
        }
        sink.push(&e)?;
        events += 1;
    }
    if events == 0 {
        return Err(Error::input(
            file,
            "the file is empty (expected one JSON event per line)",
        ));
    }
    Ok(())
}

/// The event of a line whose coordinates are written with a fraction (`"x": 812.5`, as web
/// recorders write CSS pixels), rounded as every importer rounds them. Runs only when the line
/// failed to read as it is, so the common case pays nothing.
fn with_rounded_coords(text: &str) -> Option<Event> {
    let serde_json::Value::Object(mut map) = serde_json::from_str(text).ok()? else {
        return None;
    };
    let mut changed = false;
    for key in ["x", "y", "wx", "wy"] {
        if let Some(v) = map.get_mut(key) {
            if let Some(f) = v.as_f64().filter(|_| !v.is_i64()) {
                let n = super::parse_coord(&f.to_string()).ok()?;
                *v = serde_json::Value::from(n);
                changed = true;
            }
        }
    }
    if !changed {
        return None;
    }
    serde_json::from_value(serde_json::Value::Object(map)).ok()
}

/// Finds which field made a line fail to read as an [`Event`]: serde_json names the position, not
/// the field. Runs only on the error path.
fn diagnose(text: &str, err: serde_json::Error) -> (String, String) {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) else {
        return ("json".to_owned(), err.to_string());
    };
    let template = serde_json::json!({"session": "s", "user": "u", "ts": 0, "kind": "click"});
    for required in ["session", "user", "ts", "kind"] {
        if !map.contains_key(required) {
            return (required.to_owned(), format!("missing field `{required}`"));
        }
    }
    for (key, value) in &map {
        let mut probe = template.clone();
        probe[key.as_str()] = value.clone();
        if let Err(e) = serde_json::from_value::<Event>(probe) {
            return (key.clone(), e.to_string());
        }
    }
    ("json".to_owned(), err.to_string())
}
