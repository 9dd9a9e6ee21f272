//! The UI log of taskmine: the event model, its SQLite store, and the ways events get in and out.
//!
//! An [`Event`] is one user interaction (a click, a run of typed text, a shortcut, a copy, a window
//! switch, …) with the application, window title and UI element it happened in, in UTC microseconds.
//! The [`Store`] keeps events in one SQLite file with repeated strings interned, writes them in
//! all-or-nothing batches and reads them back in (session, time) order; [`PgStore`] does the same
//! in a PostgreSQL database that a fleet shares, and [`LogStore`] opens either from one `--db`.
//!
//! ```
//! use uilog::{Event, EventKind, Store};
//!
//! let mut store = Store::open_in_memory()?;
//! let mut click = Event::new("monday", "user-1", 1_700_000_000_000_000, EventKind::Click);
//! click.app = "xterm".into();
//! store.write_batch(None, "example", |sink| -> uilog::Result<()> { sink.push(&click) })?;
//! assert_eq!(store.stats()?.events, 1);
//! # Ok::<(), uilog::Error>(())
//! ```
//!
//! What this crate must never do: know about mining (action labels, routines and scores belong to the
//! miner), capture input, or hold text that a privacy policy removed — it stores what it is given, and
//! the recorder decides what that is.

#![forbid(unsafe_code)]

pub mod db;
mod error;
mod event;
pub mod export;
pub mod import;
pub mod keys;
mod log_store;
pub mod simulate;
pub mod store;
pub mod store_pg;
pub mod truth;

pub use db::{Conn, Param, PgMigrations, Row};
pub use error::{Error, Result};
pub use event::{
    check_ts, format_ts, parse_ts, Element, Event, EventKind, Micros, ValueHash, TS_MAX, TS_MIN,
};
pub use import::{import_file, Format, ImportOptions, ImportSummary};
pub use log_store::{EventPush, LogRead, LogStore, LogWrite};
pub use simulate::{simulate, simulate_to_vec, Config as SimConfig};
pub use store::{BatchOutcome, Dictionary, EventRow, EventSink, Stats, Store};
pub use store_pg::{is_postgres_url, redact_url, PgStore};
pub use truth::{GroundTruth, TruthIndex, TruthInstance, TruthRoutine, TruthVariant};
