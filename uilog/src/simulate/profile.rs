//! A user's profile: their names, when they start, which routines they do most and where their
//! windows sit on the screen.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::config::{Config, SECOND};
use super::model::App;
use super::routine::Routine;
use super::run::mix;
use crate::event::Micros;

/// A user's habits, stable across their days.
pub(super) struct Profile {
    pub(super) user: String,
    pub(super) host: String,
    pub(super) login: String,
    /// When they start, after the day's start time.
    pub(super) offset: Micros,
    /// Cumulative routine weights, for a weighted draw.
    pub(super) cumulative: Vec<f64>,
    /// Top-left corner of each application's window on their screen.
    pub(super) origins: [(i32, i32); App::COUNT],
}

impl Profile {
    pub(super) fn new(cfg: &Config, u: u32, width: usize, routines: &[Routine]) -> Profile {
        let mut rng = ChaCha8Rng::seed_from_u64(mix(&[cfg.seed, u as u64, u64::MAX]));
        let n = u + 1;
        let mut total = 0.0;
        let cumulative = routines
            .iter()
            .map(|r| {
                total += r.weight * rng.random_range(0.4..1.6);
                total
            })
            .collect();
        let maximized = rng.random_bool(0.5);
        let mut origins = [(0, 27); App::COUNT];
        if !maximized {
            for o in &mut origins {
                *o = (rng.random_range(0..320), rng.random_range(27..200));
            }
        }
        Profile {
            user: format!("user-{n:0width$}"),
            host: format!("host-{n:0width$}"),
            login: format!("u{n:0width$}"),
            offset: (rng.random_range(0.0..45.0) * 60.0 * SECOND) as Micros,
            cumulative,
            origins,
        }
    }

    pub(super) fn pick_routine(&self, rng: &mut ChaCha8Rng) -> usize {
        let total = *self.cumulative.last().expect("at least one routine");
        let x = rng.random::<f64>() * total;
        self.cumulative
            .iter()
            .position(|&c| x < c)
            .unwrap_or(self.cumulative.len() - 1)
    }
}
