//! The whole pipeline, from a store (or a loaded log) to ranked routines with their evidence.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use uilog::{LogRead, Micros};

use crate::abstraction::Action;
use crate::error::Result;
use crate::log::{AbstractionOptions, Log};
use crate::progress::Progress;
use crate::routine::{discover, merge_by_vocabulary, DataFlow, DiscoveryOptions, Variant};
use crate::score::{score, Score};
use crate::segment::{
    join_fragments, segment, split_at_instances, split_composites, SegmentOptions,
};

/// Every option of a mining run. The defaults suit a desktop log of one or more users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Options {
    pub abstraction: AbstractionOptions,
    pub segment: SegmentOptions,
    pub discovery: DiscoveryOptions,
    /// Routines seen by fewer users than this are withheld from the result (privacy: k users).
    pub min_users: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            abstraction: AbstractionOptions::default(),
            segment: SegmentOptions::default(),
            discovery: DiscoveryOptions::default(),
            min_users: 1,
        }
    }
}

impl Options {
    /// Checks that the options can work together; the error names the option.
    pub fn validate(&self) -> Result<()> {
        let bad = |option: &str, message: String| {
            Err(crate::Error::Option {
                option: option.to_owned(),
                message,
            })
        };
        let d = &self.discovery;
        if d.min_support == Some(0) {
            return bad("discovery.min_support", "must be at least 1".into());
        }
        if d.min_len == 0 || d.max_len < d.min_len {
            return bad(
                "discovery.min_len",
                format!(
                    "{}..{} must satisfy 1 <= min_len <= max_len",
                    d.min_len, d.max_len
                ),
            );
        }
        if !(d.merge_similarity > 0.0 && d.merge_similarity <= 1.0) {
            return bad(
                "discovery.merge_similarity",
                format!("is {}; it must be in (0, 1]", d.merge_similarity),
            );
        }
        if !(0.0..=1.0).contains(&d.variant_min_share) {
            return bad(
                "discovery.variant_min_share",
                format!("is {}; it must be in [0, 1]", d.variant_min_share),
            );
        }
        if d.max_mined_segments == 0 {
            return bad("discovery.max_mined_segments", "must be at least 1".into());
        }
        if let Some(g) = self.segment.idle_gap_secs {
            if !(g.is_finite() && g > 0.0) {
                return bad(
                    "segment.idle_gap_secs",
                    format!("is {g}; it must be a positive number of seconds"),
                );
            }
        }
        for (name, v) in [
            ("segment.min_edge_share", self.segment.min_edge_share),
            ("segment.min_start_share", self.segment.min_start_share),
            ("segment.min_pause_share", self.segment.min_pause_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(name, format!("is {v}; it must be in [0, 1]"));
            }
        }
        if self.abstraction.min_distinct < 2 {
            return bad(
                "abstraction.min_distinct",
                "must be at least 2 (one value does not vary)".into(),
            );
        }
        Ok(())
    }
}

/// The result of a mining run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mining {
    pub summary: Summary,
    pub options: Options,
    pub actions: Vec<Action>,
    /// The learned start actions of segmentation.
    pub start_actions: Vec<u32>,
    /// Ranked by hours saved per month, best first; `id` is the rank.
    pub routines: Vec<Routine>,
    /// How many routines were found but withheld because fewer than `min_users` users perform them.
    pub withheld: u64,
    /// Wall-clock time per stage, in milliseconds (not part of the stored result's identity).
    #[serde(default, skip_serializing)]
    pub timings_ms: Vec<(String, f64)>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub events: u64,
    pub users: u64,
    pub sessions: u64,
    pub actions: u64,
    pub segments: u64,
    /// The pause that ends a segment, in seconds (given, or learned from the log).
    pub idle_gap_secs: f64,
    pub first_ts: Option<Micros>,
    pub last_ts: Option<Micros>,
    /// The time the log covers, in weeks; a log of less than a day counts as one day.
    pub weeks: f64,
    pub min_support: u64,
    pub closed_patterns: u64,
    /// Pauses longer than the idle gap inside sessions: the evidence boundaries are learned from.
    #[serde(default)]
    pub pauses: u64,
    /// Where the evidence for the result is thin, one sentence each (see [`thin_evidence`]). Empty
    /// when the result stands on enough instances and boundaries.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// The instances a routine needs before its figures are more than a first impression.
pub const MIN_CONFIDENT_INSTANCES: u64 = 10;

/// Says where a result rests on little evidence, so that nobody automates a fragment with confidence:
/// - a routine listed with fewer than [`MIN_CONFIDENT_INSTANCES`] instances;
/// - boundaries that come from start actions because the log has fewer pauses than
///   `min_pauses` (start actions mislead when a routine's first step recurs inside it);
/// - segments that are short (median under 4 events) while routines are found: what is found may be
///   a fragment of a longer routine;
/// - routines that cover less than half of the events.
pub fn thin_evidence(
    routines: &[Routine],
    seg: &crate::segment::Segmentation,
    opts: &SegmentOptions,
    events: u64,
) -> Vec<String> {
    let mut out = Vec::new();
    if routines.is_empty() {
        return out;
    }
    let few: Vec<String> = routines
        .iter()
        .filter(|r| r.score.instances < MIN_CONFIDENT_INSTANCES)
        .map(|r| format!("{} ({} instances)", r.id, r.score.instances))
        .collect();
    if !few.is_empty() {
        out.push(format!(
            "routine {} rest{} on fewer than {MIN_CONFIDENT_INSTANCES} instances: record more before trusting {}",
            few.join(", "),
            if few.len() == 1 { "s" } else { "" },
            if few.len() == 1 { "it" } else { "them" },
        ));
    }
    if !seg.from_pauses && opts.learned_starts {
        out.push(format!(
            "the log has {} pauses longer than the idle gap of {:.0} s (at least {} are needed to learn boundaries from): instance boundaries come from start actions of the directly-follows graph",
            seg.pauses, seg.idle_gap_secs, opts.min_pauses
        ));
    }
    let mut lens: Vec<usize> = seg.segments.iter().map(|s| s.len()).collect();
    if !lens.is_empty() {
        let mid = lens.len() / 2;
        let (_, &mut m, _) = lens.select_nth_unstable(mid);
        if m < 4 {
            out.push(format!(
                "half of the segments have fewer than {} events: a routine found may be a fragment of a longer one",
                m + 1
            ));
        }
    }
    let covered: u64 = routines
        .iter()
        .flat_map(|r| &r.instances)
        .map(|i| i.events as u64)
        .sum();
    if events > 0 && (covered as f64) < 0.5 * events as f64 {
        out.push(format!(
            "routines cover {:.0} % of the events; the rest found no routine",
            100.0 * covered as f64 / events as f64
        ));
    }
    out
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Routine {
    /// 1-based rank.
    pub id: u32,
    /// The routine's pattern as action ids, in order.
    pub steps: Vec<u32>,
    /// The same as readable labels.
    pub labels: Vec<String>,
    /// Segments that held the pattern when it was chosen.
    pub support: u64,
    pub score: Score,
    pub variants: Vec<Variant>,
    /// Instances per user (pseudonym), sorted by user.
    pub users: Vec<UserCount>,
    pub data_flows: Vec<DataFlow>,
    pub instances: Vec<InstanceRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCount {
    pub user: String,
    pub instances: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceRef {
    pub user: String,
    pub session: String,
    pub start_ts: Micros,
    pub end_ts: Micros,
    /// Store ids of the first and last event.
    pub first_event: i64,
    pub last_event: i64,
    /// Events in the span, noise inside it included.
    pub events: u32,
    /// Index into the routine's variants.
    pub variant: u32,
    /// Indices of the first and last event in [`Log::events`]; meaningful only with the log mined.
    #[serde(skip)]
    pub span: (u32, u32),
}

/// Loads the log from the store and mines it.
pub fn mine(
    store: &dyn LogRead,
    opts: &Options,
    progress: &mut dyn Progress,
) -> Result<(Log, Mining)> {
    opts.validate()?;
    let t = Instant::now();
    let log = Log::load(store, &opts.abstraction, progress)?;
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let mut mining = mine_log(&log, opts, progress);
    mining.timings_ms.insert(0, ("load".into(), load_ms));
    Ok((log, mining))
}

/// Mines a loaded log.
pub fn mine_log(log: &Log, opts: &Options, progress: &mut dyn Progress) -> Mining {
    let mut timings = Vec::new();
    let ev = &log.events;
    let t = Instant::now();
    progress.stage("segment", ev.len() as u64);
    let mut seg = segment(log, &opts.segment);
    progress.advance(ev.len() as u64);
    progress.finish();
    timings.push(("segment".to_owned(), t.elapsed().as_secs_f64() * 1e3));

    let t = Instant::now();
    progress.stage("discover", seg.segments.len() as u64);
    let mut disc = discover(log, &seg.segments, &opts.discovery);
    // Segments holding two routines one after the other are split, fragments of one routine that
    // always follow each other are joined, and the log is mined again after each; a chain of
    // fragments joins in one round, further rounds catch what a change revealed.
    for _ in 0..5 {
        let changed = split_composites(
            log,
            &seg,
            &disc.routines,
            disc.min_support,
            opts.discovery.min_len,
        )
        .or_else(|| split_at_instances(log, &seg, &disc.routines, opts.discovery.min_len))
        .or_else(|| join_fragments(log, &seg, &disc.routines, disc.min_support));
        match changed {
            Some(segments) => {
                seg.segments = segments;
                disc = discover(log, &seg.segments, &opts.discovery);
            }
            None => break,
        }
    }
    let disc = merge_by_vocabulary(log, &seg.segments, disc, &opts.discovery);
    progress.advance(seg.segments.len() as u64);
    progress.finish();
    timings.push(("discover".to_owned(), t.elapsed().as_secs_f64() * 1e3));

    let t = Instant::now();
    progress.stage("score", disc.routines.len() as u64);
    let first_ts = ev.iter().map(|e| e.ts).min();
    let last_ts = ev.iter().map(|e| e.ts).max();
    let span_us = match (first_ts, last_ts) {
        (Some(a), Some(b)) => (b - a).max(86_400_000_000),
        _ => 86_400_000_000,
    };
    let weeks = span_us as f64 / (7.0 * 86_400e6);
    let mut routines: Vec<Routine> = Vec::with_capacity(disc.routines.len());
    for r in &disc.routines {
        let durations: Vec<f64> = r
            .instances
            .iter()
            .map(|i| (ev[i.last as usize].ts - ev[i.first as usize].ts) as f64 / 1e6)
            .collect();
        let mut per_user: std::collections::BTreeMap<String, u64> = Default::default();
        for i in &r.instances {
            *per_user
                .entry(log.user_name(i.user).to_owned())
                .or_insert(0) += 1;
        }
        let s = score(r, &durations, per_user.len() as u64, weeks);
        routines.push(Routine {
            id: 0,
            steps: r.steps.clone(),
            labels: r
                .steps
                .iter()
                .map(|&a| log.actions[a as usize].label())
                .collect(),
            support: r.support,
            score: s,
            variants: r.variants.clone(),
            users: per_user
                .into_iter()
                .map(|(user, instances)| UserCount { user, instances })
                .collect(),
            data_flows: r.data_flows.clone(),
            instances: r
                .instances
                .iter()
                .map(|i| {
                    let (a, b) = (&ev[i.first as usize], &ev[i.last as usize]);
                    InstanceRef {
                        user: log.user_name(i.user).to_owned(),
                        session: log.session_name(i.session).to_owned(),
                        start_ts: a.ts,
                        end_ts: b.ts,
                        first_event: a.id,
                        last_event: b.id,
                        events: i.last - i.first + 1,
                        variant: i.variant,
                        span: (i.first, i.last),
                    }
                })
                .collect(),
        });
        progress.advance(1);
    }
    let before = routines.len();
    routines.retain(|r| r.score.users >= opts.min_users);
    let withheld = (before - routines.len()) as u64;
    routines.sort_by(|a, b| {
        b.score
            .hours_saved_per_month
            .total_cmp(&a.score.hours_saved_per_month)
            .then(b.score.instances.cmp(&a.score.instances))
            .then(a.steps.cmp(&b.steps))
    });
    for (i, r) in routines.iter_mut().enumerate() {
        r.id = i as u32 + 1;
    }
    progress.finish();
    timings.push(("score".to_owned(), t.elapsed().as_secs_f64() * 1e3));
    let mut session_seen = vec![false; log.session_user.len().max(1)];
    for e in ev {
        if let Some(s) = session_seen.get_mut(e.session as usize) {
            *s = true;
        }
    }
    let mut users: Vec<u32> = session_seen
        .iter()
        .enumerate()
        .filter(|(_, &seen)| seen)
        .map(|(s, _)| log.session_user[s])
        .collect();
    users.sort_unstable();
    users.dedup();
    let sessions: Vec<usize> = (0..session_seen.len())
        .filter(|&s| session_seen[s])
        .collect();
    let warnings = thin_evidence(&routines, &seg, &opts.segment, ev.len() as u64);
    Mining {
        summary: Summary {
            events: ev.len() as u64,
            users: users.len() as u64,
            sessions: sessions.len() as u64,
            actions: log.actions.len() as u64,
            segments: seg.segments.len() as u64,
            idle_gap_secs: seg.idle_gap_secs,
            first_ts,
            last_ts,
            weeks,
            min_support: disc.min_support,
            closed_patterns: disc.closed_patterns as u64,
            pauses: seg.pauses,
            warnings,
        },
        options: opts.clone(),
        actions: log.actions.clone(),
        start_actions: seg.start_actions,
        routines,
        withheld,
        timings_ms: timings,
    }
}
