//! What the pages show, as plain serializable values: the dashboard and the report render the same
//! views through the same templates.

use miner::graph::TaskGraph;
use miner::Routine;
use serde::Serialize;

use crate::analysis::{durations_s, routine_name, Analysis, Overview};
use crate::svg;
use crate::wire::ApiError;

#[derive(Debug, Clone, Serialize)]
pub struct CandidateRow {
    pub rank: usize,
    pub id: u32,
    pub name: String,
    pub steps: usize,
    pub instances: u64,
    pub instances_per_week: f64,
    pub median_duration_s: f64,
    pub p90_duration_s: f64,
    pub variants: u64,
    pub standardization: f64,
    pub standardization_pct: f64,
    pub users: u64,
    pub automatability: f64,
    pub automatability_pct: f64,
    pub hours_saved_per_month: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    pub label: String,
    /// False for a step the routine's pattern does not have (an extra or changed step).
    pub in_pattern: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct VariantView {
    pub number: usize,
    pub count: u64,
    pub share: f64,
    pub share_pct: f64,
    pub steps: Vec<StepView>,
    /// Steps this variant has that the pattern lacks.
    pub extra: Vec<String>,
    /// Steps of the pattern this variant skips.
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FlowView {
    pub from: String,
    pub to: String,
    pub via: String,
    pub instances: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct InstanceView {
    pub user: String,
    pub session: String,
    pub start: String,
    pub duration_s: f64,
    pub events: u32,
    pub variant: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoutineView {
    pub row: CandidateRow,
    pub labels: Vec<String>,
    pub variants: Vec<VariantView>,
    pub users: Vec<miner::UserCount>,
    pub data_flows: Vec<FlowView>,
    /// The first instances, as evidence; `instances_total` says how many there are.
    pub instances: Vec<InstanceView>,
    pub instances_total: usize,
    /// Variants not listed.
    pub variants_more: usize,
    pub graph_svg: String,
    pub histogram_svg: String,
    pub bot: Option<crate::analysis::BotDraft>,
}

/// Instances listed per routine; the rest are counted.
const INSTANCES_SHOWN: usize = 20;
/// Variants listed per routine, most frequent first.
const VARIANTS_SHOWN: usize = 10;
/// Nodes drawn in a routine's part of the task graph, most frequent first.
const GRAPH_NODES: usize = 30;

pub fn candidate_row(a: &Analysis, rank: usize, r: &Routine) -> CandidateRow {
    let s = &r.score;
    CandidateRow {
        rank,
        id: r.id,
        name: routine_name(a, r),
        steps: r.steps.len(),
        instances: s.instances,
        instances_per_week: s.instances_per_week,
        median_duration_s: s.median_duration_s,
        p90_duration_s: s.p90_duration_s,
        variants: s.variants,
        standardization: s.standardization,
        standardization_pct: s.standardization * 100.0,
        users: s.users,
        automatability: s.automatability,
        automatability_pct: s.automatability * 100.0,
        hours_saved_per_month: s.hours_saved_per_month,
    }
}

pub fn candidates(a: &Analysis) -> Vec<CandidateRow> {
    a.candidates()
        .enumerate()
        .map(|(i, r)| candidate_row(a, i + 1, r))
        .collect()
}

/// The routine's part of the task graph with the rare detours left out: steps of the pattern, and
/// other actions seen in at least a fifth of the instances; transitions seen in a tenth of them.
pub fn routine_part(a: &Analysis, r: &Routine) -> TaskGraph {
    let g = a.routine_graph(r);
    let n = r.instances.len() as u64;
    let node_min = (n / 5).max(2);
    let mut ranked: Vec<_> = g
        .node_indices()
        .filter(|&i| r.steps.contains(&g[i].action) || g[i].events >= node_min)
        .collect();
    ranked.sort_by_key(|&i| {
        (
            !r.steps.contains(&g[i].action),
            std::cmp::Reverse(g[i].events),
        )
    });
    ranked.truncate(GRAPH_NODES);
    let edge_min = (n / 10).max(1);
    g.filter_map(
        |i, w| ranked.contains(&i).then(|| w.clone()),
        |_, w| (w.count >= edge_min).then(|| w.clone()),
    )
}

pub fn routine(a: &Analysis, r: &Routine) -> RoutineView {
    let rank = a
        .candidates()
        .position(|c| c.id == r.id)
        .map_or(0, |p| p + 1);
    let label = |id: u32| {
        a.mining
            .actions
            .get(id as usize)
            .map_or_else(|| format!("action {id}"), |x| x.label())
    };
    let total: u64 = r.variants.iter().map(|v| v.count).sum::<u64>().max(1);
    let variants = r
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| VariantView {
            number: i + 1,
            count: v.count,
            share: v.count as f64 / total as f64,
            share_pct: 100.0 * v.count as f64 / total as f64,
            steps: v
                .steps
                .iter()
                .map(|&s| StepView {
                    label: label(s),
                    in_pattern: r.steps.contains(&s),
                })
                .collect(),
            extra: v
                .steps
                .iter()
                .filter(|s| !r.steps.contains(s))
                .map(|&s| label(s))
                .collect(),
            missing: r
                .steps
                .iter()
                .filter(|s| !v.steps.contains(s))
                .map(|&s| label(s))
                .collect(),
        })
        .take(VARIANTS_SHOWN)
        .collect();
    let data_flows = r
        .data_flows
        .iter()
        .map(|f| FlowView {
            from: label(f.from),
            to: label(f.to),
            via: f.via.clone(),
            instances: f.instances,
        })
        .collect();
    let instances = r
        .instances
        .iter()
        .take(INSTANCES_SHOWN)
        .map(|i| InstanceView {
            user: i.user.clone(),
            session: i.session.clone(),
            start: uilog::format_ts(i.start_ts),
            duration_s: (i.end_ts - i.start_ts) as f64 / 1e6,
            events: i.events,
            variant: i.variant + 1,
        })
        .collect();
    RoutineView {
        row: candidate_row(a, rank, r),
        labels: r.labels.clone(),
        variants,
        users: r.users.clone(),
        data_flows,
        instances,
        instances_total: r.instances.len(),
        variants_more: r.variants.len().saturating_sub(VARIANTS_SHOWN),
        graph_svg: svg::task_graph(&routine_part(a, r), &r.steps),
        histogram_svg: svg::histogram(&durations_s(r)),
        bot: a.bot(r.id).cloned(),
    }
}

/// Everything a page may show, as a template context.
pub fn context(a: &Analysis, routine_href: &str) -> tera::Context {
    let mut ctx = tera::Context::new();
    let overview: Overview = a.overview();
    ctx.insert("overview", &overview);
    ctx.insert("candidates", &candidates(a));
    ctx.insert("privacy", &a.privacy);
    ctx.insert("routine_href", routine_href);
    ctx.insert("computed_at", &uilog::format_ts(a.computed_at));
    ctx
}

/// A routine that is not in the result (or was withheld): the same 404 for pages and the API.
pub(crate) fn not_found(id: u32) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        format!("no routine {id}"),
    )
}

/// The dashboard's page for a routine, with the same 404 as the API.
pub(crate) fn routine_view(a: &Analysis, id: u32) -> Result<RoutineView, ApiError> {
    let r = a.routine(id).ok_or_else(|| not_found(id))?;
    Ok(routine(a, r))
}
