//! Routine discovery: closed sequential patterns over segments, chosen greedily for coverage, then
//! their instances, variants and data flows.
//!
//! 1. Segments become sequences of action ids. Actions found in fewer than `min_support` segments are
//!    dropped from the sequences first (they cannot be part of a frequent pattern), and identical
//!    sequences are mined once with their count as weight.
//! 2. Closed patterns of at least `min_len` steps are the candidates ([`crate::patterns`]), and for
//!    long segments (a routine of dozens of steps, where noise makes the closed patterns too many to
//!    enumerate) the consensus of segments of one vocabulary ([`consensus_patterns`]).
//! 3. Greedy coverage: the candidate covering the most not-yet-covered events (steps × uncovered
//!    support) is taken, its sequences are covered, and so on while a candidate still has
//!    `min_support` uncovered segments. A candidate that is a near-duplicate of a routine already
//!    taken (longest common subsequence ≥ `merge_similarity` of the longer one), or a fragment or rare
//!    variant of it (at most a quarter of its support, and 80 % of the shorter one in common), adds its
//!    segments to that routine instead of being listed again.
//!    A segment that holds none of the chosen patterns but `near_match` of one routine's steps joins
//!    that routine.
//! 4. In each covered segment the routine's steps are aligned to the events (first embedding, or the
//!    longest common subsequence when the segment holds only part of them); the instance spans the
//!    aligned events, widened over at most 3 events that lead or trail the pattern: actions found
//!    there in at least [`EDGE_STEP_SHARE`] of the instances, or, for a variant's step, in at least
//!    `variant_min_share` of them (two at least) when the action operates a control (has an element,
//!    is no focus change) in a window of the routine's steps and comes at this place (right after
//!    the step before it, or right before the step after it) in at least half of its occurrences;
//!    in both cases inside instances less than half as often (noise around instances is as common
//!    inside them), and not tied to the other side ([`Follows`]: a task's first step left after
//!    another task's instance is not its trailing step). Noise gathers at the edges of instances in
//!    a stream without pauses (people wander off between tasks), so that a rarer edge action that
//!    is no operation in the routine's windows is noise. A segment holding the whole
//!    pattern several times gives several instances.
//! 5. An instance's variant is its sequence of steps: the pattern's, the leading and trailing ones,
//!    and *extra steps*, actions that come at one place of the routine (after the same aligned step) in
//!    at least `variant_min_share` of the instances and there for at least 70 % of their occurrences.
//!    Noise comes anywhere; it is part of an instance's span but not of its variant.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use serde::{Deserialize, Serialize};
use uilog::EventKind;

use crate::log::Log;
use crate::patterns::{closed_patterns_within_budget, MineOptions, SeqDb};
use crate::segment::Segment;
use rustc_hash::FxHashMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscoveryOptions {
    /// Minimum number of segments a routine must occur in; `None` picks
    /// max(3, 1 % of the segments).
    pub min_support: Option<u64>,
    /// Minimum number of steps of a routine.
    pub min_len: usize,
    /// Patterns are not grown beyond this many steps.
    pub max_len: usize,
    /// Near-duplicate threshold (see the module documentation). A candidate with at most a quarter of
    /// a taken routine's support whose steps are, to 80 % of the shorter, common with that routine's
    /// is a fragment or a rare variant of it and merges too.
    pub merge_similarity: f64,
    /// Share of a routine's instances an extra (non-pattern) step must occur in to count as a step.
    pub variant_min_share: f64,
    /// Above this many segments, patterns are mined on an evenly spread sample of this many.
    pub max_mined_segments: usize,
    /// A segment holding none of the chosen patterns joins the routine of which it holds this share of
    /// the steps (as a longest common subsequence), if any.
    pub near_match: f64,
}

impl Default for DiscoveryOptions {
    fn default() -> Self {
        DiscoveryOptions {
            min_support: None,
            min_len: 3,
            max_len: 64,
            merge_similarity: 0.7,
            variant_min_share: 0.05,
            max_mined_segments: 5_000,
            near_match: 0.8,
        }
    }
}

impl DiscoveryOptions {
    pub fn min_support_for(&self, segments: usize) -> u64 {
        self.min_support
            .unwrap_or_else(|| 3.max((segments as f64 * 0.01).ceil() as u64))
            .max(1)
    }
}

/// One performance of a routine: events `first..=last` of [`Log::events`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub first: u32,
    pub last: u32,
    pub user: u32,
    pub session: u32,
    /// Index into the routine's variants.
    pub variant: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub steps: Vec<u32>,
    pub count: u64,
}

/// A value that moved between two actions of a routine's instances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFlow {
    pub from: u32,
    pub to: u32,
    /// `copy_paste` (clipboard) or `reuse` (a value typed or pasted that was seen earlier).
    pub via: String,
    /// Instances in which it happened.
    pub instances: u64,
}

/// A discovered routine, before scoring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Discovered {
    /// The pattern's actions, in order.
    pub steps: Vec<u32>,
    /// Segments assigned to the routine.
    pub support: u64,
    pub instances: Vec<Instance>,
    /// Sorted by count, most frequent first.
    pub variants: Vec<Variant>,
    pub data_flows: Vec<DataFlow>,
    /// Per instance: the share of its steps that a bot can perform without a person.
    pub automatable: Vec<f64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Discovery {
    pub routines: Vec<Discovered>,
    pub closed_patterns: usize,
    pub min_support: u64,
}

/// Directly-follows counts of a log (consecutive events of a session), for telling a step that
/// ends an instance from one that begins the next.
pub struct Follows {
    pairs: FxHashMap<(u32, u32), u64>,
    out: Vec<u64>,
    into: Vec<u64>,
    /// Per action: the largest share of its occurrences one successor (predecessor) takes.
    next_share: Vec<f64>,
    prev_share: Vec<f64>,
}

impl Follows {
    pub fn of(log: &Log) -> Follows {
        let n = log.actions.len();
        let mut pairs: FxHashMap<(u32, u32), u64> = FxHashMap::default();
        for w in log.events.windows(2) {
            if w[0].session == w[1].session {
                *pairs.entry((w[0].action, w[1].action)).or_insert(0) += 1;
            }
        }
        let (mut out, mut into) = (vec![0u64; n], vec![0u64; n]);
        let (mut next_max, mut prev_max) = (vec![0u64; n], vec![0u64; n]);
        for (&(a, b), &c) in &pairs {
            out[a as usize] += c;
            into[b as usize] += c;
            next_max[a as usize] = next_max[a as usize].max(c);
            prev_max[b as usize] = prev_max[b as usize].max(c);
        }
        let share = |m: &[u64], t: &[u64]| -> Vec<f64> {
            m.iter()
                .zip(t)
                .map(|(&m, &t)| if t == 0 { 0.0 } else { m as f64 / t as f64 })
                .collect()
        };
        Follows {
            next_share: share(&next_max, &out),
            prev_share: share(&prev_max, &into),
            pairs,
            out,
            into,
        }
    }

    fn pair(&self, a: u32, b: u32) -> u64 {
        self.pairs.get(&(a, b)).copied().unwrap_or(0)
    }

    /// Whether `x` comes right after `prev` in at least half of its occurrences.
    fn mostly_after(&self, prev: u32, x: u32) -> bool {
        self.pair(prev, x) as f64 >= 0.5 * self.into[x as usize] as f64
    }

    /// Whether `x` comes right before `next` in at least half of its occurrences.
    fn mostly_before(&self, x: u32, next: u32) -> bool {
        self.pair(x, next) as f64 >= 0.5 * self.out[x as usize] as f64
    }

    /// Whether `x`, right after `prev`, rather begins what follows: `prev` leads to `x` less than
    /// half the time while `x` leads to one action at least 90 % of the time.
    fn opens_next(&self, prev: u32, x: u32) -> bool {
        let after_prev = self.pair(prev, x) as f64 / self.out[prev as usize].max(1) as f64;
        after_prev < 0.5 && self.next_share[x as usize] >= 0.9
    }

    /// Whether `x`, right before `next`, rather ends what came before: `next` is preceded by `x`
    /// less than half the time while `x` follows one action at least 90 % of the time.
    fn closes_previous(&self, x: u32, next: u32) -> bool {
        let before_next = self.pair(x, next) as f64 / self.into[next as usize].max(1) as f64;
        before_next < 0.5 && self.prev_share[x as usize] >= 0.9
    }
}

/// The share of a routine's instances a step must lead or trail (within 3 events of the pattern)
/// to widen them whatever it is; rarer ones must look like a variant's step (see `build_routine`).
pub const EDGE_STEP_SHARE: f64 = 0.5;

/// Discovers routines in the segments of a log.
pub fn discover(log: &Log, segments: &[Segment], opts: &DiscoveryOptions) -> Discovery {
    let min_support = opts.min_support_for(segments.len());
    let keep = frequent_actions(log, segments, min_support);
    let (db, seq_of) = distinct_sequences(log, segments, &keep, opts.min_len);
    let (mine_db, mine_support, sampled) =
        mining_sample(&db, &seq_of, segments.len(), min_support, opts);
    let (patterns, closed) = candidates(&mine_db, mine_support, opts);
    let (chosen, accepted) = select(&mine_db, &patterns, mine_support, opts.merge_similarity);
    let mut owner = if sampled {
        owners_from_accepted(&db, &patterns, &accepted)
    } else {
        owners_from_chosen(&db, &chosen)
    };
    assign_near_matches(&db, &patterns, &chosen, &mut owner, opts);
    let routines = build_routines(log, segments, &seq_of, &owner, &patterns, &chosen, opts);
    Discovery {
        routines,
        closed_patterns: closed,
        min_support,
    }
}

/// Which actions can be part of a routine: those found in at least `min_support` segments.
///
/// A rarer action cannot be part of a frequent pattern, and dropping it from the sequences first
/// makes more segments identical, so that they are mined once.
fn frequent_actions(log: &Log, segments: &[Segment], min_support: u64) -> Vec<bool> {
    let ev = &log.events;
    let n_actions = log.actions.len();
    // Segment support of each action.
    let mut seen = vec![u32::MAX; n_actions];
    let mut seg_support = vec![0u64; n_actions];
    for (k, s) in segments.iter().enumerate() {
        for e in &ev[s.start as usize..s.end as usize] {
            let a = e.action as usize;
            if seen[a] != k as u32 {
                seen[a] = k as u32;
                seg_support[a] += 1;
            }
        }
    }
    seg_support.iter().map(|&c| c >= min_support).collect()
}

/// The distinct sequences of the segments' kept actions, each with the number of segments it
/// stands for as its weight, and per segment its sequence (`u32::MAX` when shorter than `min_len`).
///
/// Identical segments are common (a routine performed the same way again and again), and the
/// pattern search costs by distinct sequence, so each is mined once.
fn distinct_sequences(
    log: &Log,
    segments: &[Segment],
    keep: &[bool],
    min_len: usize,
) -> (SeqDb, Vec<u32>) {
    let ev = &log.events;
    let mut db = SeqDb::new();
    let mut index: FxHashMap<Vec<u32>, u32> = FxHashMap::default();
    let mut seq_of: Vec<u32> = Vec::with_capacity(segments.len());
    let mut buf: Vec<u32> = Vec::new();
    for s in segments {
        buf.clear();
        buf.extend(
            ev[s.start as usize..s.end as usize]
                .iter()
                .map(|e| e.action)
                .filter(|&a| keep[a as usize]),
        );
        if buf.len() < min_len {
            seq_of.push(u32::MAX);
            continue;
        }
        let id = match index.get(buf.as_slice()) {
            Some(&id) => {
                db.weights[id as usize] += 1;
                id
            }
            None => {
                let id = db.len() as u32;
                db.push(&buf, 1);
                index.insert(buf.clone(), id);
                id
            }
        };
        seq_of.push(id);
    }
    (db, seq_of)
}

/// The database the patterns are mined on, its support threshold, and whether it is a sample.
///
/// Mining cost grows with the number of distinct segments; frequent routines show just as well
/// in an evenly spread sample, so a large log is mined on one (with the threshold scaled to it) and
/// its segments assigned after.
fn mining_sample(
    db: &SeqDb,
    seq_of: &[u32],
    segments: usize,
    min_support: u64,
    opts: &DiscoveryOptions,
) -> (SeqDb, u64, bool) {
    if segments <= opts.max_mined_segments {
        return (db.clone(), min_support, false);
    }
    let stride = segments.div_ceil(opts.max_mined_segments);
    let mut sample = SeqDb::new();
    let mut slot: FxHashMap<u32, u32> = FxHashMap::default();
    let mut taken = 0u64;
    for k in (0..segments).step_by(stride) {
        taken += 1;
        let q = seq_of[k];
        if q == u32::MAX {
            continue;
        }
        match slot.get(&q) {
            Some(&i) => sample.weights[i as usize] += 1,
            None => {
                slot.insert(q, sample.len() as u32);
                sample.push(db.seq(q as usize), 1);
            }
        }
    }
    let scaled = (min_support as f64 * taken as f64 / segments as f64).ceil() as u64;
    (sample, scaled.max(2), true)
}

/// The candidate patterns, and how many of them are closed patterns.
///
/// Closed patterns are the candidates; where the search stopped at its budget, long routines may
/// be missing their steps, and segments kept whole tell them (otherwise the closed patterns are
/// complete, and a consensus adds nothing they do not have).
fn candidates(
    mine_db: &SeqDb,
    mine_support: u64,
    opts: &DiscoveryOptions,
) -> (Vec<crate::patterns::Pattern>, usize) {
    let (mut patterns, cut) = closed_patterns_within_budget(
        mine_db,
        &MineOptions {
            min_support: mine_support,
            min_len: opts.min_len,
            max_len: opts.max_len,
        },
    );
    let closed = patterns.len();
    if cut {
        patterns.extend(consensus_patterns(mine_db, mine_support, opts));
    }
    (patterns, closed)
}

/// Per distinct sequence, its routine (`u32::MAX` for none), when the patterns were mined on the
/// whole log: the sequences each chosen routine covered.
fn owners_from_chosen(db: &SeqDb, chosen: &[(usize, Vec<u32>)]) -> Vec<u32> {
    let mut owner: Vec<u32> = vec![u32::MAX; db.len()];
    for (r, (_, seqs)) in chosen.iter().enumerate() {
        for &q in seqs {
            owner[q as usize] = r as u32;
        }
    }
    owner
}

/// Per distinct sequence, its routine (`u32::MAX` for none), when the patterns were mined on a
/// sample: each sequence goes to the routine of the first accepted pattern it contains, the greedy
/// coverage replayed over every segment of the log.
fn owners_from_accepted(
    db: &SeqDb,
    patterns: &[crate::patterns::Pattern],
    accepted: &[(usize, usize)],
) -> Vec<u32> {
    let mut owner: Vec<u32> = vec![u32::MAX; db.len()];
    for (q, o) in owner.iter_mut().enumerate() {
        let seq = db.seq(q);
        if let Some(&(_, r)) = accepted
            .iter()
            .find(|&&(p, _)| is_subsequence(&patterns[p].items, seq))
        {
            *o = r as u32;
        }
    }
    owner
}

/// Gives a sequence that holds no chosen pattern but `near_match` of one routine's steps to that
/// routine (the one it shares most steps with).
///
/// A variant that does a step differently, or skips one, holds no pattern of the routine and is
/// still an instance of it.
fn assign_near_matches(
    db: &SeqDb,
    patterns: &[crate::patterns::Pattern],
    chosen: &[(usize, Vec<u32>)],
    owner: &mut [u32],
    opts: &DiscoveryOptions,
) {
    for (q, o) in owner.iter_mut().enumerate() {
        let seq = db.seq(q);
        if *o != u32::MAX || seq.len() > 4 * opts.max_len {
            continue;
        }
        let mut best: Option<(usize, usize)> = None;
        for (r, (p, _)) in chosen.iter().enumerate() {
            let steps = &patterns[*p].items;
            let common = lcs_len(steps, seq);
            if common >= opts.min_len
                && common as f64 >= opts.near_match * steps.len() as f64
                && best.is_none_or(|(c, _)| common > c)
            {
                best = Some((common, r));
            }
        }
        if let Some((_, r)) = best {
            *o = r as u32;
        }
    }
}

/// Each chosen routine with its instances, variants and data flows, from the segments its
/// sequences stand for; routines left without an instance are dropped.
///
/// The patterns were chosen on distinct sequences (perhaps of a sample); instances are found in the
/// log's own segments, which is where events, users and times are.
fn build_routines(
    log: &Log,
    segments: &[Segment],
    seq_of: &[u32],
    owner: &[u32],
    patterns: &[crate::patterns::Pattern],
    chosen: &[(usize, Vec<u32>)],
    opts: &DiscoveryOptions,
) -> Vec<Discovered> {
    let mut segs_of: Vec<Vec<Segment>> = vec![Vec::new(); chosen.len()];
    for (k, s) in segments.iter().enumerate() {
        let q = seq_of[k];
        if q != u32::MAX && owner[q as usize] != u32::MAX {
            segs_of[owner[q as usize] as usize].push(*s);
        }
    }
    let follows = Follows::of(log);
    chosen
        .iter()
        .zip(segs_of)
        .map(|((p, _), segs)| {
            build_routine(
                log,
                &follows,
                &patterns[*p].items,
                segs.len() as u64,
                &segs,
                opts,
            )
        })
        .filter(|r| !r.instances.is_empty())
        .collect()
}

/// Sequences at least this long also get a consensus candidate ([`consensus_patterns`]).
pub const LONG_SEGMENT: usize = 30;

/// Candidates for long routines, built from whole segments instead of grown step by step.
///
/// A long segment with noise scattered through it holds tens of thousands of closed patterns, one
/// for every way of keeping or skipping the noise and the optional steps, and the pattern search
/// stops at its work budget with a fragment of the routine. When segmentation has kept the
/// instances whole (the repairs join the fragments of a long routine), the segments themselves tell
/// the routine: segments of at least [`LONG_SEGMENT`] actions are grouped by vocabulary (the set of
/// their actions, Jaccard ≥ 0.8 to a group's first, heaviest, segment: two task types differ in
/// their windows and elements, two instances of one task do not); in each group of `min_support`
/// segments the *medoid* (the segment with the longest common subsequences with the others, on a
/// sample of 25) is aligned to every sampled segment, and its steps matched in at least half of
/// them are the candidate. Noise is where the medoid alone has it and drops out; optional steps
/// stay when most instances do them. The candidate is supported by every segment that holds
/// `near_match` of its steps in order, and competes with the closed patterns on coverage.
pub fn consensus_patterns(
    db: &SeqDb,
    min_support: u64,
    opts: &DiscoveryOptions,
) -> Vec<crate::patterns::Pattern> {
    const SAME_TASK: f64 = 0.8;
    const SAMPLE: usize = 25;
    const GROUPS: usize = 64;
    let vocab = |q: usize| -> Vec<u32> {
        let mut v = db.seq(q).to_vec();
        v.sort_unstable();
        v.dedup();
        v
    };
    let jaccard = |a: &[u32], b: &[u32]| -> f64 {
        let (mut i, mut j, mut both) = (0, 0, 0usize);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    both += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        both as f64 / (a.len() + b.len() - both).max(1) as f64
    };
    let mut long: Vec<usize> = (0..db.len())
        .filter(|&q| db.seq(q).len() >= LONG_SEGMENT)
        .collect();
    if long.len() < 2 {
        return Vec::new();
    }
    long.sort_by_key(|&q| (Reverse(db.weights[q]), q));
    // Leader clustering: each segment joins the first group whose leader shares its vocabulary.
    let mut groups: Vec<(Vec<u32>, Vec<usize>, u64)> = Vec::new();
    for &q in &long {
        let v = vocab(q);
        match groups.iter().position(|g| jaccard(&g.0, &v) >= SAME_TASK) {
            Some(g) => {
                groups[g].1.push(q);
                groups[g].2 += db.weights[q];
            }
            None if groups.len() < GROUPS => groups.push((v, vec![q], db.weights[q])),
            None => {}
        }
    }
    let mut out: Vec<crate::patterns::Pattern> = Vec::new();
    for (_, members, weight) in &groups {
        if *weight < min_support {
            continue;
        }
        let stride = members.len().div_ceil(SAMPLE);
        let sample: Vec<usize> = members.iter().copied().step_by(stride).collect();
        let total: u64 = sample.iter().map(|&q| db.weights[q]).sum();
        let medoid = sample
            .iter()
            .copied()
            .max_by_key(|&a| {
                let s: u64 = sample
                    .iter()
                    .filter(|&&b| b != a)
                    .map(|&b| lcs_len(db.seq(a), db.seq(b)) as u64 * db.weights[b])
                    .sum::<u64>()
                    + (db.weights[a] - 1) * db.seq(a).len() as u64;
                (s, Reverse(a))
            })
            .expect("a group has members");
        let m = db.seq(medoid);
        let mut matched = vec![0u64; m.len()];
        for &b in &sample {
            if b == medoid {
                for c in matched.iter_mut() {
                    *c += db.weights[b];
                }
                continue;
            }
            for p in align(db.seq(b), m) {
                matched[p] += db.weights[b];
            }
        }
        let items: Vec<u32> = m
            .iter()
            .zip(&matched)
            .filter(|&(_, &c)| c * 3 >= total * 2)
            .map(|(&a, _)| a)
            .collect();
        if items.len() < opts.min_len || out.iter().any(|p| p.items == items) {
            continue;
        }
        let need = (opts.near_match * items.len() as f64).ceil() as usize;
        let iv = {
            let mut v = items.clone();
            v.sort_unstable();
            v.dedup();
            v
        };
        let seqs: Vec<u32> = (0..db.len())
            .filter(|&q| {
                let s = db.seq(q);
                s.len() >= need
                    && s.len() <= 4 * opts.max_len
                    && jaccard(&iv, &vocab(q)) >= 0.5
                    && lcs_len(&items, s) >= need
            })
            .map(|q| q as u32)
            .collect();
        let support: u64 = seqs.iter().map(|&q| db.weights[q as usize]).sum();
        if support >= min_support {
            out.push(crate::patterns::Pattern {
                items,
                support,
                seqs,
            });
        }
    }
    out
}

/// Greedy coverage; returns (pattern index, distinct sequences it takes) per routine.
/// The routines chosen, as (pattern, sequences covered), and every accepted pattern in the order of
/// acceptance with the routine it went to (its own, or the one it merged into).
type Selection = (Vec<(usize, Vec<u32>)>, Vec<(usize, usize)>);

fn select(
    db: &SeqDb,
    patterns: &[crate::patterns::Pattern],
    min_support: u64,
    merge: f64,
) -> Selection {
    let mut covered = vec![false; db.len()];
    let gain = |p: usize, covered: &[bool]| -> (u64, u64) {
        let sup: u64 = patterns[p]
            .seqs
            .iter()
            .filter(|&&s| !covered[s as usize])
            .map(|&s| db.weights[s as usize])
            .sum();
        (sup * patterns[p].items.len() as u64, sup)
    };
    let mut heap: BinaryHeap<(u64, usize, Reverse<usize>)> = patterns
        .iter()
        .enumerate()
        .map(|(i, p)| (p.support * p.items.len() as u64, p.items.len(), Reverse(i)))
        .collect();
    let mut chosen: Vec<(usize, Vec<u32>)> = Vec::new();
    let mut accepted: Vec<(usize, usize)> = Vec::new();
    while let Some((g, len, Reverse(p))) = heap.pop() {
        let (now, sup) = gain(p, &covered);
        if sup < min_support {
            continue;
        }
        if now < g {
            heap.push((now, len, Reverse(p)));
            continue;
        }
        let take: Vec<u32> = patterns[p]
            .seqs
            .iter()
            .copied()
            .filter(|&s| !covered[s as usize])
            .collect();
        for &s in &take {
            covered[s as usize] = true;
        }
        let items = &patterns[p].items;
        let taken: u64 = take.iter().map(|&s| db.weights[s as usize]).sum();
        let similar = chosen.iter_mut().enumerate().find(|(_, (q, seqs))| {
            let other = &patterns[*q].items;
            let common = lcs_len(items, other) as f64;
            let support: u64 = seqs.iter().map(|&s| db.weights[s as usize]).sum();
            common >= merge * items.len().max(other.len()) as f64
                || (common >= 0.8 * items.len().min(other.len()) as f64 && taken * 4 <= support)
        });
        match similar {
            Some((r, (_, seqs))) => {
                seqs.extend(take);
                accepted.push((p, r));
            }
            None => {
                accepted.push((p, chosen.len()));
                chosen.push((p, take));
            }
        }
    }
    for (_, seqs) in &mut chosen {
        seqs.sort_unstable();
    }
    (chosen, accepted)
}

fn is_subsequence(pat: &[u32], seq: &[u32]) -> bool {
    let mut it = seq.iter();
    pat.iter().all(|p| it.any(|x| x == p))
}

pub fn lcs_len(a: &[u32], b: &[u32]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for &x in a {
        for (j, &y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Positions in `seq` of the first embedding of `pat` starting at or after `from`.
fn embed(pat: &[u32], seq: &[u32], from: usize) -> Option<Vec<usize>> {
    let mut out = Vec::with_capacity(pat.len());
    let mut pos = from;
    for &p in pat {
        let k = pos + seq[pos..].iter().position(|&x| x == p)?;
        out.push(k);
        pos = k + 1;
    }
    Some(out)
}

/// Positions in `seq` matched by a longest common subsequence with `pat`.
fn align(pat: &[u32], seq: &[u32]) -> Vec<usize> {
    let (n, m) = (pat.len(), seq.len());
    if n * m > 4_000_000 {
        return Vec::new();
    }
    let mut dp = vec![0u32; (n + 1) * (m + 1)];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            dp[i * (m + 1) + j] = if pat[i] == seq[j] {
                dp[(i + 1) * (m + 1) + j + 1] + 1
            } else {
                dp[(i + 1) * (m + 1) + j].max(dp[i * (m + 1) + j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n && j < m {
        if pat[i] == seq[j] {
            out.push(j);
            i += 1;
            j += 1;
        } else if dp[(i + 1) * (m + 1) + j] >= dp[i * (m + 1) + j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// An instance's span before widening: (segment, first event, last event).
type Span = (usize, usize, usize);

/// A routine from its pattern and the segments assigned to it: instances found in the segments,
/// their variants, data flows and automatability.
///
/// The pattern holds only the steps every instance shares; the phases below find the rest of the
/// routine around and between them, and tell its steps from the noise in its instances.
fn build_routine(
    log: &Log,
    follows: &Follows,
    steps: &[u32],
    support: u64,
    segs: &[Segment],
    opts: &DiscoveryOptions,
) -> Discovered {
    let (spans, aligned) = instance_spans(log, steps, segs);
    let need = ((spans.len() as f64 * opts.variant_min_share).ceil() as u64).max(2);
    let mut in_pattern = vec![false; log.actions.len()];
    for &a in steps {
        in_pattern[a as usize] = true;
    }
    let (inst_count, mut is_step) = extra_steps(log, &spans, &aligned, &in_pattern, need);
    let edges = Edges {
        steps,
        segs,
        spans: &spans,
        in_pattern: &in_pattern,
        inst_count: &inst_count,
        need,
    };
    let widened = edges.widen(log, follows);
    // Leading and trailing steps belong to the variants.
    for (&(lo, hi), &(_, a, b)) in widened.iter().zip(&spans) {
        for e in log.events[lo..a].iter().chain(&log.events[b + 1..=hi]) {
            is_step[e.action as usize] = true;
        }
    }
    let (variants, variant_of) = variants(log, &widened, &is_step);
    let (data_flows, automatable) = flows_and_automation(log, &widened, &is_step);
    let instances = widened
        .iter()
        .zip(variant_of)
        .map(|(&(lo, hi), variant)| {
            let first = &log.events[lo];
            Instance {
                first: lo as u32,
                last: hi as u32,
                user: log.user_of(first),
                session: first.session,
                variant,
            }
        })
        .collect();
    Discovered {
        steps: steps.to_vec(),
        support,
        instances,
        variants,
        data_flows,
        automatable,
    }
}

/// Instance spans as (segment, first, last) in event indices, before widening, and per span the
/// events aligned to the pattern's steps.
///
/// A segment holding the whole pattern several times gives an instance for each embedding; one
/// holding only part of it (a variant that skips or changes a step) gives the span of its longest
/// common subsequence with the pattern.
fn instance_spans(log: &Log, steps: &[u32], segs: &[Segment]) -> (Vec<Span>, Vec<Vec<usize>>) {
    let ev = &log.events;
    let mut spans: Vec<Span> = Vec::new();
    let mut aligned: Vec<Vec<usize>> = Vec::new();
    let mut acts: Vec<u32> = Vec::new();
    for (k, s) in segs.iter().enumerate() {
        acts.clear();
        acts.extend(
            ev[s.start as usize..s.end as usize]
                .iter()
                .map(|e| e.action),
        );
        let base = s.start as usize;
        let mut from = 0;
        let mut found = false;
        while let Some(pos) = embed(steps, &acts, from) {
            spans.push((k, base + pos[0], base + pos[pos.len() - 1]));
            from = pos[pos.len() - 1] + 1;
            aligned.push(pos.iter().map(|p| base + p).collect());
            found = true;
        }
        if !found {
            let pos = align(steps, &acts);
            if let (Some(&a), Some(&b)) = (pos.first(), pos.last()) {
                spans.push((k, base + a, base + b));
                aligned.push(pos.iter().map(|p| base + p).collect());
            }
        }
    }
    (spans, aligned)
}

/// Per non-pattern action, the number of instances it occurs in; and which actions are steps:
/// the pattern's, and extra steps, non-pattern actions inside instances that come at the same
/// place of the routine (after the same aligned step) in at least `need` instances, and mostly
/// there.
///
/// Noise comes anywhere; a variant's step comes where the variant does something else, and no
/// closed pattern holds it when most instances lack it.
fn extra_steps(
    log: &Log,
    spans: &[Span],
    aligned: &[Vec<usize>],
    in_pattern: &[bool],
    need: u64,
) -> (BTreeMap<u32, u64>, Vec<bool>) {
    let ev = &log.events;
    let mut inst_count: BTreeMap<u32, u64> = BTreeMap::new();
    let mut slot_count: BTreeMap<(u32, usize), u64> = BTreeMap::new();
    let mut stamp: FxHashMap<u32, usize> = FxHashMap::default();
    let mut slot_stamp: FxHashMap<(u32, usize), usize> = FxHashMap::default();
    for (i, &(_, a, b)) in spans.iter().enumerate() {
        let mut slot = 0usize;
        let pos = &aligned[i];
        for (j, e) in ev[a..=b].iter().enumerate() {
            while slot < pos.len() && pos[slot] <= a + j {
                slot += 1;
            }
            if in_pattern[e.action as usize] {
                continue;
            }
            if stamp.insert(e.action, i) != Some(i) {
                *inst_count.entry(e.action).or_insert(0) += 1;
            }
            if slot_stamp.insert((e.action, slot), i) != Some(i) {
                *slot_count.entry((e.action, slot)).or_insert(0) += 1;
            }
        }
    }
    let mut best_slot: BTreeMap<u32, u64> = BTreeMap::new();
    for (&(x, _), &c) in &slot_count {
        let b = best_slot.entry(x).or_insert(0);
        *b = (*b).max(c);
    }
    let mut is_step = in_pattern.to_vec();
    for (&a, &c) in &inst_count {
        let at_one_place = best_slot.get(&a).copied().unwrap_or(0);
        if at_one_place >= need && at_one_place as f64 >= 0.7 * c as f64 {
            is_step[a as usize] = true;
        }
    }
    (inst_count, is_step)
}

/// What deciding an instance's leading and trailing steps needs to know of its routine.
struct Edges<'a> {
    steps: &'a [u32],
    segs: &'a [Segment],
    spans: &'a [Span],
    in_pattern: &'a [bool],
    /// Per non-pattern action, the instances it occurs in ([`extra_steps`]).
    inst_count: &'a BTreeMap<u32, u64>,
    need: u64,
}

impl Edges<'_> {
    /// Each span widened over at most [`EDGE`] steps that lead or trail the pattern: actions found
    /// just before (after) the aligned events in enough instances, and seldom inside instances.
    ///
    /// A step of the routine that the pattern lacks (its place varies, so no closed pattern holds
    /// it) leads or trails most instances. Noise in the routine's windows shows up around instances
    /// too, but inside them as often or more; and a step that ties to its neighbour outside more
    /// than to the instance belongs to the next (previous) instance: a task's first step after the
    /// last step of whatever task came before.
    fn widen(&self, log: &Log, follows: &Follows) -> Vec<(usize, usize)> {
        let ev = &log.events;
        let bounds = self.bounds();
        let (before, after) = self.edge_counts(log, &bounds);
        let windows = self.windows(log);
        let mut widened: Vec<(usize, usize)> = Vec::with_capacity(self.spans.len());
        for (&(_, a, b), &(lo_bound, hi_bound)) in self.spans.iter().zip(&bounds) {
            let (mut lo, mut hi) = (a, b);
            while lo > lo_bound
                && a - lo < EDGE
                && self.edge_step(
                    log,
                    &windows,
                    &before,
                    ev[lo - 1].action,
                    follows.mostly_before(ev[lo - 1].action, ev[lo].action),
                )
                && !follows.closes_previous(ev[lo - 1].action, ev[lo].action)
            {
                lo -= 1;
            }
            while hi < hi_bound
                && hi - b < EDGE
                && self.edge_step(
                    log,
                    &windows,
                    &after,
                    ev[hi + 1].action,
                    follows.mostly_after(ev[hi].action, ev[hi + 1].action),
                )
                && !follows.opens_next(ev[hi].action, ev[hi + 1].action)
            {
                hi += 1;
            }
            widened.push((lo, hi));
        }
        widened
    }

    /// How far each span may be widened: its segment, and not into the span before or after it in
    /// the same segment.
    fn bounds(&self) -> Vec<(usize, usize)> {
        let spans = self.spans;
        spans
            .iter()
            .enumerate()
            .map(|(i, &(k, _, _))| {
                let s = self.segs[k];
                let lo = match i.checked_sub(1).map(|j| spans[j]) {
                    Some((pk, _, pb)) if pk == k => pb + 1,
                    _ => s.start as usize,
                };
                let hi = match spans.get(i + 1) {
                    Some(&(nk, na, _)) if nk == k => na - 1,
                    _ => s.end as usize - 1,
                };
                (lo, hi)
            })
            .collect()
    }

    /// Per action, the number of instances it is found in within [`EDGE`] events before (after)
    /// the aligned events.
    fn edge_counts(
        &self,
        log: &Log,
        bounds: &[(usize, usize)],
    ) -> (BTreeMap<u32, u64>, BTreeMap<u32, u64>) {
        let ev = &log.events;
        let mut before: BTreeMap<u32, u64> = BTreeMap::new();
        let mut after: BTreeMap<u32, u64> = BTreeMap::new();
        for (&(_, a, b), &(lo, hi)) in self.spans.iter().zip(bounds) {
            let mut seen: Vec<u32> = ev[a.saturating_sub(EDGE).max(lo)..a]
                .iter()
                .map(|e| e.action)
                .collect();
            seen.sort_unstable();
            seen.dedup();
            for x in seen {
                *before.entry(x).or_insert(0) += 1;
            }
            let mut seen: Vec<u32> = ev[b + 1..(b + 1 + EDGE).min(hi + 1).max(b + 1)]
                .iter()
                .map(|e| e.action)
                .collect();
            seen.sort_unstable();
            seen.dedup();
            for x in seen {
                *after.entry(x).or_insert(0) += 1;
            }
        }
        (before, after)
    }

    /// The windows (app, title template) the routine's steps work in, sorted.
    fn windows<'l>(&self, log: &'l Log) -> Vec<(&'l str, &'l str)> {
        let mut w: Vec<(&str, &str)> = self
            .steps
            .iter()
            .map(|&a| {
                let a = &log.actions[a as usize];
                (a.app.as_str(), a.title.as_str())
            })
            .collect();
        w.sort_unstable();
        w.dedup();
        w
    }

    /// Whether `x`, found at an instance's edge in `counts` of them, is a step there: in at least
    /// [`EDGE_STEP_SHARE`] of the instances; a rarer one (at least `need`) only when it looks like a
    /// variant's step: it operates a control (has an element, is no focus change) in a window the
    /// routine works in, and mostly comes at this place (`in_place`). In a stream without pauses,
    /// people wander off between tasks (focus changes, scrolls, clicks on nothing, visits to other
    /// windows), and that noise gathers at the edges of instances as often as a variant's step does.
    fn edge_step(
        &self,
        log: &Log,
        windows: &[(&str, &str)],
        counts: &BTreeMap<u32, u64>,
        x: u32,
        in_place: bool,
    ) -> bool {
        if self.in_pattern[x as usize] {
            return false;
        }
        let variant_like = |x: u32| {
            let a = &log.actions[x as usize];
            !a.element.is_empty()
                && a.kind != EventKind::Focus
                && windows
                    .binary_search(&(a.app.as_str(), a.title.as_str()))
                    .is_ok()
        };
        let c = counts.get(&x).copied().unwrap_or(0);
        c >= self.need
            && (c as f64 >= EDGE_STEP_SHARE * self.spans.len() as f64
                || (in_place && variant_like(x)))
            && self.inst_count.get(&x).copied().unwrap_or(0) * 2 < c
    }
}

/// How many events before or after the pattern an instance may be widened over.
const EDGE: usize = 3;

/// The routine's variants (most frequent first; ties by steps, so the order is the same on every
/// run) and per instance its variant.
///
/// An instance's variant is its sequence of steps; the noise inside its span is left out, so that
/// instances performed the same way are one variant.
fn variants(log: &Log, widened: &[(usize, usize)], is_step: &[bool]) -> (Vec<Variant>, Vec<u32>) {
    let variant_of: Vec<Vec<u32>> = widened
        .iter()
        .map(|&(lo, hi)| {
            log.events[lo..=hi]
                .iter()
                .map(|e| e.action)
                .filter(|&a| is_step[a as usize])
                .collect()
        })
        .collect();
    let mut counts: BTreeMap<&Vec<u32>, u64> = BTreeMap::new();
    for v in &variant_of {
        *counts.entry(v).or_insert(0) += 1;
    }
    let mut variants: Vec<Variant> = counts
        .into_iter()
        .map(|(s, c)| Variant {
            steps: s.clone(),
            count: c,
        })
        .collect();
    variants.sort_by(|a, b| b.count.cmp(&a.count).then(a.steps.cmp(&b.steps)));
    let mut variant_ids: BTreeMap<Vec<u32>, u32> = BTreeMap::new();
    for (i, v) in variants.iter().enumerate() {
        variant_ids.insert(v.steps.clone(), i as u32);
    }
    let ids = variant_of.iter().map(|v| variant_ids[v]).collect();
    (variants, ids)
}

/// The routine's data flows (a value copied and pasted, or seen and typed again, counted once per
/// instance) and per instance the share of its steps a bot can perform without a person.
///
/// A step is automatable unless it types a value that varies and comes from nowhere in the
/// instance: an action always typing the same value types a constant, and a pasted or retyped value
/// seen earlier flows from that step.
fn flows_and_automation(
    log: &Log,
    widened: &[(usize, usize)],
    is_step: &[bool],
) -> (Vec<DataFlow>, Vec<f64>) {
    let ev = &log.events;
    // Typed values per action across instances: an action always typing the same value is constant.
    let mut typed: BTreeMap<u32, (u64, bool)> = BTreeMap::new();
    for &(lo, hi) in widened {
        for e in &ev[lo..=hi] {
            if e.kind == EventKind::Type && is_step[e.action as usize] {
                let t = typed.entry(e.action).or_insert((e.value, true));
                if t.0 != e.value || e.value == 0 {
                    t.1 = false;
                }
            }
        }
    }
    let mut flows: BTreeMap<(u32, u32, &'static str), u64> = BTreeMap::new();
    let mut automatable = Vec::with_capacity(widened.len());
    let mut values: Vec<(u64, u32)> = Vec::new();
    for &(lo, hi) in widened {
        values.clear();
        let mut last_copy: Option<u32> = None;
        let mut inst_flows: Vec<(u32, u32, &'static str)> = Vec::new();
        let (mut steps_n, mut auto_n) = (0u32, 0u32);
        for e in &ev[lo..=hi] {
            let seen_from = (e.value != 0)
                .then(|| values.iter().find(|(v, _)| *v == e.value).map(|&(_, a)| a))
                .flatten();
            let fed = match e.kind {
                EventKind::Paste => match (seen_from, last_copy) {
                    (Some(from), _) => {
                        inst_flows.push((from, e.action, "copy_paste"));
                        true
                    }
                    (None, Some(from)) if e.value == 0 => {
                        inst_flows.push((from, e.action, "copy_paste"));
                        true
                    }
                    _ => false,
                },
                EventKind::Type => match seen_from {
                    Some(from) => {
                        inst_flows.push((from, e.action, "reuse"));
                        true
                    }
                    None => false,
                },
                _ => false,
            };
            if e.kind == EventKind::Copy {
                last_copy = Some(e.action);
            }
            if e.value != 0 && seen_from.is_none() {
                values.push((e.value, e.action));
            }
            if is_step[e.action as usize] {
                steps_n += 1;
                let deterministic = match e.kind {
                    EventKind::Type => typed.get(&e.action).is_some_and(|t| t.1),
                    _ => true,
                };
                if deterministic || fed {
                    auto_n += 1;
                }
            }
        }
        inst_flows.sort_unstable();
        inst_flows.dedup();
        for f in inst_flows {
            *flows.entry(f).or_insert(0) += 1;
        }
        automatable.push(if steps_n == 0 {
            0.0
        } else {
            auto_n as f64 / steps_n as f64
        });
    }
    let data_flows = flows
        .into_iter()
        .map(|((from, to, via), n)| DataFlow {
            from,
            to,
            via: via.to_owned(),
            instances: n,
        })
        .collect();
    (data_flows, automatable)
}

/// Merges routines that are one task found as several patterns.
///
/// Long instances with noise scattered through them hold many long closed patterns, and two of them
/// may each be chosen for part of the instances. Whether two routines are one task is decided by
/// context, as task types differ in theirs: a routine's *vocabulary* is the set of actions (kind,
/// application, window, element) found in at least half of its instances. Two routines whose
/// vocabularies overlap by at least `SAME_TASK_JACCARD` (Jaccard) are one routine: the one covering
/// more events keeps its steps and takes the other's segments.
pub fn merge_by_vocabulary(
    log: &Log,
    segments: &[Segment],
    disc: Discovery,
    opts: &DiscoveryOptions,
) -> Discovery {
    const SAME_TASK_JACCARD: f64 = 0.8;
    let ev = &log.events;
    let n = disc.routines.len();
    if n < 2 {
        return disc;
    }
    let vocab: Vec<Vec<u32>> = disc
        .routines
        .iter()
        .map(|r| {
            let mut seen: FxHashMap<u32, (usize, u64)> = FxHashMap::default();
            for (k, i) in r.instances.iter().enumerate() {
                for e in &ev[i.first as usize..=i.last as usize] {
                    let s = seen.entry(e.action).or_insert((usize::MAX, 0));
                    if s.0 != k {
                        *s = (k, s.1 + 1);
                    }
                }
            }
            let half = r.instances.len() as u64 / 2;
            let mut v: Vec<u32> = seen
                .into_iter()
                .filter(|&(_, (_, c))| c > half)
                .map(|(a, _)| a)
                .collect();
            v.sort_unstable();
            v
        })
        .collect();
    let covered = |r: &Discovered| -> u64 {
        r.instances
            .iter()
            .map(|i| (i.last - i.first + 1) as u64)
            .sum()
    };
    // Each routine joins the largest routine it shares its task with.
    let mut into: Vec<usize> = (0..n).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&r| (Reverse(covered(&disc.routines[r])), r));
    for (k, &a) in order.iter().enumerate() {
        if into[a] != a {
            continue;
        }
        for &b in &order[k + 1..] {
            if into[b] != b || vocab[a].is_empty() || vocab[b].is_empty() {
                continue;
            }
            let common = vocab[a]
                .iter()
                .filter(|x| vocab[b].binary_search(x).is_ok())
                .count();
            let union = vocab[a].len() + vocab[b].len() - common;
            if common as f64 >= SAME_TASK_JACCARD * union as f64 {
                into[b] = a;
            }
        }
    }
    if into.iter().enumerate().all(|(r, &t)| r == t) {
        return disc;
    }
    let follows = Follows::of(log);
    let starts: Vec<u32> = segments.iter().map(|s| s.start).collect();
    let segment_of = |e: u32| -> Segment {
        let k = starts.partition_point(|&s| s <= e) - 1;
        segments[k]
    };
    let mut routines = Vec::new();
    for a in 0..n {
        if into[a] != a {
            continue;
        }
        let mut segs: Vec<Segment> = (0..n)
            .filter(|&b| into[b] == a)
            .flat_map(|b| {
                disc.routines[b]
                    .instances
                    .iter()
                    .map(|i| segment_of(i.first))
            })
            .collect();
        segs.sort_unstable_by_key(|s| s.start);
        segs.dedup();
        let support = (0..n)
            .filter(|&b| into[b] == a)
            .map(|b| disc.routines[b].support)
            .sum();
        let r = &disc.routines[a];
        routines.push(build_routine(log, &follows, &r.steps, support, &segs, opts));
    }
    Discovery {
        routines,
        closed_patterns: disc.closed_patterns,
        min_support: disc.min_support,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 40-step routine performed 12 times with a different stray action inserted in each, and one
    /// instance that skips a step: the consensus is the routine, noise left out, and every instance
    /// supports it.
    #[test]
    fn consensus_of_long_noisy_segments_is_the_routine() {
        let routine: Vec<u32> = (0..40).collect();
        let mut db = SeqDb::new();
        for k in 0..12u32 {
            let mut s = routine.clone();
            s.insert((k as usize * 7) % 40, 100 + k);
            if k == 5 {
                s.remove(20);
            }
            db.push(&s, 1);
        }
        // A short segment of another task is not part of it.
        db.push(&[200, 201, 202], 3);
        let found = consensus_patterns(&db, 3, &DiscoveryOptions::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].items, routine);
        assert_eq!(found[0].support, 12);
        assert_eq!(found[0].seqs, (0..12).collect::<Vec<u32>>());
    }

    /// Two long task types with disjoint vocabularies give two candidates; segments below
    /// [`LONG_SEGMENT`] give none.
    #[test]
    fn consensus_keeps_task_types_apart_and_skips_short_segments() {
        let a: Vec<u32> = (0..35).collect();
        let b: Vec<u32> = (50..90).collect();
        let mut db = SeqDb::new();
        db.push(&a, 4);
        db.push(&b, 5);
        let found = consensus_patterns(&db, 3, &DiscoveryOptions::default());
        let items: Vec<&Vec<u32>> = found.iter().map(|p| &p.items).collect();
        assert_eq!(items, vec![&b, &a]);
        let mut short = SeqDb::new();
        short.push(&a[..LONG_SEGMENT - 1], 10);
        short.push(&a[1..LONG_SEGMENT], 10);
        assert!(consensus_patterns(&short, 3, &DiscoveryOptions::default()).is_empty());
    }
}
