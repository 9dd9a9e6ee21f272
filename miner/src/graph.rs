//! The task graph: actions as nodes, directly-follows transitions as edges weighted by how often they
//! happen and how long they take. A routine is a path family in it.

use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

use crate::log::Log;
use crate::mining::Routine;
use rustc_hash::FxHashMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionNode {
    pub action: u32,
    pub label: String,
    /// Events of this action in the part of the log the graph covers.
    pub events: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    pub count: u64,
    /// Mean time from one action to the next, in seconds.
    pub mean_s: f64,
}

pub type TaskGraph = DiGraph<ActionNode, Transition>;

/// The graph of the whole log: transitions between consecutive events of a user in one session that
/// are at most `gap_secs` apart.
pub fn whole_log(log: &Log, gap_secs: f64) -> TaskGraph {
    let gap = (gap_secs * 1e6) as i64;
    let ev = &log.events;
    let mut b = Builder::new(log);
    for (i, e) in ev.iter().enumerate() {
        b.node(e.action);
        if i > 0 {
            let p = &ev[i - 1];
            if p.session == e.session && e.ts - p.ts <= gap && !e.after_idle {
                b.edge(p.action, e.action, e.ts - p.ts);
            }
        }
    }
    b.build()
}

/// The graph of one routine: transitions inside its instances.
pub fn of_routine(log: &Log, routine: &Routine) -> TaskGraph {
    let ev = &log.events;
    let mut b = Builder::new(log);
    for inst in &routine.instances {
        let (a, z) = (inst.span.0 as usize, inst.span.1 as usize);
        for i in a..=z {
            b.node(ev[i].action);
            if i > a {
                b.edge(ev[i - 1].action, ev[i].action, ev[i].ts - ev[i - 1].ts);
            }
        }
    }
    b.build()
}

struct Builder<'a> {
    log: &'a Log,
    nodes: Vec<u64>,
    edges: FxHashMap<(u32, u32), (u64, i64)>,
}

impl<'a> Builder<'a> {
    fn new(log: &'a Log) -> Self {
        Builder {
            log,
            nodes: vec![0; log.actions.len()],
            edges: FxHashMap::default(),
        }
    }

    #[inline]
    fn node(&mut self, a: u32) {
        self.nodes[a as usize] += 1;
    }

    #[inline]
    fn edge(&mut self, a: u32, b: u32, dt: i64) {
        let e = self.edges.entry((a, b)).or_insert((0, 0));
        e.0 += 1;
        e.1 += dt;
    }

    /// Nodes in action order and edges sorted by (from, to), so the graph is the same on every run.
    fn build(self) -> TaskGraph {
        let mut g = TaskGraph::new();
        let mut idx = vec![NodeIndex::end(); self.nodes.len()];
        for (a, &n) in self.nodes.iter().enumerate() {
            if n > 0 {
                idx[a] = g.add_node(ActionNode {
                    action: a as u32,
                    label: self.log.actions[a].label(),
                    events: n,
                });
            }
        }
        let mut edges: Vec<_> = self.edges.into_iter().collect();
        edges.sort_unstable_by_key(|&(k, _)| k);
        for ((a, b), (count, sum)) in edges {
            g.add_edge(
                idx[a as usize],
                idx[b as usize],
                Transition {
                    count,
                    mean_s: sum as f64 / count as f64 / 1e6,
                },
            );
        }
        g
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Graphviz DOT. Edge labels give the count and the mean transition time.
pub fn to_dot(g: &TaskGraph) -> String {
    let mut out =
        String::from("digraph taskgraph {\n  rankdir=LR;\n  node [shape=box, fontsize=10];\n");
    for n in g.node_indices() {
        let a = &g[n];
        out.push_str(&format!(
            "  a{} [label=\"{}\\n{} events\"];\n",
            a.action,
            dot_escape(&a.label),
            a.events
        ));
    }
    for e in g.edge_indices() {
        let (s, t) = g.edge_endpoints(e).expect("edge exists");
        let w = &g[e];
        out.push_str(&format!(
            "  a{} -> a{} [label=\"{} × {:.1} s\"];\n",
            g[s].action, g[t].action, w.count, w.mean_s
        ));
    }
    out.push_str("}\n");
    out
}

#[derive(Serialize)]
struct JsonEdge<'a> {
    from: u32,
    to: u32,
    #[serde(flatten)]
    w: &'a Transition,
}

/// JSON: `{"nodes": [{action, label, events}], "edges": [{from, to, count, mean_s}]}`, ids being
/// action ids.
pub fn to_json(g: &TaskGraph) -> serde_json::Value {
    let nodes: Vec<&ActionNode> = g.node_indices().map(|n| &g[n]).collect();
    let edges: Vec<JsonEdge> = g
        .edge_indices()
        .map(|e| {
            let (s, t) = g.edge_endpoints(e).expect("edge exists");
            JsonEdge {
                from: g[s].action,
                to: g[t].action,
                w: &g[e],
            }
        })
        .collect();
    serde_json::json!({ "nodes": nodes, "edges": edges })
}
