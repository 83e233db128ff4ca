//! The seed's REST API, kept for its existing clients:
//! `POST /api/v1/paste` `{"expiration_length_in_minutes": "60", "paste_contents": "..."}` →
//! `{"shortlink": "..."}`; `GET /api/v1/paste?shortlink=X` →
//! `{"paste_contents", "created_at", "expires_at"}`; `GET /api/v1/stats/hits?period=YYYY-MM&shortlink=X`
//! → `{"hits": N}`. Errors are JSON (`{"error": {"code", "message"}}`), 400 for bad input, 404
//! for unknown or expired pastes, and 406 `ENCRYPTED` for an end-to-end encrypted paste (these
//! clients cannot decrypt it; nothing is counted).

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::AppState;
use super::body::read_limited;
use super::same_site::NotCrossSite;
use crate::caller::Caller;
use crate::error::AppError;
use crate::pastes::NewPaste;

/// The text stays raw JSON until it is unescaped once (see `super::json`).
#[derive(Deserialize)]
struct CreateBody<'a> {
    #[serde(borrow)]
    paste_contents: Option<&'a RawValue>,
    expiration_length_in_minutes: Option<Value>,
}

#[derive(Serialize)]
struct Created {
    shortlink: String,
}

pub async fn create_paste(
    State(state): State<AppState>,
    _: NotCrossSite,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let app = &state.app;
    let limit = app.config().limits.max_request_bytes();
    let input = async {
        let bytes = read_limited(body, &headers, limit).await?;
        parse_create(bytes)
    };
    let created = app.pastes().create_from(&caller, input).await?;
    let mut r = (
        StatusCode::OK,
        Json(Created {
            shortlink: created.paste.id().to_owned(),
        }),
    )
        .into_response();
    if let Some(token) = created.delete_token
        && let Ok(v) = token.parse()
    {
        r.headers_mut().insert("x-delete-token", v);
    }
    Ok(r)
}

/// A large text is unescaped in the body's own buffer (held once); a small one is copied out
/// at its exact size, since it may be cached for a while and the buffer is the body's size.
const IN_PLACE_FROM: usize = 64 * 1024;

fn parse_create(bytes: Vec<u8>) -> Result<NewPaste, AppError> {
    let bad_json =
        |e: serde_json::Error| AppError::bad_input(format!("the body must be a JSON object: {e}"));
    let body: CreateBody = serde_json::from_slice(&bytes).map_err(bad_json)?;
    let raw = body
        .paste_contents
        .ok_or_else(|| AppError::bad_input("paste_contents is required"))?;
    let expires_in = match body.expiration_length_in_minutes {
        None | Some(Value::Null) => None,
        Some(v) => Some(minutes(&v)?.checked_mul(60).ok_or_else(bad_minutes)?),
    };
    let content = if raw.get().len() > IN_PLACE_FROM {
        // Where the value is in the body: the raw value borrows from it.
        let start = raw.get().as_ptr() as usize - bytes.as_ptr() as usize;
        let span = start..start + raw.get().len();
        super::json::string_in_place(bytes, span)
    } else {
        super::json::string(raw)
    }
    .map_err(bad_json)?
    .ok_or_else(|| AppError::bad_input("paste_contents must be a string"))?;
    Ok(NewPaste {
        expires_in,
        ..NewPaste::text(content)
    })
}

fn bad_minutes() -> AppError {
    AppError::bad_input("expiration_length_in_minutes must be a whole number of minutes")
}

/// Minutes as a JSON number or a string of digits.
fn minutes(v: &Value) -> Result<i64, AppError> {
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    n.filter(|n| *n > 0).ok_or_else(bad_minutes)
}

#[derive(Deserialize)]
pub struct ShortlinkQuery {
    shortlink: Option<String>,
}

#[derive(Serialize)]
struct PasteBody {
    paste_contents: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
}

pub async fn get_paste(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ShortlinkQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let Query(query) = query.map_err(|_| AppError::bad_input("invalid query string"))?;
    let id = query
        .shortlink
        .ok_or_else(|| AppError::bad_input("shortlink is required"))?;
    // Its clients cannot decrypt: an encrypted paste is refused (ENCRYPTED, 406) before any
    // view is counted.
    let paste = state.app.pastes().read_plain_at(&caller, &id, None).await?;
    let content = paste
        .content()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("an opened paste has content")))?;
    let paste_contents = String::from_utf8(content.text.to_vec()).map_err(AppError::internal)?;
    Ok(Json(PasteBody {
        paste_contents,
        created_at: paste.created_at(),
        expires_at: paste.expires_at(),
    })
    .into_response())
}

#[derive(Deserialize)]
pub struct HitsQuery {
    shortlink: Option<String>,
    period: Option<String>,
}

#[derive(Serialize)]
struct Hits {
    hits: i64,
}

pub async fn hits(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<HitsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let Query(query) = query.map_err(|_| AppError::bad_input("invalid query string"))?;
    let id = query
        .shortlink
        .ok_or_else(|| AppError::bad_input("shortlink is required"))?;
    let period = query
        .period
        .ok_or_else(|| AppError::bad_input("period is required (YYYY-MM)"))?;
    let hits = state
        .app
        .view_stats()
        .monthly_hits(&caller, &id, &period)
        .await?;
    Ok(Json(Hits { hits }).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_accept_numbers_and_digit_strings_only() {
        assert_eq!(minutes(&serde_json::json!("60")).unwrap(), 60);
        assert_eq!(minutes(&serde_json::json!(60)).unwrap(), 60);
        assert!(minutes(&serde_json::json!("sixty")).is_err());
        assert!(minutes(&serde_json::json!(-5)).is_err());
        assert!(minutes(&serde_json::json!(1.5)).is_err());
        assert!(minutes(&serde_json::json!([1])).is_err());
    }
}
