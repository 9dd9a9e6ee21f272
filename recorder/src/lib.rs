//! The recorder: captures clicks, keystrokes, scrolls, window switches, copy and paste and idle time
//! on an X11 desktop, applies the privacy policy, and writes the result to the UI log in batches.
//!
//! What it must never do: let text that the policy removes reach the store, the disk or a log line.

#[cfg(feature = "x11")]
pub mod capture;
mod error;
pub mod keys;
pub mod pipeline;
pub mod privacy;
pub mod writer;
#[cfg(feature = "x11")]
pub mod x11;

pub use error::{Error, Result};
pub use privacy::{Policy, Privacy, TextMode};
