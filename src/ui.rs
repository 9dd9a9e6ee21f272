//! What every command shares about talking to the person at the terminal.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress bars, or none with `--quiet` (and none when stderr is not a terminal, which indicatif
/// detects on its own).
pub struct Ui {
    quiet: bool,
}

impl Ui {
    pub fn new(quiet: bool) -> Ui {
        Ui { quiet }
    }

    /// A bar counting `len` units of `unit` (events, bytes…).
    pub fn bar(&self, len: u64, message: &str, unit: &str) -> ProgressBar {
        let bar = if self.quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr())
        };
        let template = if unit == "bytes" {
            "{msg:>10} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})"
        } else {
            "{msg:>10} [{bar:30}] {human_pos}/{human_len} {prefix} ({per_sec}, {eta})"
        };
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(unit.to_owned());
        bar.set_message(message.to_owned());
        bar
    }

    /// A spinner for work whose size is not known in advance.
    pub fn spinner(&self, message: &str) -> ProgressBar {
        let bar = if self.quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {human_pos} ({per_sec})")
                .expect("a valid template"),
        );
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }
}

/// Draws one bar per mining stage.
pub struct Bars<'a> {
    ui: &'a Ui,
    bar: Option<ProgressBar>,
}

impl<'a> Bars<'a> {
    pub fn new(ui: &'a Ui) -> Self {
        Bars { ui, bar: None }
    }
}

impl miner::Progress for Bars<'_> {
    fn stage(&mut self, name: &str, total: u64) {
        let unit = match name {
            "discover" => "segments",
            "score" => "routines",
            _ => "events",
        };
        self.bar = Some(self.ui.bar(total, name, unit));
    }
    fn advance(&mut self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }
    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}
