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

use crate::agents::Agent;
use crate::state::{AppState, Limits};
use crate::wire::{Accepted, ApiError, Batch};
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
    body: Body,
) -> Result<Json<Accepted>, ApiError> {
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
    Ok(Json(Accepted {
        batch_id: batch.batch_id,
        status: status.into(),
        events,
    }))
}
