//! The miner: turns a UI log into actions, task instances (segments), routines with their variants, a
//! task graph, and automation candidates ranked by the time automating them would save.
//!
//! What it must never do: capture input or simulate it (it never links rdev or enigo), or write to the
//! UI log's own tables.

pub mod abstraction;
mod error;
pub mod eval;
mod fxhash;
pub mod graph;
pub mod log;
pub mod patterns;
pub mod progress;
pub mod results;
pub mod segment;

pub use error::{Error, Result};
pub mod mining;
pub mod routine;
pub mod score;

pub use abstraction::{Action, Rules};
pub use log::{AbstractionOptions, Log};
pub use mining::{mine, mine_log, InstanceRef, Mining, Options, Routine, Summary, UserCount};
pub use progress::{NoProgress, Progress};
