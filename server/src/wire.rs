//! The wire types of the HTTP API: what a recorder sends, what the server answers, and the error
//! body every route uses. Shared by the request handlers and the uploader ([`crate::client`]), so
//! neither imports the other.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use uilog::Event;

/// What a recorder sends: an id it chose (unique per agent) and the events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    pub batch_id: String,
    pub events: Vec<Event>,
    /// The verifiers of the access codes of the people whose events these are (optional: older
    /// recorders send none, and a batch without any is written as before). The server keeps one
    /// only for a pseudonym that has events in the same batch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access: Vec<PersonVerifier>,
}

/// A person's [`crate::people::verifier`]: what lets them sign in to their own page with the code
/// their recorder printed, without the server learning the code or their name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonVerifier {
    pub pseudonym: String,
    pub verifier: String,
}

/// The answer to an accepted batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub batch_id: String,
    /// `written`, or `duplicate` when a batch with this id was written before.
    pub status: String,
    /// Events written now (0 for a duplicate).
    pub events: u64,
}

/// An error answer: `{"error": "...", "field": "events[3].ts"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: u16,
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>) -> ApiError {
        ApiError {
            status: status.as_u16(),
            error: error.into(),
            field: None,
        }
    }

    pub fn field(
        status: StatusCode,
        field: impl Into<String>,
        error: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status: status.as_u16(),
            error: error.into(),
            field: Some(field.into()),
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::error!("{e}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, Json(&self)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}
