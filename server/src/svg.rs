//! Inline SVG: the task graph in layers, and a duration histogram. No scripts, no external files,
//! so the same markup works in the dashboard and in the self-contained report.

use std::fmt::Write;

use miner::graph::TaskGraph;
use petgraph::visit::EdgeRef;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// A layered drawing: nodes placed in columns by longest path from the sources (after breaking
/// cycles), ordered within a column by the mean position of their predecessors.
pub struct Layout {
    /// Per node index: (column, row).
    pub pos: Vec<(usize, usize)>,
    /// Edges that point backwards after cycle breaking (drawn as arcs).
    pub back: Vec<bool>,
}

/// Lays out `n` nodes with the given edges (from, to). Deterministic.
pub fn layout(n: usize, edges: &[(usize, usize)]) -> Layout {
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut indeg = vec![0usize; n];
    for &(a, b) in edges {
        if a != b {
            out[a].push(b);
            indeg[b] += 1;
        }
    }
    // Depth-first from the sources first, then from anything unvisited: an edge to a node still on
    // the stack closes a cycle and is reversed for layering.
    let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    let mut back_pairs = std::collections::HashSet::new();
    let mut roots: Vec<usize> = (0..n).filter(|&v| indeg[v] == 0).collect();
    roots.extend((0..n).filter(|&v| indeg[v] != 0));
    for root in roots {
        if state[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some(&mut (v, ref mut i)) = stack.last_mut() {
            if *i < out[v].len() {
                let w = out[v][*i];
                *i += 1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => {
                        back_pairs.insert((v, w));
                    }
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    let dag: Vec<(usize, usize)> = edges
        .iter()
        .copied()
        .filter(|&(a, b)| a != b && !back_pairs.contains(&(a, b)))
        .collect();
    // Longest path layering (Kahn's order on the acyclic part).
    let mut layer = vec![0usize; n];
    let mut deg = vec![0usize; n];
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut pred: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in &dag {
        succ[a].push(b);
        pred[b].push(a);
        deg[b] += 1;
    }
    let mut queue: std::collections::VecDeque<usize> = (0..n).filter(|&v| deg[v] == 0).collect();
    while let Some(v) = queue.pop_front() {
        for &w in &succ[v] {
            layer[w] = layer[w].max(layer[v] + 1);
            deg[w] -= 1;
            if deg[w] == 0 {
                queue.push_back(w);
            }
        }
    }
    let layers = layer.iter().copied().max().map_or(0, |m| m + 1);
    let mut cols: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for v in 0..n {
        cols[layer[v]].push(v);
    }
    let mut row = vec![0usize; n];
    for col in &cols {
        for (i, &v) in col.iter().enumerate() {
            row[v] = i;
        }
    }
    // Two barycenter sweeps reduce crossings enough for graphs of a few dozen nodes.
    for _ in 0..2 {
        for col in cols.iter_mut().skip(1) {
            let key = |v: usize| -> f64 {
                if pred[v].is_empty() {
                    row[v] as f64
                } else {
                    pred[v].iter().map(|&p| row[p] as f64).sum::<f64>() / pred[v].len() as f64
                }
            };
            let mut keyed: Vec<(f64, usize)> = col.iter().map(|&v| (key(v), v)).collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            *col = keyed.into_iter().map(|(_, v)| v).collect();
            for (i, &v) in col.iter().enumerate() {
                row[v] = i;
            }
        }
    }
    Layout {
        pos: (0..n).map(|v| (layer[v], row[v])).collect(),
        back: edges
            .iter()
            .map(|&(a, b)| a == b || back_pairs.contains(&(a, b)) || layer[b] <= layer[a])
            .collect(),
    }
}

const NODE_W: usize = 200;
const NODE_H: usize = 44;
const COL_GAP: usize = 70;
const ROW_GAP: usize = 26;
const MARGIN: usize = 20;
const BACK_LIFT: usize = 24;
const BACK_STEP: usize = 14;
const BACK_LEVELS: usize = 6;

/// Draws a task graph. Nodes whose action is in `highlight` (a routine's steps) are marked.
/// Nodes are `<g class="node" data-action="…">`, edges `<path class="edge">`.
pub fn task_graph(g: &TaskGraph, highlight: &[u32]) -> String {
    let nodes: Vec<_> = g.node_indices().collect();
    let index: std::collections::HashMap<_, _> =
        nodes.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let edges: Vec<(usize, usize)> = g
        .edge_references()
        .map(|e| (index[&e.source()], index[&e.target()]))
        .collect();
    let lay = layout(nodes.len(), &edges);
    let cols = lay.pos.iter().map(|p| p.0 + 1).max().unwrap_or(0);
    let rows = lay.pos.iter().map(|p| p.1 + 1).max().unwrap_or(0);
    let width = MARGIN * 2 + cols * NODE_W + cols.saturating_sub(1) * COL_GAP;
    // Back edges arc above the nodes at staggered heights; the drawing leaves room for them.
    let top = if lay.back.iter().any(|&b| b) {
        BACK_LIFT + BACK_STEP * (BACK_LEVELS - 1) + 10
    } else {
        10
    };
    let height = MARGIN * 2 + top + rows * NODE_H + rows.saturating_sub(1) * ROW_GAP;
    let xy = |i: usize| {
        let (c, r) = lay.pos[i];
        (
            MARGIN + c * (NODE_W + COL_GAP),
            MARGIN + top + r * (NODE_H + ROW_GAP),
        )
    };
    let mut back_seen = 0usize;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="task-graph" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="task graph">"#
    );
    s.push_str(r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#667"/></marker></defs>"##);
    let max_count = g.edge_weights().map(|w| w.count).max().unwrap_or(1).max(1) as f64;
    for (k, e) in g.edge_references().enumerate() {
        let (a, b) = (index[&e.source()], index[&e.target()]);
        let (ax, ay) = xy(a);
        let (bx, by) = xy(b);
        let w = e.weight();
        let stroke = 1.0 + 4.0 * (w.count as f64 / max_count);
        let title = format!(
            "{} → {}: {} times, {:.1} s on average",
            g[e.source()].label,
            g[e.target()].label,
            w.count,
            w.mean_s
        );
        let (d, lx, ly) = if lay.back[k] {
            // Backwards or same-column edges arc above the nodes.
            let (sx, sy) = (ax + NODE_W / 2, ay);
            let (tx, ty) = (bx + NODE_W / 2, by);
            let lift = BACK_LIFT + BACK_STEP * (back_seen % BACK_LEVELS);
            back_seen += 1;
            // A cubic's control points overshoot its peak by a third; aim them above the target.
            let peak = MARGIN + top - lift;
            let ctl = peak.saturating_sub(lift / 3).max(1);
            (
                format!("M{sx},{sy} C{sx},{ctl} {tx},{ctl} {tx},{ty}"),
                (sx + tx) / 2,
                peak + 2,
            )
        } else {
            let (sx, sy) = (ax + NODE_W, ay + NODE_H / 2);
            let (tx, ty) = (bx, by + NODE_H / 2);
            let mx = (sx + tx) / 2;
            (
                format!("M{sx},{sy} C{mx},{sy} {mx},{ty} {tx},{ty}"),
                mx,
                (sy + ty) / 2 - 4,
            )
        };
        let _ = write!(
            s,
            r#"<path class="edge{}" d="{d}" stroke-width="{stroke:.1}" marker-end="url(#arrow)"><title>{}</title></path><text class="edge-label" x="{lx}" y="{ly}">{}</text>"#,
            if lay.back[k] { " back" } else { "" },
            esc(&title),
            w.count
        );
    }
    for (i, &n) in nodes.iter().enumerate() {
        let (x, y) = xy(i);
        let a = &g[n];
        let hot = highlight.contains(&a.action);
        let _ = write!(
            s,
            r#"<g class="node{}" data-action="{}"><title>{}</title><rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6"/><text x="{}" y="{}">{}</text><text class="sub" x="{}" y="{}">{} events</text></g>"#,
            if hot { " step" } else { "" },
            a.action,
            esc(&a.label),
            x + 8,
            y + 18,
            esc(&shorten(&a.label, 30)),
            x + 8,
            y + 35,
            a.events
        );
    }
    s.push_str("</svg>");
    s
}

/// A histogram of durations in seconds: `<rect class="bar">` per bin, with axis labels.
pub fn histogram(values_s: &[f64]) -> String {
    let (w, h, m) = (520usize, 200usize, 36usize);
    let mut s = format!(
        r#"<svg class="histogram" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="duration distribution">"#
    );
    if values_s.is_empty() {
        s.push_str(r#"<text x="10" y="20">no instances</text></svg>"#);
        return s;
    }
    let lo = values_s.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values_s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let bins = ((values_s.len() as f64).sqrt().ceil() as usize).clamp(1, 24);
    let width = if hi > lo {
        (hi - lo) / bins as f64
    } else {
        1.0
    };
    let mut counts = vec![0usize; bins];
    for &v in values_s {
        let b = (((v - lo) / width) as usize).min(bins - 1);
        counts[b] += 1;
    }
    let max = counts.iter().copied().max().unwrap_or(1).max(1);
    let plot_w = w - 2 * m;
    let plot_h = h - 2 * m;
    let bar_w = plot_w as f64 / bins as f64;
    for (i, &c) in counts.iter().enumerate() {
        let bh = plot_h as f64 * c as f64 / max as f64;
        let x = m as f64 + i as f64 * bar_w;
        let y = (m + plot_h) as f64 - bh;
        let from = lo + i as f64 * width;
        let _ = write!(
            s,
            r#"<rect class="bar" x="{x:.1}" y="{y:.1}" width="{:.1}" height="{bh:.1}"><title>{from:.1}–{:.1} s: {c} instances</title></rect>"#,
            (bar_w - 2.0).max(1.0),
            from + width
        );
    }
    let base = m + plot_h;
    let _ = write!(
        s,
        r#"<line class="axis" x1="{m}" y1="{base}" x2="{}" y2="{base}"/><text x="{m}" y="{}">{lo:.1} s</text><text x="{}" y="{}" text-anchor="end">{hi:.1} s</text><text x="4" y="{}">{max}</text><text x="{}" y="{}" text-anchor="middle">duration of an instance</text></svg>"#,
        w - m,
        base + 16,
        w - m,
        base + 16,
        m - 4,
        w / 2,
        h - 4
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_is_laid_out_in_consecutive_columns() {
        let l = layout(4, &[(0, 1), (1, 2), (2, 3)]);
        let cols: Vec<usize> = l.pos.iter().map(|p| p.0).collect();
        assert_eq!(cols, vec![0, 1, 2, 3]);
        assert!(l.back.iter().all(|b| !b));
    }

    #[test]
    fn a_cycle_is_broken_and_its_closing_edge_drawn_backwards() {
        let l = layout(3, &[(0, 1), (1, 2), (2, 0)]);
        assert_eq!(l.back, vec![false, false, true]);
        assert_eq!(l.pos[0].0, 0);
        assert_eq!(l.pos[2].0, 2);
    }

    #[test]
    fn a_branch_puts_both_arms_in_one_column_on_different_rows() {
        let l = layout(4, &[(0, 1), (0, 2), (1, 3), (2, 3)]);
        assert_eq!(l.pos[1].0, l.pos[2].0);
        assert_ne!(l.pos[1].1, l.pos[2].1);
        assert_eq!(l.pos[3].0, 2);
    }

    #[test]
    fn histogram_has_one_bar_per_bin_and_counts_every_value() {
        let v: Vec<f64> = (0..100).map(|i| i as f64).collect();
        let svg = histogram(&v);
        assert_eq!(svg.matches(r#"class="bar""#).count(), 10);
        let total: usize = svg
            .split(" instances</title>")
            .filter_map(|p| p.rsplit(": ").next()?.parse::<usize>().ok())
            .sum();
        assert_eq!(total, 100);
    }
}
