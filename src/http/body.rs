//! Request bodies read with a limit, shared by `/graphql`, `POST /` and the REST API: a
//! declared length over the limit is refused before anything is read, and reading stops as soon
//! as the limit is passed.

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, header};
use bytes::Bytes;

use crate::error::AppError;

/// At most `limit` bytes of body, or `PAYLOAD_TOO_LARGE`.
pub(super) async fn read_limited(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Bytes, AppError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(AppError::PayloadTooLarge { limit });
    }
    to_bytes(body, limit).await.map_err(|e| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(err) = source {
            if err.is::<http_body_util::LengthLimitError>() {
                return AppError::PayloadTooLarge { limit };
            }
            source = err.source();
        }
        AppError::bad_input("the request body could not be read")
    })
}

/// At most `limit` bytes of UTF-8 text.
pub(super) async fn read_text(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<String, AppError> {
    let bytes = read_limited(body, headers, limit).await?;
    String::from_utf8(bytes.into())
        .map_err(|_| AppError::bad_input("content must be valid UTF-8 text"))
}
