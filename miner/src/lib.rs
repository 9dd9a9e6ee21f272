//! The miner: turns a UI log into actions, task instances (segments), routines with their variants, a
//! task graph, and automation candidates ranked by the time automating them would save.
//!
//! What it must never do: capture input or simulate it (it never links rdev or enigo), or write to the
//! UI log's own tables (its results live in tables of its own, prefixed `mining_`, see [`results`]).
//!
//! The stages, each a module of its own (private: [`mine`] runs them, and the crate root names
//! what they give), documented in the source:
//! 1. `abstraction`: an event becomes an [`Action`] (kind + app + title template + element
//!    template); titles and element names are templated once per distinct string, never per event;
//!    element paths count by their stable part, clicks without an element by the spot of the window;
//! 2. `segment`: each user's stream is cut into segments ([`segment()`]) at pauses, session
//!    changes, pairs of actions that pauses usually split, and start actions learned from the
//!    directly-follows graph;
//! 3. `patterns` and `routine`: closed sequential patterns (BIDE) over the segments, chosen
//!    greedily for coverage, become routines with instances, [`Variant`]s and [`DataFlow`]s; then
//!    the segmentation is repaired from what was found (composites split, segments cut at
//!    instances, fragments joined) and the log mined again, and routines of one vocabulary merge;
//! 4. `score`: frequency, durations, standardization, users, automatability, hours saved
//!    ([`Score`]);
//! 5. [`graph`]: the task graph (petgraph), as DOT or JSON; [`eval`]: scores against ground truth.
//!
//! The public modules are namespaces of their own: [`results`] (stored runs), [`objects`] (business
//! objects of instances), [`link`] (process logs linked to routines), [`naming`] (routine names),
//! [`graph`] and [`eval`]. Everything else is at the crate root, with one path per item.
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

mod abstraction;
mod error;
pub mod eval;
pub mod graph;
pub mod link;
mod log;
mod mining;
pub mod naming;
pub mod objects;
mod patterns;
mod progress;
pub mod results;
mod routine;
mod score;
mod segment;

pub use abstraction::{Action, LabelKey, Labeler, Rules, TitleRule, TitleTemplates};
pub use error::{Error, Result};
pub use log::{AbstractionOptions, Ev, Log};
pub use mining::{
    mine, mine_log, thin_evidence, InstanceRef, Mining, Options, Routine, Summary, UserCount,
    MIN_CONFIDENT_INSTANCES,
};
pub use progress::{NoProgress, Progress};
pub use routine::{DataFlow, DiscoveryOptions, Variant};
pub use score::Score;
pub use segment::{segment, Segment, SegmentOptions, Segmentation};

// Short paths inside the crate, which the results module uses.
#[cfg(test)]
pub(crate) use naming::routine_names_given;
pub(crate) use naming::MAX_NAME_CHARS;
