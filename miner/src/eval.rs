//! Evaluation against ground truth (the simulator's, or a labelled public log converted to it).
//!
//! Events are identified by `(session, ts)`; the truth's instances name their session and user, which
//! together pick the store's session.
//!
//! **Routines.** A routine's events are all events inside the spans of its instances (noise events
//! inside an instance included); a true routine's events are those its instances list. A discovered
//! routine *matches* a true routine when the Jaccard overlap of their event sets, |D ∩ T| / |D ∪ T|, is
//! at least 0.5. Matching is one-to-one: pairs are taken greedily by decreasing overlap (ties by
//! discovered id, then true id), each routine at most once. Precision = matched / discovered routines,
//! recall = matched / true routines that have at least one instance, F1 their harmonic mean.
//!
//! **Segment boundaries.** Each instance contributes two boundaries: its first event (a start) and its
//! last event (an end). A discovered boundary is correct when the truth has a boundary of the same
//! kind at the same event. Precision = correct / discovered boundaries, recall = correct / true
//! boundaries.
//!
//! **Event-level task labels** (Rebmann and van der Aa's measure). Each discovered routine is labelled
//! with the true routine (task) that most of its events belong to (ties to the lower true id; a routine
//! none of whose events belongs to a true instance gets no label). Every event then gets the label of
//! the discovered routine whose instance covers it, and none when no instance covers it. An event is
//! *found* when it has a label, *true* when the truth puts it in an instance, and *correct* when both
//! labels are the same task. Uncovered events of true instances are misses; noise events inside a
//! discovered instance count against precision. The figures are micro-averaged over all events, so a
//! frequent task weighs as much as its events.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use uilog::truth::GroundTruth;

use crate::log::Log;
use crate::mining::Mining;

/// Precision, recall and F1 of one kind of thing found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Prf {
    pub found: u64,
    pub truth: u64,
    pub correct: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Prf {
    pub fn new(found: u64, truth: u64, correct: u64) -> Prf {
        let precision = if found == 0 {
            0.0
        } else {
            correct as f64 / found as f64
        };
        let recall = if truth == 0 {
            0.0
        } else {
            correct as f64 / truth as f64
        };
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Prf {
            found,
            truth,
            correct,
            precision,
            recall,
            f1,
        }
    }
}

/// One pair of the matching.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoutineMatch {
    /// The discovered routine's id (rank).
    pub discovered: u32,
    pub truth: u32,
    pub truth_name: String,
    pub jaccard: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evaluation {
    pub routines: Prf,
    pub boundaries: Prf,
    /// Event-level task labels (see the module documentation).
    pub event_tasks: Prf,
    pub matches: Vec<RoutineMatch>,
    /// Events of the truth that the log does not have (a truth for another log, or a log cut short).
    pub unknown_truth_events: u64,
}

/// The threshold of Jaccard overlap for a discovered routine to match a true one.
pub const MATCH_JACCARD: f64 = 0.5;

/// The event-level task measure, from each event's true routine (`t_of`, 0 = none) and the events
/// each (discovered, true) pair of routines shares (`both`).
fn event_tasks(mining: &Mining, t_of: &[u32], both: &BTreeMap<(u32, u32), u64>) -> Prf {
    // The label of each discovered routine: the true routine most of its events belong to. `both`
    // iterates by (discovered, true) ascending, so on a tie the lower true id stays.
    let mut label: BTreeMap<u32, (u64, u32)> = BTreeMap::new();
    for (&(d, t), &c) in both {
        let best = label.entry(d).or_insert((0, 0));
        if c > best.0 {
            *best = (c, t);
        }
    }
    // Each event's predicted task; an event inside instances of two routines (overlapping spans are
    // possible when one segment holds two routines' patterns) keeps the first routine's label.
    let mut predicted = vec![0u32; t_of.len()];
    for r in &mining.routines {
        let Some(&(_, task)) = label.get(&r.id) else {
            // A routine of noise only: its events are found with a label no true event has.
            for inst in &r.instances {
                for p in &mut predicted[inst.span.0 as usize..=inst.span.1 as usize] {
                    if *p == 0 {
                        *p = u32::MAX;
                    }
                }
            }
            continue;
        };
        for inst in &r.instances {
            for p in &mut predicted[inst.span.0 as usize..=inst.span.1 as usize] {
                if *p == 0 {
                    *p = task;
                }
            }
        }
    }
    let found = predicted.iter().filter(|&&p| p != 0).count() as u64;
    let truth = t_of.iter().filter(|&&t| t != 0).count() as u64;
    let correct = predicted
        .iter()
        .zip(t_of)
        .filter(|&(&p, &t)| t != 0 && p == t)
        .count() as u64;
    Prf::new(found, truth, correct)
}

/// Scores a mining result against ground truth. `log` must be the log `mining` was mined from.
pub fn evaluate(log: &Log, mining: &Mining, truth: &GroundTruth) -> Evaluation {
    // (session name, user name) → session id.
    let mut session_ids: HashMap<(&str, &str), u32> = HashMap::new();
    for (id, s) in log.dict.sessions.iter().enumerate() {
        let user = log
            .dict
            .users
            .get(s.user as usize)
            .map_or("", |u| u.as_str());
        session_ids.insert((s.name.as_str(), user), id as u32);
    }
    let mut at: HashMap<(u32, i64), u32> = HashMap::with_capacity(log.events.len());
    for (i, e) in log.events.iter().enumerate() {
        at.insert((e.session, e.ts), i as u32);
    }
    let n = log.events.len();
    // Per event: true routine id (0 = none) and discovered routine id (0 = none).
    let mut t_of = vec![0u32; n];
    let mut unknown = 0u64;
    let mut t_size: BTreeMap<u32, u64> = BTreeMap::new();
    let mut t_bounds: Vec<(u32, bool)> = Vec::new();
    for inst in &truth.instances {
        let sid = session_ids
            .get(&(inst.session.as_str(), inst.user.as_str()))
            .copied();
        let idx: Vec<u32> = inst
            .events
            .iter()
            .filter_map(|&ts| {
                let found = sid.and_then(|s| at.get(&(s, ts)).copied());
                if found.is_none() {
                    unknown += 1;
                }
                found
            })
            .collect();
        for &i in &idx {
            t_of[i as usize] = inst.routine;
        }
        *t_size.entry(inst.routine).or_insert(0) += idx.len() as u64;
        if let (Some(&a), Some(&b)) = (idx.first(), idx.last()) {
            t_bounds.push((a, false));
            t_bounds.push((b, true));
        }
    }
    let mut d_size: BTreeMap<u32, u64> = BTreeMap::new();
    let mut both: BTreeMap<(u32, u32), u64> = BTreeMap::new();
    let mut d_bounds: Vec<(u32, bool)> = Vec::new();
    for r in &mining.routines {
        for inst in &r.instances {
            let (a, b) = inst.span;
            d_bounds.push((a, false));
            d_bounds.push((b, true));
            for i in a..=b {
                *d_size.entry(r.id).or_insert(0) += 1;
                let t = t_of[i as usize];
                if t != 0 {
                    *both.entry((r.id, t)).or_insert(0) += 1;
                }
            }
        }
    }
    let mut pairs: Vec<(f64, u32, u32)> = both
        .iter()
        .map(|(&(d, t), &c)| (c as f64 / (d_size[&d] + t_size[&t] - c) as f64, d, t))
        .filter(|&(j, _, _)| j >= MATCH_JACCARD)
        .collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut used_d = std::collections::BTreeSet::new();
    let mut used_t = std::collections::BTreeSet::new();
    let mut matches = Vec::new();
    for (j, d, t) in pairs {
        if used_d.contains(&d) || used_t.contains(&t) {
            continue;
        }
        used_d.insert(d);
        used_t.insert(t);
        matches.push(RoutineMatch {
            discovered: d,
            truth: t,
            truth_name: truth.routine(t).map(|r| r.name.clone()).unwrap_or_default(),
            jaccard: j,
        });
    }
    matches.sort_by_key(|m| m.discovered);
    let true_routines = t_size.values().filter(|&&c| c > 0).count() as u64;
    let routines = Prf::new(
        mining.routines.len() as u64,
        true_routines,
        matches.len() as u64,
    );
    t_bounds.sort_unstable();
    d_bounds.sort_unstable();
    d_bounds.dedup();
    let correct = d_bounds
        .iter()
        .filter(|b| t_bounds.binary_search(b).is_ok())
        .count() as u64;
    let boundaries = Prf::new(d_bounds.len() as u64, t_bounds.len() as u64, correct);
    let event_tasks = event_tasks(mining, &t_of, &both);
    Evaluation {
        routines,
        boundaries,
        event_tasks,
        matches,
        unknown_truth_events: unknown,
    }
}
