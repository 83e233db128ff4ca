//! Request bodies read with a limit, shared by `/graphql`, `POST /` and the REST API: a
//! declared length over the limit is refused before anything is read, and reading stops as soon
//! as the limit is passed.
//!
//! A body is read into one buffer sized from its `Content-Length`: never a list of chunks and
//! then a copy of them all, so a large create holds its body once.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use http_body_util::BodyExt;

use crate::error::AppError;

/// At most `limit` bytes of body, or `PAYLOAD_TOO_LARGE`.
pub(super) async fn read_limited(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Vec<u8>, AppError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(AppError::PayloadTooLarge { limit });
    }
    // The declared length is a hint only (it was checked against the limit): the limit is
    // enforced on what arrives.
    let mut out = Vec::with_capacity(declared.unwrap_or(0) as usize);
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(err) = source {
                if err.is::<http_body_util::LengthLimitError>() {
                    return AppError::PayloadTooLarge { limit };
                }
                source = err.source();
            }
            AppError::bad_input("the request body could not be read")
        })?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(AppError::PayloadTooLarge { limit });
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// At most `limit` bytes of UTF-8 text (the body's buffer itself, not a copy).
pub(super) async fn read_text(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<String, AppError> {
    let bytes = read_limited(body, headers, limit).await?;
    String::from_utf8(bytes).map_err(|_| AppError::bad_input("content must be valid UTF-8 text"))
}
