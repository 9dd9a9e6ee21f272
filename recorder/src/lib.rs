//! The recorder: captures clicks, keystrokes, scrolls, window switches, copy and paste and idle time
//! on an X11 desktop, applies the privacy policy, and writes the result to the UI log in batches.
//!
//! The pieces, in the order input flows through them:
//! - [`capture`] (feature `x11`): rdev listens to input on its own thread; [`x11`] reads the window
//!   context (`_NET_ACTIVE_WINDOW`, `WM_CLASS`, titles, `_NET_WM_PID`) and the clipboard.
//! - [`pipeline`]: turns input into UI-log events (clicks, drags, scrolls, typed runs, shortcuts,
//!   copy, paste, focus, idle) with [`keys`] aggregating keystrokes, and asks [`privacy`] about
//!   every title, text and app before an event exists.
//! - [`writer`]: batches events into one SQLite transaction at least every 250 ms.
//!
//! Everything but `capture` and `x11` builds and is tested without X:
//!
//! ```
//! use recorder::pipeline::{Input, Pipeline, WindowInfo};
//! use recorder::{Policy, Privacy};
//!
//! let privacy = Privacy::new(Policy::default(), &[9; 32])?;
//! let mut p = Pipeline::new(privacy, "monday", "alice", "laptop");
//! let window = WindowInfo { id: 1, instance: "xterm".into(), title: "mail bob@example.com".into(), ..Default::default() };
//! p.handle(Input::Focus { ts: 1_000_000, window: Some(window) });
//! let events = p.drain();
//! assert_eq!(events[0].window, "mail <email>");
//! assert_ne!(events[0].user, "alice");
//! # Ok::<(), recorder::Error>(())
//! ```
//!
//! - UI elements come from the accessibility bus (crate `desktop`, AT-SPI) on a lookup thread of
//!   their own; [`pipeline`] holds an event at most 200 ms for its element and then lets it go
//!   without. [`doctor`] (feature `x11`) says what this desktop exposes.
//!
//! What it must never do: let text that the policy removes reach the store, the disk or a log line.

#![forbid(unsafe_code)]

#[cfg(feature = "x11")]
pub mod capture;
#[cfg(feature = "x11")]
pub mod doctor;
mod error;
pub mod keys;
pub mod pipeline;
pub mod privacy;
pub mod snapshot;
pub mod snapshot_ocr;
pub mod writer;
#[cfg(feature = "x11")]
pub mod x11;

/// The accessibility client the recorder uses, for callers that build on it (doctor, replay).
#[cfg(feature = "x11")]
pub use desktop;
pub use error::{Error, Result};
pub use privacy::{Policy, Privacy, Screenshots, SnapshotPlan, TextMode};
