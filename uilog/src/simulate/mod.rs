//! A simulator of realistic UI logs with known ground truth.
//!
//! N users work D days each, one session per user and day. In a session a user performs a number of
//! routine instances, drawn from the built-in catalogue (mail client, browser web forms, spreadsheet,
//! terminal, ERP client, text editor), with values that differ per instance, values copied in one
//! application and pasted in another, occasional variants, noise (stray clicks, scrolls, detours to
//! unrelated applications) between and inside instances, short pauses between instances and a lunch
//! break marked with `idle_start`/`idle_end`. Everything is drawn from a seeded generator: the same
//! [`Config`] gives the same events and the same [`GroundTruth`], byte for byte (with the same
//! taskmine version on the same platform: durations go through `f64` logarithms).
//!
//! Settings make the log look like particular recordings: elements as the AT-SPI recorder captures
//! them or web content as XPaths ([`ElementStyle`]), applications without accessibility
//! ([`Config::apps_without_elements`]), instances worked off a queue without pauses
//! ([`Config::pauses`]), chosen routines ([`Config::routine_ids`], among them a 64-step
//! form-filling routine), a short one-person recording. `docs/ground-truth.md` describes them and the
//! configurations bundled in `examples/`.
//!
//! ```
//! use uilog::simulate::{simulate_to_vec, Config};
//!
//! let cfg = Config { users: 2, days: 1, ..Config::default() };
//! let (events, truth) = simulate_to_vec(&cfg)?;
//! assert_eq!(truth.total_events, events.len() as u64);
//! # Ok::<(), uilog::Error>(())
//! ```
//!
//! Into the store, without holding the events in memory:
//!
//! ```
//! # use uilog::{simulate::{simulate, Config}, Store};
//! let mut store = Store::open_in_memory()?;
//! let cfg = Config { users: 1, days: 1, ..Config::default() };
//! let mut truth = None;
//! store.write_batch(None, "simulator", |sink| -> uilog::Result<()> {
//!     truth = Some(simulate(&cfg, |e| sink.push(e))?);
//!     Ok(())
//! })?;
//! assert_eq!(store.stats()?.events, truth.unwrap().total_events);
//! # Ok::<(), uilog::Error>(())
//! ```
//!
//! What the simulator never does: set [`Event::case`] (that would hand the miner the answer), overlap
//! two instances in time, or put an idle marker inside an instance. The meaning of the ground truth is
//! specified in `docs/ground-truth.md`.
//!
//! The modules, in the order a run uses them: [`Config`] (`config.rs`) says what to simulate; the
//! catalogue (`catalogue.rs`, written in the data model of `model.rs`, with its values drawn in
//! `values.rs`) is compiled (`routine.rs`, its strings by `template.rs`); a run (`run.rs`) gives
//! each user a profile (`profile.rs`) and each of their working days a session (`session.rs`),
//! whose elements look as `elements.rs` says. `process_log.rs` and `recorder_csv.rs` write what a
//! run did in other formats.
//!
//! [`GroundTruth`]: crate::GroundTruth
//! [`Event::case`]: crate::Event::case

mod catalogue;
mod config;
mod elements;
mod model;
pub mod process_log;
mod profile;
mod recorder_csv;
mod routine;
mod run;
mod session;
mod template;
mod values;

pub use config::{Config, CountRange, ElementStyle, SecondsRange, DEFAULT_START};
pub use elements::apps_without_elements;
pub use process_log::ProcessLog;
pub use recorder_csv::write_recorder_csv;
pub use routine::{catalogue, catalogue_len};
pub use run::{simulate, simulate_into_store, simulate_to_vec, simulate_with_process_log};

#[cfg(test)]
mod tests;
