//! `POST /api/v1/events`: batches from remote recorders.
//!
//! A batch is authenticated by its agent's bearer token, parsed with the path of any wrong field,
//! checked against the limits, and handed to the one writer thread, which writes it with
//! [`uilog::Store::write_batch`] keyed by agent and batch id: all or nothing, and a retry is a no-op.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tokio::sync::oneshot;
use uilog::BatchOutcome;

use std::collections::HashSet;

use crate::access::Identity;
use crate::accounts::Role;
use crate::agents::Agent;
use crate::people::{self, Registered};
use crate::state::{AppState, Limits};
use crate::wire::{Accepted, ApiError, Batch, PersonVerifier};
use crate::writer::Job;

/// Parses and checks a batch. Errors name the wrong field the way a reader would write it
/// (`events[3].ts`).
pub fn parse_batch(bytes: &[u8], limits: &Limits) -> Result<Batch, ApiError> {
    let bad = |field: &str, msg: String| ApiError::field(StatusCode::BAD_REQUEST, field, msg);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let batch: Batch = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        bad(&field, e.into_inner().to_string())
    })?;
    de.end()
        .map_err(|e| bad("", format!("trailing data after the batch: {e}")))?;
    if batch.batch_id.is_empty() || batch.batch_id.len() > 200 {
        return Err(bad(
            "batch_id",
            "batch_id must be 1 to 200 characters".into(),
        ));
    }
    if batch.batch_id.chars().any(char::is_control) {
        return Err(bad(
            "batch_id",
            "batch_id must not hold control characters".into(),
        ));
    }
    if batch.events.len() > limits.max_batch_events {
        return Err(ApiError::field(
            StatusCode::PAYLOAD_TOO_LARGE,
            "events",
            format!(
                "a batch may hold at most {} events, this one has {}",
                limits.max_batch_events,
                batch.events.len()
            ),
        ));
    }
    if batch.access.len() > MAX_VERIFIERS {
        return Err(bad(
            "access",
            format!(
                "a batch may carry at most {MAX_VERIFIERS} verifiers, this one has {}",
                batch.access.len()
            ),
        ));
    }
    for (i, v) in batch.access.iter().enumerate() {
        if v.pseudonym.is_empty() || v.pseudonym.len() > 200 {
            return Err(bad(
                &format!("access[{i}].pseudonym"),
                "a pseudonym must be 1 to 200 characters".into(),
            ));
        }
        if !crate::people::is_verifier(&v.verifier) {
            return Err(bad(
                &format!("access[{i}].verifier"),
                "a verifier is 64 lower-case hex digits".into(),
            ));
        }
    }
    for (i, e) in batch.events.iter().enumerate() {
        if e.session.is_empty() {
            return Err(bad(
                &format!("events[{i}].session"),
                "an event needs a session".into(),
            ));
        }
        // One event from the year 292,277 would turn every rate and span of the dashboard into
        // nonsense and break the export → import round trip.
        uilog::check_ts(e.ts).map_err(|m| bad(&format!("events[{i}].ts"), m))?;
    }
    Ok(batch)
}

/// Verifiers one batch may carry: a desktop records one person, now and then a few.
const MAX_VERIFIERS: usize = 16;

/// Keeps the verifiers of the people whose events the batch holds (see [`people::register_verifier`]);
/// one for a pseudonym without events in the batch is ignored, and one that differs from the
/// pseudonym's kept verifier goes into the audit trail. A failure here is logged, not answered:
/// the events are written, and the next batch brings the verifier again.
async fn register_verifiers(
    st: &Arc<AppState>,
    agent: &Agent,
    remote: String,
    access: Vec<PersonVerifier>,
    users: HashSet<String>,
) {
    let wanted: Vec<PersonVerifier> = access
        .into_iter()
        .filter(|v| users.contains(&v.pseudonym))
        .collect();
    if wanted.is_empty() {
        return;
    }
    let name = agent.name.clone();
    let done = st
        .with_db(move |c| {
            let mut outcomes = Vec::new();
            for v in wanted {
                let r = people::register_verifier(c, &v.pseudonym, &v.verifier, &name)?;
                outcomes.push((v.pseudonym, r));
            }
            Ok(outcomes)
        })
        .await;
    let outcomes = match done {
        Ok(o) => o,
        Err(e) => {
            tracing::error!("keeping access-code verifiers: {}", e.error);
            return;
        }
    };
    let actor = Identity {
        name: format!("agent:{}", agent.name),
        role: Role::Viewer,
        csrf: None,
        remote,
    };
    for (pseudonym, r) in outcomes {
        let action = match r {
            Registered::New => "person.verifier",
            Registered::Known => continue,
            Registered::Conflict => {
                tracing::warn!(
                    "agent {} sent another access-code verifier for {}; the first one is kept",
                    agent.name,
                    crate::erasure::person_ref(&pseudonym)
                );
                "person.verifier.conflict"
            }
        };
        st.audit(&actor, action, crate::erasure::person_ref(&pseudonym))
            .await;
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// tower-http's body limit answers an over-long `Content-Length` itself, in plain text; the API
/// documents JSON errors, so such answers are rewritten into the same body as every other error.
pub(crate) async fn json_limit_errors(resp: Response) -> Response {
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is larger than the server accepts",
        )
        .into_response();
    }
    resp
}

fn body_error(e: axum::Error) -> ApiError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is larger than the server accepts",
            );
        }
        source = s.source();
    }
    ApiError::new(
        StatusCode::BAD_REQUEST,
        format!("cannot read the request body: {e}"),
    )
}

pub(crate) async fn post_events(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    req: axum::extract::Request,
) -> Result<Json<Accepted>, ApiError> {
    let remote = crate::access::remote(&req);
    let body: Body = req.into_body();
    let token = bearer(&headers).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing `Authorization: Bearer <token>`",
        )
    })?;
    let agent: Agent = st
        .authenticate(token)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unknown agent token"))?;
    // The body limit layer bounds this (after decompression).
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(body_error)?;
    let limits = st.config().limits.clone();
    let batch = tokio::task::spawn_blocking(move || parse_batch(&bytes, &limits))
        .await
        .map_err(ApiError::internal)??;
    let users: HashSet<String> = if batch.access.is_empty() {
        HashSet::new()
    } else {
        batch.events.iter().map(|e| e.user.clone()).collect()
    };
    let access = batch.access;
    let (reply, answer) = oneshot::channel();
    let job = Job {
        key: format!("agent/{}/{}", agent.id, batch.batch_id),
        origin: format!("agent:{}", agent.name),
        events: batch.events,
        reply,
    };
    st.writer
        .send(job)
        .await
        .map_err(|_| ApiError::internal("the writer thread has stopped"))?;
    let outcome = answer
        .await
        .map_err(|_| ApiError::internal("the writer thread has stopped"))?
        .map_err(ApiError::internal)?;
    let (status, events) = match outcome {
        BatchOutcome::Written { events } => ("written", events),
        BatchOutcome::AlreadyWritten => ("duplicate", 0),
    };
    if !access.is_empty() {
        register_verifiers(&st, &agent, remote, access, users).await;
    }
    Ok(Json(Accepted {
        batch_id: batch.batch_id,
        status: status.into(),
        events,
    }))
}
