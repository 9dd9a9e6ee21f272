//! The entry points: a run simulates every user's every working day in order, each from a
//! generator seeded by the config's seed and its place in the run.

use super::config::{Config, DAY};
use super::elements::without_elements;
use super::process_log::{self, ProcessLog};
use super::profile::Profile;
use super::routine::{compile_catalogue, Routine};
use super::session::SessionGen;
use crate::error::{Error, Result};
use crate::event::{Event, EventKind, Micros};
use crate::store::Store;
use crate::truth::GroundTruth;

/// Generates the log described by `cfg`, handing each event to `emit` in (session, time) order, and
/// returns the ground truth. Stops at the first error `emit` returns.
///
/// `emit` receives a reference to a buffer that is reused for the next event: clone it to keep it.
pub fn simulate<E: From<Error>>(
    cfg: &Config,
    emit: impl FnMut(&Event) -> Result<(), E>,
) -> Result<GroundTruth, E> {
    run_simulation(cfg, emit, None)
}

/// [`simulate`], and the process log of the business cases its routine instances worked on
/// (see [`process_log`]). The events are the same as [`simulate`]'s for the same config.
pub fn simulate_with_process_log<E: From<Error>>(
    cfg: &Config,
    emit: impl FnMut(&Event) -> Result<(), E>,
) -> Result<(GroundTruth, ProcessLog), E> {
    let mut done = Vec::new();
    let truth = run_simulation(cfg, emit, Some(&mut done))?;
    Ok((truth, process_log::build(cfg, &done)))
}

fn run_simulation<E: From<Error>>(
    cfg: &Config,
    mut emit: impl FnMut(&Event) -> Result<(), E>,
    mut done: Option<&mut Vec<process_log::Done>>,
) -> Result<GroundTruth, E> {
    cfg.validate()?;
    let privacy = cfg
        .text_key
        .as_deref()
        .and_then(process_log::parse_secret)
        .map(|secret| {
            (
                process_log::value_key(&secret),
                Event::new("", "", 0, EventKind::Click),
            )
        });
    let mut privacy = privacy;
    let mut emit = |e: &Event| -> Result<(), E> {
        match &mut privacy {
            None => emit(e),
            Some((key, buf)) => {
                buf.clone_from(e);
                process_log::hash_text(buf, key);
                emit(buf)
            }
        }
    };
    let routines = &cfg.select(compile_catalogue())[..];
    let no_elements = without_elements(cfg, routines);
    let users = cfg.effective_users();
    let days = working_days(cfg.start, cfg.days);
    let mut truth = GroundTruth::new(format!("taskmine simulator, seed {}", cfg.seed));
    truth.config = serde_json::to_value(cfg).ok();
    truth.routines = routines.iter().map(Routine::truth).collect();
    let width = users.to_string().len().max(2);
    let mut next_instance = 1u64;
    for u in 0..users {
        let profile = Profile::new(cfg, u, width, routines);
        for (d, &(day_start, ref date)) in days.iter().enumerate() {
            let mut s = SessionGen::new(cfg, &profile, routines, u, d as u32, date);
            s.no_elements = no_elements;
            if done.is_some() {
                s.done = Some(Vec::new());
            }
            s.run(day_start, &mut next_instance, &mut truth, &mut emit)?;
            if let (Some(all), Some(mine)) = (done.as_deref_mut(), s.done.take()) {
                all.extend(mine);
            }
            truth.noise_events += s.noise;
            truth.idle_events += s.idle;
            truth.total_events += s.total;
        }
    }
    Ok(truth)
}

/// [`simulate`] into a vector, for tests and small logs.
pub fn simulate_to_vec(cfg: &Config) -> Result<(Vec<Event>, GroundTruth)> {
    let mut events = Vec::new();
    let truth = simulate(cfg, |e| -> Result<()> {
        events.push(e.clone());
        Ok(())
    })?;
    Ok((events, truth))
}

/// [`simulate`] straight into the store, in one batch (all or nothing).
pub fn simulate_into_store(cfg: &Config, store: &mut Store) -> Result<GroundTruth> {
    let mut truth = None;
    store.write_batch(None, "simulator", |sink| -> Result<()> {
        truth = Some(simulate(cfg, |e| sink.push(e))?);
        Ok(())
    })?;
    Ok(truth.expect("write_batch ran the simulation"))
}

/// The start of each working day (weekends skipped) and its date, `YYYY-MM-DD`.
pub(super) fn working_days(start: Micros, days: u32) -> Vec<(Micros, String)> {
    let mut out = Vec::with_capacity(days as usize);
    let mut t = start;
    while out.len() < days as usize {
        let date = jiff::Timestamp::from_microsecond(t)
            .expect("validated start")
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date();
        if !matches!(
            date.weekday(),
            jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
        ) {
            out.push((t, date.to_string()));
        }
        t += DAY;
    }
    out
}

/// A well-mixed 64-bit seed from a few numbers (SplitMix64 finalizer).
pub(super) fn mix(parts: &[u64]) -> u64 {
    let mut h = 0x9E37_79B9_7F4A_7C15u64;
    for &p in parts {
        h ^= p
            .wrapping_add(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(h << 6)
            .wrapping_add(h >> 2);
        h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 31;
    }
    h
}
