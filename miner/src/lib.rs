//! The miner: turns a UI log into actions, task instances (segments), routines with their variants, a
//! task graph, and automation candidates ranked by the time automating them would save.
//!
//! What it must never do: capture input or simulate it (it never links rdev or enigo), or write to the
//! UI log's own tables.

pub mod abstraction;
mod error;
mod fxhash;
pub mod log;
pub mod patterns;
pub mod progress;
pub mod segment;

pub use error::{Error, Result};
