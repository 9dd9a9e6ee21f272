//! Closed sequential patterns with gaps, BIDE-style (Wang & Han, ICDE 2004), over integer items.
//!
//! A pattern is a sequence of items; a sequence *supports* it when the pattern is a subsequence of it
//! (gaps allowed). Support is the summed weight of the supporting sequences (identical segments are
//! mined once, weighted by how often they occur). A pattern is *closed* when no pattern that contains
//! it has the same support.
//!
//! The search grows patterns by appending items (PrefixSpan with pseudo-projection). A grown pattern is
//! reported only when closed, which is checked without keeping earlier results:
//! - no *forward* extension: no item follows the first instance of the pattern in every supporting
//!   sequence;
//! - no *backward* extension: for no `i` does one item occur, in every supporting sequence, between
//!   the end of the first instance of `e1…e(i-1)` and the last-in-last appearance of `e_i` (the
//!   "i-th maximum period").
//!
//! A prefix whose i-th *semi-maximum period* (between the first instance of `e1…e(i-1)` and the
//! last-in-first appearance of `e_i`) holds a common item in every sequence cannot grow into any closed
//! pattern, and its whole subtree is pruned (BackScan).

/// Sequences stored flat: items of sequence `s` are `items[offsets[s]..offsets[s + 1]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeqDb {
    pub items: Vec<u32>,
    pub offsets: Vec<u32>,
    pub weights: Vec<u64>,
}

impl SeqDb {
    pub fn new() -> SeqDb {
        SeqDb {
            items: Vec::new(),
            offsets: vec![0],
            weights: Vec::new(),
        }
    }

    pub fn push(&mut self, seq: &[u32], weight: u64) {
        self.items.extend_from_slice(seq);
        self.offsets.push(self.items.len() as u32);
        self.weights.push(weight);
    }

    pub fn len(&self) -> usize {
        self.weights.len()
    }

    #[inline]
    pub fn seq(&self, s: usize) -> &[u32] {
        &self.items[self.offsets[s] as usize..self.offsets[s + 1] as usize]
    }
}

/// A closed pattern with the sequences that support it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub items: Vec<u32>,
    pub support: u64,
    /// Indices of the supporting sequences, ascending.
    pub seqs: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MineOptions {
    pub min_support: u64,
    pub min_len: usize,
    /// Patterns are not grown beyond this length (a safety valve for pathological logs); a pattern cut
    /// at this length is reported if no forward or backward extension exists *within* the limit.
    pub max_len: usize,
}

/// The work (items scanned) one first item's subtree may take: this many times the items of the
/// database, plus [`BUDGET_BASE`]. Long sequences with noise scattered through them (a 62-step routine
/// with a stray event every tenth step) have closed patterns in the tens of thousands, one for every
/// way of keeping or skipping the noise; the budget stops a subtree's search there, keeping the
/// patterns found, so that time stays linear in the database. Each subtree has its own budget, so
/// the result does not depend on how threads share the work.
pub const BUDGET_PER_ITEM: u64 = 100;
pub const BUDGET_BASE: u64 = 100_000;

/// All closed patterns with support ≥ `min_support` and length in `min_len..=max_len`, sorted by items
/// (within the work budget of [`BUDGET_PER_ITEM`]; far below it on ordinary logs). Discovery
/// wants to know whether the budget stopped the search, so only the tests call this.
#[cfg(test)]
pub fn closed_patterns(db: &SeqDb, opts: &MineOptions) -> Vec<Pattern> {
    closed_patterns_within_budget(db, opts).0
}

/// `closed_patterns`, and whether the search of some first item stopped at the work budget (so
/// that longer patterns may be missing).
pub fn closed_patterns_within_budget(db: &SeqDb, opts: &MineOptions) -> (Vec<Pattern>, bool) {
    let budget = BUDGET_BASE + BUDGET_PER_ITEM * db.items.len() as u64;
    let alphabet = db.items.iter().copied().max().map_or(0, |m| m as usize + 1);
    let new_miner = || Miner {
        db,
        opts: *opts,
        out: Vec::new(),
        stamp: vec![u32::MAX; alphabet],
        count: vec![0; alphabet],
        prefix: Vec::new(),
        first: Vec::new(),
        ends: Vec::new(),
        pstamp: vec![0; alphabet],
        pmarker: 0,
        work: 0,
        budget,
        cut: false,
    };
    let root: Vec<(u32, u32)> = (0..db.len() as u32).map(|s| (s, 0)).collect();
    let frequent = new_miner().frequent_after(&root);
    // The subtrees of the frequent items are independent: the machine's cores take them from a
    // shared counter. The result is sorted afterwards, so it does not depend on who took what.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(frequent.len().max(1));
    let work = || {
        let mut m = new_miner();
        loop {
            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&(item, _)) = frequent.get(k) else {
                break;
            };
            let proj = project(db, &root, item);
            m.work = 0;
            m.prefix.push(item);
            m.grow(&proj);
            m.prefix.pop();
        }
        (m.out, m.cut)
    };
    let parts: Vec<(Vec<Pattern>, bool)> = if threads <= 1 {
        vec![work()]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads).map(|_| scope.spawn(work)).collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a mining thread panicked"))
                .collect()
        })
    };
    let cut = parts.iter().any(|p| p.1);
    let mut out: Vec<Pattern> = parts.into_iter().flat_map(|p| p.0).collect();
    out.sort_by(|a, b| a.items.cmp(&b.items));
    (out, cut)
}

/// For each sequence of `proj`, the position just after the first occurrence of `item` at or after
/// its position, when there is one.
fn project(db: &SeqDb, proj: &[(u32, u32)], item: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(proj.len());
    for &(s, pos) in proj {
        let seq = db.seq(s as usize);
        if let Some(k) = seq[pos as usize..].iter().position(|&x| x == item) {
            out.push((s, pos + k as u32 + 1));
        }
    }
    out
}

struct Miner<'a> {
    db: &'a SeqDb,
    opts: MineOptions,
    out: Vec<Pattern>,
    /// Per item: the last sequence (or period) that counted it, so each counts an item once.
    stamp: Vec<u32>,
    count: Vec<u64>,
    prefix: Vec<u32>,
    /// Scratch: positions of the first instance of the prefix in one sequence.
    first: Vec<u32>,
    /// Scratch: the end of each period in one sequence.
    ends: Vec<u32>,
    /// Per item: the last period that held it (see `pmarker`), for intersecting periods.
    pstamp: Vec<u32>,
    pmarker: u32,
    /// Items scanned in the current first item's subtree, and what it may scan.
    work: u64,
    budget: u64,
    /// Whether a subtree's search stopped at the budget.
    cut: bool,
}

impl Miner<'_> {
    /// Items occurring after the projected positions, with their support, frequent ones only, sorted.
    fn frequent_after(&mut self, proj: &[(u32, u32)]) -> Vec<(u32, u64)> {
        let mut touched: Vec<u32> = Vec::new();
        for (k, &(s, pos)) in proj.iter().enumerate() {
            let w = self.db.weights[s as usize];
            self.work +=
                (self.db.offsets[s as usize + 1] - self.db.offsets[s as usize] - pos) as u64;
            for &x in &self.db.seq(s as usize)[pos as usize..] {
                let xi = x as usize;
                if self.stamp[xi] != k as u32 {
                    if self.count[xi] == 0 {
                        touched.push(x);
                    }
                    self.stamp[xi] = k as u32;
                    self.count[xi] += w;
                }
            }
        }
        let mut out: Vec<(u32, u64)> = touched
            .iter()
            .filter(|&&x| self.count[x as usize] >= self.opts.min_support)
            .map(|&x| (x, self.count[x as usize]))
            .collect();
        for &x in &touched {
            self.count[x as usize] = 0;
            self.stamp[x as usize] = u32::MAX;
        }
        out.sort_unstable();
        out
    }

    fn grow(&mut self, proj: &[(u32, u32)]) {
        let support: u64 = proj.iter().map(|&(s, _)| self.db.weights[s as usize]).sum();
        if self.work > self.budget {
            self.cut = true;
            return;
        }
        if self.backscan_prunes(proj, support) {
            return;
        }
        let at_limit = self.prefix.len() >= self.opts.max_len;
        let frequent = if at_limit {
            Vec::new()
        } else {
            self.frequent_after(proj)
        };
        let forward = if at_limit {
            self.has_forward_extension(proj, support)
        } else {
            frequent.iter().any(|&(_, c)| c == support)
        };
        if !forward
            && self.prefix.len() >= self.opts.min_len
            && !self.has_backward_extension(proj, support)
        {
            self.out.push(Pattern {
                items: self.prefix.clone(),
                support,
                seqs: proj.iter().map(|&(s, _)| s).collect(),
            });
        }
        for (item, _) in frequent {
            let next = project(self.db, proj, item);
            self.prefix.push(item);
            self.grow(&next);
            self.prefix.pop();
        }
    }

    fn has_forward_extension(&mut self, proj: &[(u32, u32)], support: u64) -> bool {
        let saved = self.opts.min_support;
        self.opts.min_support = support;
        let any = !self.frequent_after(proj).is_empty();
        self.opts.min_support = saved;
        any
    }

    /// Fills `self.first` with the first instance of the prefix in `seq` (it exists: `seq` supports it).
    fn first_instance(&mut self, seq: &[u32]) {
        self.first.clear();
        let mut pos = 0usize;
        for &e in &self.prefix {
            let k = pos
                + seq[pos..]
                    .iter()
                    .position(|&x| x == e)
                    .expect("sequence supports the prefix");
            self.first.push(k as u32);
            pos = k + 1;
        }
    }

    /// The end (exclusive) of the i-th period for each i: the last-in-last appearances when
    /// `last_in_last`, the last-in-first ones otherwise. Requires `self.first`.
    fn period_ends(&mut self, seq: &[u32], last_in_last: bool) {
        let n = self.prefix.len();
        self.ends.clear();
        self.ends.resize(n, 0);
        let ends = &mut self.ends;
        let mut bound = if last_in_last {
            seq.len()
        } else {
            self.first[n - 1] as usize + 1
        };
        for i in (0..n).rev() {
            let e = self.prefix[i];
            let k = seq[..bound]
                .iter()
                .rposition(|&x| x == e)
                .expect("appearance exists");
            ends[i] = k as u32;
            bound = k;
        }
    }

    /// Whether, for some i, one item occurs in the i-th period of every supporting sequence.
    ///
    /// The candidates for each i are the items of the first sequence's i-th period, intersected with
    /// each further sequence's; the scan stops as soon as no candidate is left for any i, which for
    /// most prefixes happens after a few sequences.
    fn common_item_in_periods(
        &mut self,
        proj: &[(u32, u32)],
        _support: u64,
        last_in_last: bool,
    ) -> bool {
        let n = self.prefix.len();
        let db = self.db;
        let mut cands: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (k, &(s, _)) in proj.iter().enumerate() {
            let seq = db.seq(s as usize);
            self.first_instance(seq);
            self.period_ends(seq, last_in_last);
            let mut alive = false;
            for i in 0..n {
                if k > 0 && cands[i].is_empty() {
                    continue;
                }
                let start = if i == 0 { 0 } else { self.first[i - 1] + 1 } as usize;
                let period = &seq[start..(self.ends[i] as usize).max(start)];
                if k == 0 {
                    let mut c = period.to_vec();
                    c.sort_unstable();
                    c.dedup();
                    cands[i] = c;
                } else {
                    self.pmarker = self.pmarker.wrapping_add(1);
                    if self.pmarker == 0 {
                        self.pstamp.iter_mut().for_each(|x| *x = 0);
                        self.pmarker = 1;
                    }
                    let marker = self.pmarker;
                    for &x in period {
                        self.pstamp[x as usize] = marker;
                    }
                    let stamp = &self.pstamp;
                    cands[i].retain(|&x| stamp[x as usize] == marker);
                }
                alive |= !cands[i].is_empty();
            }
            if !alive {
                return false;
            }
        }
        true
    }

    fn has_backward_extension(&mut self, proj: &[(u32, u32)], support: u64) -> bool {
        self.common_item_in_periods(proj, support, true)
    }

    fn backscan_prunes(&mut self, proj: &[(u32, u32)], support: u64) -> bool {
        self.common_item_in_periods(proj, support, false)
    }
}

/// The closed patterns by enumeration of every subsequence: exponential, for checking
/// `closed_patterns` on small logs only.
#[cfg(test)]
pub fn brute_force_closed(db: &SeqDb, opts: &MineOptions) -> Vec<Pattern> {
    use std::collections::BTreeMap;
    let mut support: BTreeMap<Vec<u32>, (u64, Vec<u32>)> = BTreeMap::new();
    for s in 0..db.len() {
        let seq = db.seq(s);
        assert!(seq.len() <= 16, "brute force is for small sequences");
        let mut subs: std::collections::BTreeSet<Vec<u32>> = Default::default();
        for mask in 1u32..(1 << seq.len()) {
            let sub: Vec<u32> = (0..seq.len())
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| seq[i])
                .collect();
            if sub.len() <= opts.max_len {
                subs.insert(sub);
            }
        }
        for sub in subs {
            let e = support.entry(sub).or_insert((0, Vec::new()));
            e.0 += db.weights[s];
            e.1.push(s as u32);
        }
    }
    type Entry<'a> = (&'a Vec<u32>, &'a (u64, Vec<u32>));
    let frequent: Vec<Entry> = support
        .iter()
        .filter(|(_, (c, _))| *c >= opts.min_support)
        .collect();
    let is_sub = |a: &[u32], b: &[u32]| {
        let mut it = b.iter();
        a.iter().all(|x| it.any(|y| y == x))
    };
    frequent
        .iter()
        .filter(|(p, (c, _))| {
            p.len() >= opts.min_len
                && !frequent
                    .iter()
                    .any(|(q, (d, _))| q.len() > p.len() && d == c && is_sub(p, q))
        })
        .map(|(p, (c, seqs))| Pattern {
            items: (*p).clone(),
            support: *c,
            seqs: seqs.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn db(seqs: &[&[u32]]) -> SeqDb {
        let mut d = SeqDb::new();
        for s in seqs {
            d.push(s, 1);
        }
        d
    }

    fn opts(min_support: u64) -> MineOptions {
        MineOptions {
            min_support,
            min_len: 1,
            max_len: usize::MAX,
        }
    }

    #[test]
    fn closed_patterns_of_a_small_database() {
        // a b c, a c, a b c, b c: "a b c" (2), "a c" (3), "b c" (3), "c" (4) are closed.
        let d = db(&[&[0, 1, 2], &[0, 2], &[0, 1, 2], &[1, 2]]);
        let got: Vec<(Vec<u32>, u64)> = closed_patterns(&d, &opts(2))
            .into_iter()
            .map(|p| (p.items, p.support))
            .collect();
        assert_eq!(
            got,
            [
                (vec![0, 1, 2], 2),
                (vec![0, 2], 3),
                (vec![1, 2], 3),
                (vec![2], 4)
            ]
        );
    }

    #[test]
    fn a_backward_extension_found_only_with_a_later_instance_is_seen() {
        // "a b" is not closed: "a x b" has the same support, but in the first sequence only through the
        // second b — the case that needs last-in-last appearances.
        let d = db(&[&[0, 1, 9, 1], &[0, 9, 1]]);
        let got: Vec<Vec<u32>> = closed_patterns(&d, &opts(2))
            .into_iter()
            .map(|p| p.items)
            .collect();
        assert_eq!(got, [vec![0, 9, 1]]);
    }

    /// The budget flag: a small database is searched whole; long sequences with scattered noise,
    /// whose closed patterns are too many to enumerate, stop at the budget and say so.
    #[test]
    fn a_search_stopped_at_the_budget_says_so() {
        let (small, cut) = closed_patterns_within_budget(
            &db(&[&[0, 1, 2], &[0, 2], &[0, 1, 2], &[1, 2]]),
            &MineOptions {
                min_support: 2,
                min_len: 1,
                max_len: 64,
            },
        );
        assert!(!cut);
        assert!(!small.is_empty());
        // 14 sequences of a 30-step routine, each with a different step left out: every set of at
        // least 3 of them has its own closed pattern (their common steps), thousands in all.
        let mut d = SeqDb::new();
        for k in 0..14u32 {
            let s: Vec<u32> = (0..30).filter(|&x| x != k * 2).collect();
            d.push(&s, 1);
        }
        let (_, cut) = closed_patterns_within_budget(
            &d,
            &MineOptions {
                min_support: 3,
                min_len: 3,
                max_len: 64,
            },
        );
        assert!(cut);
    }

    #[test]
    fn weights_count_as_repeated_sequences() {
        let mut d = SeqDb::new();
        d.push(&[0, 1], 3);
        d.push(&[0], 2);
        let got = closed_patterns(&d, &opts(3));
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].items.clone(), got[0].support, got[0].seqs.clone()),
            (vec![0], 5, vec![0, 1])
        );
        assert_eq!(
            (got[1].items.clone(), got[1].support, got[1].seqs.clone()),
            (vec![0, 1], 3, vec![0])
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn matches_brute_force(
            seqs in prop::collection::vec(prop::collection::vec(0u32..5, 0..9), 1..7),
            weights in prop::collection::vec(1u64..4, 7),
            min_support in 1u64..6,
            min_len in 1usize..4,
        ) {
            let mut d = SeqDb::new();
            for (s, w) in seqs.iter().zip(&weights) {
                d.push(s, *w);
            }
            let o = MineOptions { min_support, min_len, max_len: usize::MAX };
            let mut want = brute_force_closed(&d, &o);
            want.sort_by(|a, b| a.items.cmp(&b.items));
            prop_assert_eq!(closed_patterns(&d, &o), want);
        }
    }
}
