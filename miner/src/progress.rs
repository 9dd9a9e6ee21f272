//! Progress of the mining stages, reported to whoever draws it (the CLI draws bars; the library
//! knows nothing about terminals).

/// Receives the stages of a mining run and how far each has come.
pub trait Progress {
    /// A stage begins; `total` is its size in units of work (events, segments), 0 when unknown.
    fn stage(&mut self, name: &str, total: u64);
    /// `n` more units of the current stage are done.
    fn advance(&mut self, n: u64);
    /// The current stage is done.
    fn finish(&mut self);
}

/// Progress that goes nowhere.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&mut self, _: &str, _: u64) {}
    fn advance(&mut self, _: u64) {}
    fn finish(&mut self) {}
}
