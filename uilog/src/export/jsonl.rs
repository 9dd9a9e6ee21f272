//! JSONL of [`Event`](crate::Event)s, the format [`crate::import::Format::Jsonl`] reads back.

use std::io::Write;

use crate::error::{Error, Result};
use crate::store::Store;

use super::{buffered, finish, out_err};

/// Writes every event as one line of JSON. Returns the number of events written.
pub fn write_jsonl(store: &Store, out: &mut dyn Write) -> Result<u64> {
    let mut w = buffered(out);
    let mut n = 0u64;
    store.for_each_event(|e| -> Result<()> {
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
