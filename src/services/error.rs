//! One error type for the whole service and its deliberate mappings.
//!
//! Every failure a client can see is an [`AppError`]; it maps to one stable code (GraphQL
//! `extensions.code`, set by the GraphQL error extension) and one HTTP status. Internal causes
//! are logged, never sent. The stores' errors map here, each deliberately:
//! - database: no connection, a lost connection, a timeout, a read-only transaction, a
//!   serialization failure → `SERVICE_UNAVAILABLE` (retryable); a missing row → `NOT_FOUND`;
//!   anything else → `INTERNAL_SERVER_ERROR`;
//! - object store: unreachable → `SERVICE_UNAVAILABLE`; an object missing for a row that says
//!   it has one → `INTERNAL_SERVER_ERROR` (the data is inconsistent);
//! - Redis: any failure → `SERVICE_UNAVAILABLE`. Most Redis calls degrade instead of failing
//!   (a skipped cache, a buffered count); this mapping is for the few that cannot (the jobs'
//!   hand-off).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;

use super::blob::BlobError;
use super::cache::redis::RedisUnavailable;
use super::db::{DbFailure, is_timeout_error};

/// The fixed set of error codes clients branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    BadUserInput,
    Unauthenticated,
    Forbidden,
    NotFound,
    /// The write starts from a state that is no longer current (an edit of an older revision).
    Conflict,
    Encrypted,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    InternalServerError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::Encrypted => "ENCRYPTED",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::RateLimited => "RATE_LIMITED",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::InternalServerError => "INTERNAL_SERVER_ERROR",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::BadUserInput => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict => StatusCode::CONFLICT,
            // The paste has no representation such a client can use: only its envelope.
            Self::Encrypted => StatusCode::NOT_ACCEPTABLE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Unauthenticated(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    /// The write starts from a state that is no longer current; the message says which.
    #[error("{0}")]
    Conflict(String),
    /// An envelope of an encrypted paste that breaks the format's rules; `reason` is the
    /// format's code (`UNSUPPORTED_VERSION`, `INVALID_ENVELOPE`, …).
    #[error("{message}")]
    InvalidEnvelope {
        reason: &'static str,
        message: String,
    },
    /// An envelope whose ciphertext is over the size limit (`ENVELOPE_TOO_LARGE`).
    #[error("{0}")]
    EnvelopeTooLarge(String),
    /// A door that serves plain text asked for an end-to-end encrypted paste.
    #[error("{0}")]
    Encrypted(&'static str),
    #[error("content is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// Over a size limit other than the paste's own (the message says which).
    #[error("{0}")]
    TooLarge(String),
    #[error("too many requests; retry in {retry_after} s")]
    RateLimited { retry_after: u64 },
    /// Retryable: no primary (failover, read-only mode), a store is down, or a timeout.
    #[error("{reason}")]
    Unavailable {
        reason: &'static str,
        retry_after: u64,
    },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn bad_input(msg: impl Into<String>) -> Self {
        Self::BadInput(msg.into())
    }

    pub fn unavailable(reason: &'static str) -> Self {
        Self::Unavailable {
            reason,
            retry_after: 2,
        }
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }

    /// The operator's read-only switch is on.
    pub fn read_only() -> Self {
        Self::Unavailable {
            reason: "the service is in read-only mode; writes are paused",
            retry_after: 30,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BadInput(_) | Self::InvalidEnvelope { .. } => ErrorCode::BadUserInput,
            Self::Encrypted(_) => ErrorCode::Encrypted,
            Self::EnvelopeTooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::PayloadTooLarge { .. } | Self::TooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Unavailable { .. } => ErrorCode::ServiceUnavailable,
            Self::Internal(_) => ErrorCode::InternalServerError,
        }
    }

    /// Seconds a client should wait before retrying, for retryable errors.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after } | Self::Unavailable { retry_after, .. } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }

    /// The message a client may see: never an internal cause.
    /// A precise reason beside the code, for errors that have one (refused envelopes).
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Self::InvalidEnvelope { reason, .. } => Some(reason),
            Self::EnvelopeTooLarge(_) => Some("ENVELOPE_TOO_LARGE"),
            _ => None,
        }
    }

    pub fn public_message(&self) -> String {
        self.to_string()
    }

    /// Logs what the client does not see. Called once, where the error leaves the service.
    pub fn log(&self) {
        match self {
            Self::Internal(e) => tracing::error!(error = format!("{e:#}"), "internal error"),
            Self::Unavailable { reason, .. } => tracing::warn!(reason, "service unavailable"),
            _ => {}
        }
    }
}

impl From<DbFailure> for AppError {
    fn from(f: DbFailure) -> Self {
        match f {
            DbFailure::ReadOnlyMode => AppError::read_only(),
            DbFailure::NoConnection | DbFailure::ConnectionLost(_) => {
                AppError::unavailable("the database is unavailable; retry shortly")
            }
            DbFailure::Timeout { .. } => {
                AppError::unavailable("the database did not answer in time")
            }
            DbFailure::Query(DieselError::NotFound) => AppError::NotFound,
            DbFailure::Query(DieselError::DatabaseError(
                DatabaseErrorKind::ReadOnlyTransaction,
                _,
            )) => AppError::unavailable("the database is read-only (failover in progress)"),
            DbFailure::Query(DieselError::DatabaseError(
                DatabaseErrorKind::SerializationFailure,
                _,
            )) => AppError::unavailable("the database is busy; retry"),
            DbFailure::Query(e) if is_timeout_error(&e) => {
                AppError::unavailable("the database did not answer in time")
            }
            DbFailure::Query(e) => AppError::internal(e),
        }
    }
}

impl From<BlobError> for AppError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::NotFound => AppError::internal(e),
            BlobError::NotConfigured | BlobError::Unavailable(_) => {
                tracing::warn!(error = %e, "object store call failed");
                AppError::unavailable("the object store is unavailable; retry shortly")
            }
        }
    }
}

impl From<RedisUnavailable> for AppError {
    fn from(e: RedisUnavailable) -> Self {
        tracing::warn!(error = %e, "redis call failed");
        AppError::unavailable("redis is unavailable; retry shortly")
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let code = self.code();
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.as_str(),
                message: self.public_message(),
                reason: self.reason(),
            },
        };
        let mut response = (code.status(), axum::Json(body)).into_response();
        if let Some(s) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let e = AppError::internal(anyhow::anyhow!("password=hunter2 at db.internal:5432"));
        assert_eq!(e.public_message(), "internal error");
        // async-graphql's conversion keeps the error as its source and Display as message.
        let gql: async_graphql::Error = e.into();
        assert_eq!(gql.message, "internal error");
    }

    #[test]
    fn a_conflict_is_409_with_its_own_code() {
        let e = AppError::Conflict("the paste changed since revision 1".into());
        assert_eq!(e.code().as_str(), "CONFLICT");
        let response = e.into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
    }

    #[test]
    fn retryable_errors_carry_retry_after() {
        let e = AppError::RateLimited { retry_after: 7 };
        assert_eq!(e.code().status(), StatusCode::TOO_MANY_REQUESTS);
        let response = e.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
    }
}
