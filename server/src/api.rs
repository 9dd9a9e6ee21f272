//! The read API (JSON) and its OpenAPI document. Routes are declared once, in [`routes`], with the
//! method and path the document must describe; a test checks the two agree.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use crate::analysis::routine_name;
use crate::ingest;
use crate::state::AppState;
use crate::views;
use crate::wire::ApiError;

type St = State<Arc<AppState>>;

/// Every API route: (method, path as OpenAPI writes it, handler).
pub(crate) fn routes() -> Vec<(&'static str, &'static str, MethodRouter<Arc<AppState>>)> {
    vec![
        ("post", "/api/v1/events", post(ingest::post_events)),
        ("get", "/api/v1/summary", get(summary)),
        ("get", "/api/v1/status", get(status)),
        ("get", "/api/v1/routines", get(routines)),
        ("get", "/api/v1/routines/{id}", get(routine)),
        ("get", "/api/v1/routines/{id}/graph", get(routine_graph)),
        ("get", "/api/v1/candidates", get(candidates)),
        ("get", "/api/v1/graph", get(graph)),
        ("get", "/api/v1/bots", get(bots)),
        ("get", "/api/v1/bots/{id}", get(bot_yaml)),
        ("get", "/api/v1/replays", get(replays)),
        ("get", "/api/v1/audit", get(audit)),
        ("get", "/api/v1/openapi.json", get(openapi_json)),
    ]
}

/// The (method, path) pairs the API serves.
pub fn api_routes() -> Vec<(&'static str, &'static str)> {
    routes().into_iter().map(|(m, p, _)| (m, p)).collect()
}

async fn summary(State(st): St) -> Result<Json<Value>, ApiError> {
    let a = st.analysis().await?;
    Ok(Json(json!({
        "overview": a.overview(),
        "stats": a.stats,
        "mining": a.mining.summary,
        "privacy": { "k": a.privacy.k, "source": a.privacy.source, "withheld": a.mining.withheld },
    })))
}

/// The mining job: what the served result is and where it came from, and what the job did since
/// the server started. Answers at once, also while the first result is being computed.
async fn status(State(st): St) -> Json<Value> {
    use std::sync::atomic::Ordering::Relaxed;
    let latest = st.latest().map(|a| {
        json!({
            "computed_at": uilog::format_ts(a.computed_at),
            "origin": a.origin,
            "run": a.run,
            "log_version": [a.version.0, a.version.1],
        })
    });
    Json(json!({
        "result": latest,
        "running": st.job.running.load(Relaxed),
        "mined": st.job.mined.load(Relaxed),
        "read_from_store": st.job.stored.load(Relaxed),
    }))
}

#[derive(Serialize)]
struct RoutineBrief<'a> {
    id: u32,
    name: String,
    labels: &'a [String],
    support: u64,
    score: &'a miner::Score,
}

async fn routines(State(st): St) -> Result<Json<Value>, ApiError> {
    let a = st.analysis().await?;
    let list: Vec<RoutineBrief> = a
        .mining
        .routines
        .iter()
        .map(|r| RoutineBrief {
            id: r.id,
            name: routine_name(&a, r),
            labels: &r.labels,
            support: r.support,
            score: &r.score,
        })
        .collect();
    Ok(Json(json!({ "routines": list })))
}

async fn routine(State(st): St, Path(id): Path<u32>) -> Result<Json<Value>, ApiError> {
    let a = st.analysis().await?;
    let r = a.routine(id).ok_or_else(|| views::not_found(id))?;
    let label = |s: u32| a.mining.actions.get(s as usize).map(|x| x.label());
    let variants: Vec<Value> = r
        .variants
        .iter()
        .map(|v| json!({ "count": v.count, "steps": v.steps, "labels": v.steps.iter().map(|&s| label(s)).collect::<Vec<_>>() }))
        .collect();
    Ok(Json(json!({
        "id": r.id,
        "name": routine_name(&a, r),
        "steps": r.steps,
        "labels": r.labels,
        "support": r.support,
        "score": r.score,
        "variants": variants,
        "users": r.users,
        "data_flows": r.data_flows,
        "instances": r.instances,
    })))
}

async fn routine_graph(State(st): St, Path(id): Path<u32>) -> Result<Json<Value>, ApiError> {
    let a = st.analysis().await?;
    let r = a.routine(id).ok_or_else(|| views::not_found(id))?;
    Ok(Json(miner::graph::to_json(&a.routine_graph(r))))
}

async fn candidates(State(st): St) -> Result<Json<Value>, ApiError> {
    let a = st.analysis().await?;
    let list: Vec<Value> = a
        .candidates()
        .enumerate()
        .map(|(i, r)| {
            json!({
                "rank": i + 1,
                "routine": r.id,
                "name": routine_name(&a, r),
                "labels": r.labels,
                "hours_saved_per_month": r.score.hours_saved_per_month,
                "evidence": {
                    "score": r.score,
                    "users": r.users,
                    "data_flows": r.data_flows,
                    "variants": r.variants.len(),
                    "instances": r.instances.iter().take(10).collect::<Vec<_>>(),
                },
            })
        })
        .collect();
    Ok(Json(json!({ "k": a.privacy.k, "candidates": list })))
}

async fn graph(State(st): St) -> Result<Json<Value>, ApiError> {
    let a = st.analysis().await?;
    Ok(Json(miner::graph::to_json(&a.graph)))
}

async fn bots(State(st): St) -> Result<Json<Value>, ApiError> {
    let a = st.analysis().await?;
    Ok(Json(json!({ "bots": a.bots })))
}

async fn bot_yaml(State(st): St, Path(id): Path<u32>) -> Result<Response, ApiError> {
    let a = st.analysis().await?;
    let b = a
        .bot(id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no bot for routine {id}")))?;
    Ok((
        [(header::CONTENT_TYPE, "application/yaml; charset=utf-8")],
        b.yaml.clone(),
    )
        .into_response())
}

async fn replays(State(st): St) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "replays": st.replays().await? })))
}

#[derive(serde::Deserialize)]
struct AuditQuery {
    #[serde(default = "default_audit_limit")]
    limit: usize,
}

fn default_audit_limit() -> usize {
    1000
}

async fn audit(
    State(st): St,
    axum::extract::Query(q): axum::extract::Query<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    let entries = st.with_db(move |c| crate::audit::list(c, q.limit)).await?;
    Ok(Json(json!({ "entries": entries })))
}

async fn openapi_json() -> Json<Value> {
    Json(openapi())
}

fn ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn error_response(description: &str) -> Value {
    ok(description, json!({ "$ref": "#/components/schemas/Error" }))
}

fn id_param() -> Value {
    json!([{ "name": "id", "in": "path", "required": true, "description": "The routine's rank (1 = most hours saved).", "schema": { "type": "integer", "minimum": 1 } }])
}

/// The OpenAPI 3.1 document of the API.
pub fn openapi() -> Value {
    let obj = |props: Value| json!({ "type": "object", "properties": props });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "taskmine server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Ingest for remote recorders and read access to the mining results. Ingest takes an agent's token (`taskmine agent add`) and nothing else; every read takes an account's API token (`taskmine user token NAME`) whose role allows it: viewer for aggregates, analyst for a routine's details, bots and replays, admin for the audit trail."
        },
        "security": [{ "userToken": [] }],
        "components": {
            "securitySchemes": {
                "agentToken": { "type": "http", "scheme": "bearer", "description": "An agent's ingest token; accepted by POST /api/v1/events only." },
                "userToken": { "type": "http", "scheme": "bearer", "description": "An account's API token; the account's role decides what it reads." }
            },
            "schemas": {
                "Error": obj(json!({ "error": { "type": "string" }, "field": { "type": "string", "description": "The wrong field, as a path: events[3].ts" } })),
                "Event": {
                    "type": "object",
                    "required": ["session", "user", "ts", "kind"],
                    "properties": {
                        "session": { "type": "string" }, "user": { "type": "string" }, "host": { "type": "string" },
                        "ts": { "type": "integer", "description": "UTC microseconds since the Unix epoch" },
                        "kind": { "type": "string", "enum": uilog::EventKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>() },
                        "app": { "type": "string" }, "window": { "type": "string" },
                        "element": obj(json!({ "role": { "type": "string" }, "name": { "type": "string" }, "id": { "type": "string" } })),
                        "x": { "type": "integer" }, "y": { "type": "integer" }, "wx": { "type": "integer" }, "wy": { "type": "integer" },
                        "text": { "type": "string" }, "value_hash": { "type": "string", "pattern": "^[0-9a-f]{16}$" },
                        "case": { "type": "string" },
                        "attrs": { "type": "object", "additionalProperties": { "type": "string" } }
                    }
                },
                "Batch": {
                    "type": "object", "required": ["batch_id", "events"], "additionalProperties": false,
                    "properties": {
                        "batch_id": { "type": "string", "minLength": 1, "maxLength": 200, "description": "Chosen by the agent; a batch id already written is not written again." },
                        "events": { "type": "array", "items": { "$ref": "#/components/schemas/Event" } },
                        "access": {
                            "type": "array", "maxItems": 16,
                            "description": "Optional: verifiers of the access codes of the people whose events these are (`taskmine record --access-code`); kept only for a pseudonym with events in this batch.",
                            "items": obj(json!({ "pseudonym": { "type": "string", "minLength": 1, "maxLength": 200 }, "verifier": { "type": "string", "pattern": "^[0-9a-f]{64}$" } }))
                        }
                    }
                },
                "Accepted": obj(json!({ "batch_id": { "type": "string" }, "status": { "type": "string", "enum": ["written", "duplicate"] }, "events": { "type": "integer" } })),
                "Graph": obj(json!({
                    "nodes": { "type": "array", "items": obj(json!({ "action": { "type": "integer" }, "label": { "type": "string" }, "events": { "type": "integer" } })) },
                    "edges": { "type": "array", "items": obj(json!({ "from": { "type": "integer" }, "to": { "type": "integer" }, "count": { "type": "integer" }, "mean_s": { "type": "number" } })) }
                }))
            }
        },
        "paths": {
            "/api/v1/events": { "post": {
                "summary": "Send a batch of events (JSON, optionally Content-Encoding: gzip).",
                "security": [{ "agentToken": [] }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Batch" } } } },
                "responses": {
                    "200": ok("Written, or a duplicate of a batch written before.", json!({ "$ref": "#/components/schemas/Accepted" })),
                    "400": error_response("Malformed batch; `field` names the wrong field. Nothing is stored."),
                    "401": error_response("Missing or unknown agent token."),
                    "413": error_response("Body or batch larger than the server's limits. Nothing is stored.")
                }
            } },
            "/api/v1/summary": { "get": {
                "summary": "Events, users, apps, time span, and the hours a month the top candidates would save.",
                "responses": { "200": ok("The summary.", json!({ "type": "object" })) }
            } },
            "/api/v1/status": { "get": {
                "summary": "The mining job: the served result (when computed, whether mined or read back from the stored run, the log version) and how many results it mined or read back since the server started.",
                "responses": { "200": ok("The job's state.", obj(json!({
                    "result": { "type": ["object", "null"] }, "running": { "type": "boolean" },
                    "mined": { "type": "integer" }, "read_from_store": { "type": "integer" }
                }))) }
            } },
            "/api/v1/routines": { "get": {
                "summary": "The routines, ranked by hours saved a month, with their scores.",
                "responses": { "200": ok("The routines.", obj(json!({ "routines": { "type": "array", "items": { "type": "object" } } }))) }
            } },
            "/api/v1/routines/{id}": { "get": {
                "summary": "One routine: steps, variants, users, data flows and instances.",
                "parameters": id_param(),
                "responses": { "200": ok("The routine.", json!({ "type": "object" })), "404": error_response("No such routine.") }
            } },
            "/api/v1/routines/{id}/graph": { "get": {
                "summary": "The part of the task graph the routine's instances walk through.",
                "parameters": id_param(),
                "responses": { "200": ok("The graph.", json!({ "$ref": "#/components/schemas/Graph" })), "404": error_response("No such routine.") }
            } },
            "/api/v1/candidates": { "get": {
                "summary": "Automation candidates, best first, with their evidence.",
                "responses": { "200": ok("The candidates.", obj(json!({ "k": { "type": "integer" }, "candidates": { "type": "array", "items": { "type": "object" } } }))) }
            } },
            "/api/v1/graph": { "get": {
                "summary": "The task graph of the whole log.",
                "responses": { "200": ok("The graph.", json!({ "$ref": "#/components/schemas/Graph" })) }
            } },
            "/api/v1/bots": { "get": {
                "summary": "Bot drafts for the routines (taskmine/v1), as YAML strings with their routine.",
                "responses": { "200": ok("The drafts.", obj(json!({ "bots": { "type": "array", "items": obj(json!({ "routine": { "type": "integer" }, "name": { "type": "string" }, "steps": { "type": "integer" }, "inputs": { "type": "integer" }, "yaml": { "type": "string" } })) } }))) }
            } },
            "/api/v1/bots/{id}": { "get": {
                "summary": "The bot draft of a routine, as its YAML file.",
                "parameters": id_param(),
                "responses": {
                    "200": { "description": "The bot file.", "content": { "application/yaml": { "schema": { "type": "string" } } } },
                    "404": error_response("No bot for that routine.")
                }
            } },
            "/api/v1/replays": { "get": {
                "summary": "Replay reports (`taskmine replay`) found under the server's bots directory.",
                "responses": { "200": ok("The reports.", obj(json!({ "replays": { "type": "array", "items": obj(json!({
                    "file": { "type": "string" }, "bot": { "type": "string" }, "routine": { "type": "integer" },
                    "passed": { "type": "boolean" }, "runs": { "type": "integer" }, "runs_passed": { "type": "integer" },
                    "error": { "type": ["string", "null"] }, "report": { "type": "object" }
                })) } }))) }
            } },
            "/api/v1/audit": { "get": {
                "summary": "The audit trail, newest first (admins only).",
                "parameters": [{ "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0, "default": 1000 } }],
                "responses": {
                    "200": ok("The entries.", obj(json!({ "entries": { "type": "array", "items": obj(json!({
                        "id": { "type": "integer" }, "ts": { "type": "integer", "description": "UTC microseconds" },
                        "actor": { "type": "string" }, "action": { "type": "string" }, "detail": { "type": "string" }, "remote": { "type": "string" }
                    })) } }))),
                    "401": error_response("No or unknown API token."),
                    "403": error_response("The account is not an admin.")
                }
            } },
            "/api/v1/openapi.json": { "get": {
                "summary": "This document.",
                "security": [],
                "responses": { "200": ok("OpenAPI 3.1.", json!({ "type": "object" })) }
            } }
        }
    })
}
