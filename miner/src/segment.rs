//! Segmentation: cutting each user's stream of events into task instances (segments).
//!
//! A segment always ends where the user was idle for longer than the idle gap (given, or ten times
//! the median pause between events), where an idle marker was recorded, and where the recording
//! session changes (a user's interleaved sessions on two hosts are two contexts).
//!
//! Inside the runs those leave, boundaries are learned from the data in one of two ways:
//! - **From pauses**, when the log has at least `min_pauses` of them: a directly-follows pair of
//!   actions that a pause splits in at least `min_pause_share` of its occurrences is a boundary
//!   wherever it occurs, provided the action after it follows a pause at least `min_opening_share` of
//!   the time (a stray click that often comes after a routine's last step is no boundary inside an
//!   instance). A pair seen fewer than 3 times is judged by how often its second action follows a
//!   pause.
//! - **From the directly-follows graph (DFG)**, for logs recorded without pauses: a routine performed
//!   again and again shows as a cycle, and the edge that closes the cycle (a back-edge of a depth-first
//!   search that begins at the action that most often opens a segment) points at the routine's first
//!   step. Edges weaker than `min_edge_share` of their source's strongest edge are dropped first, so
//!   noise events do not make back-edges of their own. An action is a *start action* when more than
//!   `min_start_share` of its occurrences come in over a back-edge or open a segment anyway, and every
//!   start action begins a segment.

use serde::{Deserialize, Serialize};

use crate::log::{Ev, Log};
use rustc_hash::FxHashMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentOptions {
    /// A pause longer than this (seconds) ends a segment; `None` takes ten times the median pause
    /// between consecutive events of a session, within 10 s to 300 s.
    pub idle_gap_secs: Option<f64>,
    /// Cut before start actions learned from the directly-follows graph.
    pub learned_starts: bool,
    /// DFG edges weaker than this share of their source's strongest edge are ignored when learning.
    pub min_edge_share: f64,
    /// The share of an action's occurrences that a start must exceed in beginning a cycle (or a segment).
    pub min_start_share: f64,
    /// Pauses (idle gaps) the log must have for boundaries to be learned from them.
    pub min_pauses: u64,
    /// The share of its occurrences a directly-follows pair must be split by a pause to be a boundary.
    pub min_pause_share: f64,
    /// The share of its occurrences an action must follow a pause to begin a segment after a pair.
    pub min_opening_share: f64,
}

impl Default for SegmentOptions {
    fn default() -> Self {
        SegmentOptions {
            idle_gap_secs: None,
            learned_starts: true,
            min_edge_share: 0.1,
            min_start_share: 0.5,
            min_pauses: 30,
            min_pause_share: 0.5,
            min_opening_share: 0.15,
        }
    }
}

/// A run of consecutive events of one user: indices `start..end` into [`Log::events`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub start: u32,
    pub end: u32,
}

impl Segment {
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Segmentation {
    pub segments: Vec<Segment>,
    /// The learned start actions, sorted.
    pub start_actions: Vec<u32>,
    /// The idle gap used, in seconds.
    pub idle_gap_secs: f64,
    /// Pauses longer than the idle gap (and idle markers) inside sessions.
    pub pauses: u64,
    /// Whether boundaries inside runs were learned from the pauses (else from start actions).
    pub from_pauses: bool,
}

/// Ten times the median pause between consecutive events of a session, within 10 s to 300 s.
pub fn auto_idle_gap(log: &Log) -> f64 {
    let ev = &log.events;
    let mut gaps: Vec<i64> = ev
        .windows(2)
        .filter(|w| w[0].session == w[1].session && !w[1].after_idle)
        .map(|w| w[1].ts - w[0].ts)
        .collect();
    if gaps.is_empty() {
        return 300.0;
    }
    let mid = gaps.len() / 2;
    let (_, m, _) = gaps.select_nth_unstable(mid);
    (*m as f64 / 1e6 * 10.0).clamp(10.0, 300.0)
}

/// Whether a segment must end between `prev` and `cur` whatever the actions are.
#[inline]
fn hard_cut(log: &Log, prev: &Ev, cur: &Ev, gap_us: i64) -> bool {
    cur.session != prev.session
        || log.user_of(cur) != log.user_of(prev)
        || cur.ts - prev.ts > gap_us
        || cur.after_idle
}

/// Cuts the log into segments.
pub fn segment(log: &Log, opts: &SegmentOptions) -> Segmentation {
    let ev = &log.events;
    let idle_gap_secs = opts.idle_gap_secs.unwrap_or_else(|| auto_idle_gap(log));
    let gap_us = (idle_gap_secs * 1e6) as i64;
    let mut coarse: Vec<Segment> = Vec::new();
    let mut start = 0usize;
    for i in 1..ev.len() {
        if hard_cut(log, &ev[i - 1], &ev[i], gap_us) {
            coarse.push(Segment {
                start: start as u32,
                end: i as u32,
            });
            start = i;
        }
    }
    if !ev.is_empty() {
        coarse.push(Segment {
            start: start as u32,
            end: ev.len() as u32,
        });
    }
    if !opts.learned_starts {
        let pauses = coarse
            .windows(2)
            .filter(|w| ev[w[0].start as usize].session == ev[w[1].start as usize].session)
            .count() as u64;
        return Segmentation {
            segments: coarse,
            start_actions: Vec::new(),
            idle_gap_secs,
            pauses,
            from_pauses: true,
        };
    }
    let starts = learn_starts(log, &coarse, opts);
    let mut is_start = vec![false; log.actions.len()];
    for &s in &starts {
        is_start[s as usize] = true;
    }
    // How often each directly-follows pair of a session is split by a pause (across) or not (within).
    let mut pairs: FxHashMap<(u32, u32), (u32, u32)> = FxHashMap::default();
    let mut pauses = 0u64;
    for i in 1..ev.len() {
        let (p, c) = (&ev[i - 1], &ev[i]);
        if p.session != c.session {
            continue;
        }
        let e = pairs.entry((p.action, c.action)).or_insert((0, 0));
        if c.ts - p.ts > gap_us || c.after_idle {
            e.0 += 1;
            pauses += 1;
        } else {
            e.1 += 1;
        }
    }
    // With pauses to learn from, a pair that is split by a pause at least half the time is a boundary
    // wherever it occurs. Without pauses (a log recorded without breaks) the start actions cut.
    let learn_from_pauses = pauses >= opts.min_pauses;
    let mut into: Vec<(u32, u32)> = vec![(0, 0); log.actions.len()];
    for (&(_, b), &(across, within)) in &pairs {
        into[b as usize].0 += across;
        into[b as usize].1 += within;
    }
    let cut_before = |p: &Ev, c: &Ev| -> bool {
        if !learn_from_pauses {
            return is_start[c.action as usize];
        }
        let (mut across, mut within) = pairs.get(&(p.action, c.action)).copied().unwrap_or((0, 0));
        if across + within < 3 {
            // Too rare a pair to tell (a noise event before it, say): how often anything is split
            // from this action by a pause decides.
            (across, within) = into[c.action as usize];
            if across + within < 3 {
                return is_start[c.action as usize];
            }
        }
        // The action after the cut must itself open segments now and then: a stray click that often
        // follows a routine's last step before a pause is no boundary inside an instance.
        let (a_in, w_in) = into[c.action as usize];
        across as f64 >= opts.min_pause_share * (across + within) as f64
            && a_in as f64 >= opts.min_opening_share * (a_in + w_in) as f64
    };
    let mut segments = Vec::with_capacity(coarse.len() * 2);
    for c in &coarse {
        let mut s = c.start;
        for i in c.start + 1..c.end {
            if cut_before(&ev[i as usize - 1], &ev[i as usize]) {
                segments.push(Segment { start: s, end: i });
                s = i;
            }
        }
        segments.push(Segment {
            start: s,
            end: c.end,
        });
    }
    Segmentation {
        segments,
        start_actions: starts,
        idle_gap_secs,
        pauses,
        from_pauses: learn_from_pauses,
    }
}

/// The start actions: targets of back-edges of the filtered DFG (see the module documentation).
pub fn learn_starts(log: &Log, coarse: &[Segment], opts: &SegmentOptions) -> Vec<u32> {
    let n = log.actions.len();
    let ev = &log.events;
    let mut edges: FxHashMap<(u32, u32), u64> = FxHashMap::default();
    let mut opens = vec![0u64; n];
    for c in coarse {
        opens[ev[c.start as usize].action as usize] += 1;
        for i in c.start + 1..c.end {
            *edges
                .entry((ev[i as usize - 1].action, ev[i as usize].action))
                .or_insert(0) += 1;
        }
    }
    let mut edge_list: Vec<((u32, u32), u64)> = edges.into_iter().collect();
    edge_list.sort_unstable();
    let mut strongest = vec![0u64; n];
    for &((a, _), c) in &edge_list {
        strongest[a as usize] = strongest[a as usize].max(c);
    }
    let mut adj: Vec<Vec<(u64, u32)>> = vec![Vec::new(); n];
    for &((a, b), c) in &edge_list {
        if c as f64 >= opts.min_edge_share * strongest[a as usize] as f64 {
            adj[a as usize].push((c, b));
        }
    }
    for a in &mut adj {
        // Strongest first, then by id: the search follows the main path of a routine before its detours.
        a.sort_unstable_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
    }
    let counts: Vec<u64> = log.actions.iter().map(|a| a.events).collect();
    let mut roots: Vec<u32> = (0..n as u32).collect();
    roots.sort_unstable_by(|&x, &y| {
        opens[y as usize]
            .cmp(&opens[x as usize])
            .then(counts[y as usize].cmp(&counts[x as usize]))
            .then(x.cmp(&y))
    });
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state = vec![0u8; n];
    let mut back_in = vec![0u64; n];
    let mut stack: Vec<(u32, usize)> = Vec::new();
    for &root in &roots {
        if state[root as usize] != 0 {
            continue;
        }
        state[root as usize] = 1;
        stack.push((root, 0));
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&(c, child)) = adj[node as usize].get(*next) {
                *next += 1;
                match state[child as usize] {
                    0 => {
                        state[child as usize] = 1;
                        stack.push((child, 0));
                    }
                    1 => back_in[child as usize] += c,
                    _ => {}
                }
            } else {
                state[node as usize] = 2;
                stack.pop();
            }
        }
    }
    let mut starts: Vec<u32> = (0..n as u32)
        .filter(|&a| {
            let a = a as usize;
            counts[a] > 0
                && (back_in[a] + opens[a]) as f64 > opts.min_start_share * counts[a] as f64
        })
        .collect();
    starts.sort_unstable();
    starts
}

/// Joins segments that are fragments of one routine, given the routines discovered on them.
///
/// Start actions and pause-learned pairs sometimes cut inside instances: an action that opens a
/// routine also recurs inside it (a form with two fields of one kind, a typed run after every
/// click where typing has no element), or a long routine's inner blocks look like cycles of their
/// own. The fragments then come out as routines (or uncovered runs) that follow each other in a
/// fixed order. The log is read as a sequence of *units*: routine instances, and the pieces of
/// segments no instance covers (typed by their sequence of actions); an uncovered unit whose type
/// has no link of its own (by the rule below) is noise and looked through. When units of type
/// A are directly followed by units of type B (no pause longer than the idle gap, no session change)
/// in at least `JOIN_SHARE` of A's occurrences *and* B is directly preceded by A in at least
/// `JOIN_SHARE` of B's, and this happens at least `min_support` times, A and B are one routine cut in
/// two: the segment boundaries between them are removed, and the first unit of such a chain is cut
/// from a segment it shares with units before it. Two task types that merely alternate fail
/// one of the two shares as soon as either type also occurs elsewhere.
///
/// As both shares exceed one half, the joins form chains and cycles of types. A cycle is one routine
/// performed over and over with no cut left at its start (every cut fell inside it). It is opened at
/// the link with the longest median pause when that pause is clearly (1.5 times) longer than every
/// other link's, because people pause longer between instances than between the steps of one, even
/// when no pause is long enough to be an idle gap. Where pauses do not tell (a stream re-timed
/// without them), it is opened before the type that most often begins the log or follows a hard cut:
/// recordings and sessions begin with an instance more often than in the middle of one.
///
/// A routine found several times in a row with uncovered events between each two (a repeated
/// inner block whose field-specific steps differ), in at least `JOIN_SHARE` of its occurrences, is
/// one unit for the links; and where a cycle is opened, what lies between the routine's end and its
/// head goes with the instance before, the head beginning a segment.
///
/// Returns the joined segments, or `None` when nothing is joined.
pub fn join_fragments(
    log: &Log,
    seg: &Segmentation,
    routines: &[crate::routine::Discovered],
    min_support: u64,
) -> Option<Vec<Segment>> {
    const JOIN_SHARE: f64 = 0.8;
    let ev = &log.events;
    if ev.is_empty() || seg.segments.len() < 2 {
        return None;
    }
    let gap_us = (seg.idle_gap_secs * 1e6) as i64;
    let mut spans: Vec<(u32, u32, u64)> = routines
        .iter()
        .enumerate()
        .flat_map(|(r, d)| d.instances.iter().map(move |i| (i.first, i.last, r as u64)))
        .collect();
    spans.sort_unstable();
    let mut seg_start = vec![false; ev.len()];
    for s in &seg.segments {
        seg_start[s.start as usize] = true;
    }
    // Units as (first, last, type), in log order.
    let mut units: Vec<(u32, u32, u64)> = Vec::with_capacity(spans.len() * 2);
    // An uncovered piece's type is the number of its sequence of actions (in order of first
    // appearance) with the top bit set, apart from routines. Numbers rather than hashes of the
    // actions: two pieces never share a type by a collision, and ties between types (where a cycle
    // is opened) are broken the same way whatever the hash function.
    let mut piece_types: FxHashMap<Vec<u32>, u64> = FxHashMap::default();
    let mut uncovered = |from: usize, to: usize, units: &mut Vec<(u32, u32, u64)>| {
        let mut s = from;
        for k in from + 1..=to {
            if k == to || seg_start[k] {
                let actions: Vec<u32> = ev[s..k].iter().map(|e| e.action).collect();
                let next = piece_types.len() as u64;
                let t = *piece_types.entry(actions).or_insert(next);
                units.push((s as u32, k as u32 - 1, t | 1 << 63));
                s = k;
            }
        }
    };
    let mut pos = 0usize;
    for &(a, b, t) in &spans {
        if (a as usize) < pos {
            continue; // overlapping spans do not happen; a defensive skip keeps units in order
        }
        if (a as usize) > pos {
            uncovered(pos, a as usize, &mut units);
        }
        units.push((a, b, t));
        pos = b as usize + 1;
    }
    if pos < ev.len() {
        uncovered(pos, ev.len(), &mut units);
    }
    // How often each type occurs, and how often it opens the log or follows a hard cut: where
    // recordings and sessions begin, instances begin.
    let count = |units: &[(u32, u32, u64)]| {
        let mut occ: FxHashMap<u64, u64> = FxHashMap::default();
        let mut opens: FxHashMap<u64, u64> = FxHashMap::default();
        for (k, u) in units.iter().enumerate() {
            *occ.entry(u.2).or_insert(0) += 1;
            let first = k == 0 || {
                let p = &ev[units[k - 1].1 as usize];
                hard_cut(log, p, &ev[u.0 as usize], gap_us)
            };
            if first {
                *opens.entry(u.2).or_insert(0) += 1;
            }
        }
        (occ, opens)
    };
    // The longest pause from the end of unit `i` to the start of unit `j`, or `None` across a hard cut.
    let pause = |units: &[(u32, u32, u64)], i: usize, j: usize| -> Option<i64> {
        let mut longest = 0;
        for k in units[i].1 as usize + 1..=units[j].0 as usize {
            if hard_cut(log, &ev[k - 1], &ev[k], gap_us) {
                return None;
            }
            longest = longest.max(ev[k].ts - ev[k - 1].ts);
        }
        Some(longest)
    };
    // The qualifying links between consecutive units of `kept`, with their median pause.
    let links_of = |units: &[(u32, u32, u64)],
                    occ: &FxHashMap<u64, u64>,
                    kept: &[usize]|
     -> Vec<((u64, u64), i64)> {
        let mut pairs: FxHashMap<(u64, u64), (u64, Vec<i64>)> = FxHashMap::default();
        for w in kept.windows(2) {
            let (a, b) = (units[w[0]].2, units[w[1]].2);
            if a != b {
                if let Some(gap) = pause(units, w[0], w[1]) {
                    let e = pairs.entry((a, b)).or_default();
                    e.0 += 1;
                    e.1.push(gap);
                }
            }
        }
        let mut links = Vec::new();
        for (&(a, b), (c, gaps)) in pairs.iter_mut() {
            if *c >= min_support.max(2)
                && *c as f64 >= JOIN_SHARE * occ[&a] as f64
                && *c as f64 >= JOIN_SHARE * occ[&b] as f64
            {
                let mid = gaps.len() / 2;
                let (_, &mut m, _) = gaps.select_nth_unstable(mid);
                links.push(((a, b), m));
            }
        }
        links
    };
    // Noise is looked through: an uncovered unit whose type has no link of its own among all units
    // (a stray click, a glance at the mail, a piece that noise made unlike its kind) does not stand
    // between the units on either side of it. Routine instances always count.
    let (occ, _) = count(&units);
    let all: Vec<usize> = (0..units.len()).collect();
    let mut anchored: FxHashMap<u64, ()> = FxHashMap::default();
    for ((a, b), _) in links_of(&units, &occ, &all) {
        anchored.insert(a, ());
        anchored.insert(b, ());
    }
    // A routine's repeated inner block (copy from the mail, paste into the next field, with the
    // fields told apart and the block not) comes out as a routine found several times in a row,
    // each time followed by the steps that differ (uncovered, looked through). When a type occurs
    // in such runs (at least two, with uncovered events between each two and no hard cut) in at
    // least `JOIN_SHARE` of its occurrences, each run is one unit, so that it can join what leads to
    // it and what follows it. Instances of a task performed back to back follow each other
    // directly, and a task that is also performed alone fails the share, so they stay apart.
    let kept0: Vec<usize> = (0..units.len())
        .filter(|&k| units[k].2 >> 63 == 0 || anchored.contains_key(&units[k].2))
        .collect();
    let continues = |i: usize, j: usize| -> bool {
        let (a, b) = (&units[i], &units[j]);
        a.2 == b.2
            && b.2 >> 63 == 0
            && b.0 > a.1 + 1
            && (a.1 as usize + 1..=b.0 as usize).all(|k| !hard_cut(log, &ev[k - 1], &ev[k], gap_us))
    };
    let mut in_runs: FxHashMap<u64, u64> = FxHashMap::default();
    for (x, &k) in kept0.iter().enumerate() {
        let before = x > 0 && continues(kept0[x - 1], k);
        let after = x + 1 < kept0.len() && continues(k, kept0[x + 1]);
        if before || after {
            *in_runs.entry(units[k].2).or_insert(0) += 1;
        }
    }
    let repeats = |t: u64| {
        in_runs
            .get(&t)
            .is_some_and(|&c| c as f64 >= JOIN_SHARE * occ[&t] as f64)
    };
    let mut runs: Vec<(u32, u32, u64)> = Vec::with_capacity(kept0.len());
    let mut is_run: Vec<bool> = Vec::with_capacity(kept0.len());
    for (x, &k) in kept0.iter().enumerate() {
        let u = units[k];
        if x > 0 && repeats(u.2) && continues(kept0[x - 1], k) {
            let last = runs.last_mut().expect("a run has a unit");
            last.1 = u.1;
            *is_run.last_mut().expect("a run has a unit") = true;
            continue;
        }
        runs.push(u);
        is_run.push(false);
    }
    let units = runs;
    let (occ, opens) = count(&units);
    let kept: Vec<usize> = (0..units.len()).collect();
    // With both shares above one half, a type joins at most one successor and one predecessor: the
    // joins form paths and cycles (see above for where a cycle is opened).
    let mut next: FxHashMap<u64, (u64, i64)> = FxHashMap::default();
    let mut links = links_of(&units, &occ, &kept);
    links.sort_unstable();
    for &((a, b), m) in &links {
        next.insert(a, (b, m));
    }
    let mut state: FxHashMap<u64, u8> = FxHashMap::default();
    // The links at which cycles were opened: (end of the routine, its head).
    let mut opened: Vec<(u64, u64)> = Vec::new();
    for &((start, _), _) in &links {
        if state.contains_key(&start) {
            continue;
        }
        let mut path = Vec::new();
        let mut at = start;
        while let Some(&(b, _)) = next.get(&at) {
            if state.contains_key(&at) {
                break;
            }
            state.insert(at, 1);
            path.push(at);
            at = b;
        }
        if state.get(&at) == Some(&1) {
            // `at` closes a cycle: the part of the path from `at` on.
            let from = path.iter().position(|&x| x == at).unwrap_or(0);
            let mut cycle: Vec<(i64, u64, u64)> = path[from..]
                .iter()
                .map(|&x| (next[&x].1, opens.get(&next[&x].0).copied().unwrap_or(0), x))
                .collect();
            cycle.sort_unstable_by(|a, b| b.cmp(a));
            let clear_pause = cycle.len() < 2 || cycle[0].0 as f64 >= 1.5 * cycle[1].0 as f64;
            let cut = if clear_pause {
                cycle[0].2
            } else {
                cycle
                    .iter()
                    .max_by_key(|&&(m, o, x)| (o, m, std::cmp::Reverse(x)))
                    .expect("a cycle has links")
                    .2
            };
            if let Some((head, _)) = next.remove(&cut) {
                opened.push((cut, head));
            }
        }
        for x in path {
            state.insert(x, 2);
        }
    }
    // Joined directly, or through one unit of the chain that noise made unlike its kind (and which
    // was therefore looked through).
    let joined = |a: u64, b: u64| -> bool {
        next.get(&a)
            .is_some_and(|&(n, _)| n == b || (n != a && next.get(&n).is_some_and(|&(m, _)| m == b)))
    };
    let mut remove = vec![false; ev.len()];
    let mut cut = vec![false; ev.len()];
    let mut any = false;
    for (k, w) in kept.windows(2).enumerate() {
        let (a, b) = (&units[w[0]], &units[w[1]]);
        if a.2 != b.2 && joined(a.2, b.2) && pause(&units, w[0], w[1]).is_some() {
            // Inside a run joined to its neighbour, the cuts between its blocks go too.
            let from = if is_run[w[0]] { a.0 } else { a.1 } as usize + 1;
            let to = if is_run[w[1]] { b.1 } else { b.0 } as usize;
            for k in from..=to {
                if seg_start[k] {
                    remove[k] = true;
                    any = true;
                }
            }
            // The head of a chain begins an instance: when it shares its segment with what came
            // before (the first step of a task, left behind a different task's instance), it is cut
            // from it.
            let head = k == 0 || {
                let p = &units[kept[k - 1]];
                !(p.2 != a.2 && joined(p.2, a.2))
            };
            if head && a.0 > 0 && !seg_start[a.0 as usize] {
                cut[a.0 as usize] = true;
                any = true;
            }
        }
    }
    // Where a cycle was opened, an instance ends and the next begins: what lies between the end of
    // one and the head of the next (steps after the last joined fragment, or noise) goes with the
    // instance before it, where discovery tells a trailing step from noise; the head begins a
    // segment.
    for w in kept.windows(2) {
        let (a, b) = (&units[w[0]], &units[w[1]]);
        if opened.contains(&(a.2, b.2)) && pause(&units, w[0], w[1]).is_some() {
            for k in a.1 as usize + 1..b.0 as usize {
                if seg_start[k] {
                    remove[k] = true;
                    any = true;
                }
            }
            if !seg_start[b.0 as usize] {
                cut[b.0 as usize] = true;
                any = true;
            }
        }
    }
    if !any {
        return None;
    }
    let mut out: Vec<Segment> = Vec::with_capacity(seg.segments.len());
    for s in &seg.segments {
        match out.last_mut() {
            Some(last) if last.end == s.start && remove[s.start as usize] => last.end = s.end,
            _ => out.push(*s),
        }
    }
    Some(cut_at(&out, &cut))
}

/// Cuts each segment before every event `cut` marks (a mark on a segment's first event changes
/// nothing): the last step of every repair that splits segments.
fn cut_at(segments: &[Segment], cut: &[bool]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::with_capacity(segments.len() * 2);
    for s in segments {
        let mut start = s.start;
        for i in s.start + 1..s.end {
            if cut[i as usize] {
                out.push(Segment { start, end: i });
                start = i;
            }
        }
        out.push(Segment { start, end: s.end });
    }
    out
}

/// Splits segments that hold two routines performed one after the other.
///
/// Where no cut separates instances of two task types that follow each other (the start of the
/// second type was not learned), their joint segments come out as a *composite* routine whose steps
/// begin (or end) with all the steps of another routine found on its own. The composite's instances
/// are cut where the other routine's steps end (or begin), so that the next round of discovery sees
/// each task type alone. The routine found on its own needs `min_support` instances and at least as
/// many as the composite, and the rest of the composite `min_len` steps: a task that follows another
/// by chance is found alone more often than glued to it, while a fragment of a routine (an instance
/// cut short) is rarer than the routine, which is therefore never split by it.
///
/// Returns the split segments, or `None` when no routine is a composite.
pub fn split_composites(
    log: &Log,
    seg: &Segmentation,
    routines: &[crate::routine::Discovered],
    min_support: u64,
    min_len: usize,
) -> Option<Vec<Segment>> {
    let ev = &log.events;
    let mut cut = vec![false; ev.len()];
    let mut any = false;
    for r in routines {
        let p = &r.steps;
        // The longest other routine that is a prefix or suffix of this one: where to cut in `p`.
        let mut best: Option<(usize, usize)> = None;
        for q in routines {
            let q = &q.steps;
            let alone = routines.iter().find(|x| &x.steps == q).is_some_and(|x| {
                x.instances.len() as u64 >= min_support && x.instances.len() >= r.instances.len()
            });
            if !alone || q.len() < min_len || q.len() + min_len > p.len() {
                continue;
            }
            let at = if p.starts_with(q) {
                q.len()
            } else if p.ends_with(q) {
                p.len() - q.len()
            } else {
                continue;
            };
            if best.is_none_or(|(len, _)| q.len() > len) {
                best = Some((q.len(), at));
            }
        }
        let Some((_, at)) = best else { continue };
        let mut acts: Vec<u32> = Vec::new();
        for inst in &r.instances {
            acts.clear();
            acts.extend(
                ev[inst.first as usize..=inst.last as usize]
                    .iter()
                    .map(|e| e.action),
            );
            // The first embedding of the composite's steps places the cut.
            let mut pos = 0usize;
            let mut found = Vec::with_capacity(p.len());
            for &step in p {
                match acts[pos..].iter().position(|&a| a == step) {
                    Some(k) => {
                        found.push(pos + k);
                        pos += k + 1;
                    }
                    None => break,
                }
            }
            if found.len() == p.len() {
                cut[inst.first as usize + found[at]] = true;
                any = true;
            }
        }
    }
    if !any {
        return None;
    }
    Some(cut_at(&seg.segments, &cut))
}

/// Cuts the routine instances out of segments that hold long runs of events no instance covers.
///
/// Where the start of a task type was never learned, its instances stay inside the segments of
/// the task before them, and a routine found there covers only that task's part: the rest of each
/// segment (one or several instances of the unseen task, back to back) is left uncovered. Cutting
/// at the instances' ends makes those runs segments of their own, in which the next round of
/// discovery finds the unseen task (several instances in one segment are found as several). Only
/// runs of at least `2 × min_len` uncovered events count, and only when they hold
/// [`UNSEEN_SHARE`] of the log's events, so that noise left around instances does not trigger a
/// round.
///
/// Returns the cut segments, or `None` when no segment holds such a run.
pub fn split_at_instances(
    log: &Log,
    seg: &Segmentation,
    routines: &[crate::routine::Discovered],
    min_len: usize,
) -> Option<Vec<Segment>> {
    let n = log.events.len();
    let mut covered = vec![false; n];
    let mut cut = vec![false; n];
    for r in routines {
        for i in &r.instances {
            for c in &mut covered[i.first as usize..=i.last as usize] {
                *c = true;
            }
        }
    }
    let long = 2 * min_len.max(1);
    let mut any = false;
    let mut in_runs = 0usize;
    for s in &seg.segments {
        let (a, b) = (s.start as usize, s.end as usize);
        let mut k = a;
        while k < b {
            if covered[k] {
                k += 1;
                continue;
            }
            let from = k;
            while k < b && !covered[k] {
                k += 1;
            }
            if k - from >= long && (from > a || k < b) {
                in_runs += k - from;
                if from > a {
                    cut[from] = true;
                }
                if k < b {
                    cut[k] = true;
                }
                any = true;
            }
        }
    }
    // A task left unseen is a sizeable part of the log; long runs of noise here and there are not
    // worth a round of mining.
    if !any || (in_runs as f64) < UNSEEN_SHARE * n as f64 {
        return None;
    }
    Some(cut_at(&seg.segments, &cut))
}

/// The share of the log's events that long uncovered runs must hold for [`split_at_instances`] to cut.
pub const UNSEEN_SHARE: f64 = 0.05;
