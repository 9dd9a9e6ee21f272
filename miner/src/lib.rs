//! The miner: turns a UI log into actions, task instances (segments), routines with their variants, a
//! task graph, and automation candidates ranked by the time automating them would save.
//!
//! What it must never do: capture input or simulate it (it never links rdev or enigo), or write to the
//! UI log's own tables (its results live in tables of its own, prefixed `mining_`, see [`results`]).
//!
//! The stages, each a module with its own documentation:
//! 1. [`abstraction`]: an event becomes an action (kind + app + title template + element template);
//!    titles and element names are templated once per distinct string, never per event; element
//!    paths count by their stable part, clicks without an element by the spot of the window;
//! 2. [`segment`]: each user's stream is cut into segments at pauses, session changes, pairs of
//!    actions that pauses usually split, and start actions learned from the directly-follows graph;
//! 3. [`patterns`] and [`routine`]: closed sequential patterns (BIDE) over the segments, chosen
//!    greedily for coverage, become routines with instances, variants and data flows; then the
//!    segmentation is repaired from what was found ([`segment::split_composites`],
//!    [`segment::split_at_instances`],
//!    [`segment::join_fragments`]) and the log mined again, and routines of one vocabulary merge
//!    ([`routine::merge_by_vocabulary`]);
//! 4. [`score`]: frequency, durations, standardization, users, automatability, hours saved;
//! 5. [`graph`]: the task graph (petgraph), as DOT or JSON; [`eval`]: scores against ground truth.
//!
//! ```
//! use uilog::{Event, EventKind, Store};
//!
//! // Three times the same three steps, a minute apart.
//! let mut store = Store::open_in_memory()?;
//! store.write_batch(None, "example", |sink| -> uilog::Result<()> {
//!     for (i, kind) in [EventKind::Focus, EventKind::Copy, EventKind::Paste].repeat(3).into_iter().enumerate() {
//!         let mut e = Event::new("monday", "user-1", 1_700_000_000_000_000 + i as i64 * 20_000_000, kind);
//!         e.app = "erp".into();
//!         sink.push(&e)?;
//!     }
//!     Ok(())
//! })?;
//! let mut opts = miner::Options::default();
//! opts.discovery.min_support = Some(2);
//! let (_log, mining) = miner::mine(&store, &opts, &mut miner::NoProgress)?;
//! assert_eq!(mining.routines.len(), 1);
//! assert_eq!(mining.routines[0].score.instances, 3);
//! # Ok::<(), miner::Error>(())
//! ```
//!
//! Everything works on integer ids in flat vectors, and the result is the same on every run for the
//! same log (ties are broken by ids, never by hash-map order).

#![forbid(unsafe_code)]

pub mod abstraction;
mod error;
pub mod eval;
mod fxhash;
pub mod graph;
pub mod link;
pub mod log;
pub mod mining;
pub mod naming;
pub mod objects;
pub mod patterns;
pub mod progress;
pub mod results;
pub mod routine;
pub mod score;
pub mod segment;

pub use abstraction::{Action, Rules};
pub use error::{Error, Result};
pub use link::{link, LinkOptions, LinkReport, ProcessLog};
pub use log::{AbstractionOptions, Log};
pub use mining::{mine, mine_log, InstanceRef, Mining, Options, Routine, Summary, UserCount};
pub use naming::{routine_name, routine_names, routine_names_given, MAX_NAME_CHARS};
pub use objects::{extract as extract_objects, InstanceObjects, ObjectRules};
pub use progress::{NoProgress, Progress};
