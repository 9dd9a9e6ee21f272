//! Bot drafts: turns the miner's top candidates into bot definitions (YAML), renders them as scripts
//! through templates, and replays them to check that they do what the routine did.
//!
//! - [`bot`]: the bot model (`apiVersion: taskmine/v1`), read and checked with errors naming the
//!   file, line and field; `{{ name }}` slots filled from parameter rows.
//! - [`generate`]: drafts from a [`miner::Mining`]: the dominant variant's steps with selectors
//!   learned from the instances' elements, typed values that differ between instances as inputs
//!   named after the field typed into, with the samples the policy kept.
//! - [`render`]: the same bot as Robot Framework and Python (pyautogui) through tera templates.
//! - [`params`]: parameter files (CSV, one row per run).
//! - [`replay`] (feature `x11`): runs a bot with enigo, checking the focused window before every
//!   step, finding each step's element by its selector through AT-SPI ([`desktop`]) and proving
//!   that the step acted on it; [`validate`] compares the recorded replay with the routine at
//!   element level and checks post-conditions.
//! - [`vision`]: where an app has no accessibility tree, a step's target is found on the screen by
//!   the text OCR reads there, else by its snapshot (template matching); only a unique match counts.
//!
//! ```
//! use codegen::bot::{fill, Params};
//! let mut row = Params::new();
//! row.insert("invoice".into(), "4711".into());
//! assert_eq!(fill("echo {{ invoice }}", &row).unwrap(), "echo 4711");
//! ```
//!
//! What it must never do: change the UI log or the mining results it reads.

#![forbid(unsafe_code)]

pub mod bot;
mod error;
pub mod generate;
mod keys;
pub mod params;
pub mod pdd;
pub mod render;
#[cfg(feature = "x11")]
pub mod replay;
pub mod validate;
pub mod vision;

pub use bot::{Bot, Params, API_VERSION};
pub use error::{Error, Result};
pub use generate::{bot_name, draft_bots, draft_bots_from, Draft};

/// The default least time between the starts of two replayed steps, in milliseconds: ten steps a
/// second, still far faster than a person (see `replay::ReplayOptions::pace_ms`).
pub const DEFAULT_PACE_MS: u64 = 100;
