//! Raw text: `GET /raw/{id}`, `POST /raw/{id}` (reveal a burn-after-reading paste), and
//! `POST /` (create from a raw body, the curl habit).

use axum::body::{Body, to_bytes};
use axum::extract::{Extension, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::{AppState, Authenticated, ClientIp};
use crate::cache::ratelimit::Budget;
use crate::db::models::PasteMeta;
use crate::error::AppError;
use crate::pastes::{NewPasteInput, Visibility};

/// Raw responses render nothing and run nothing.
const RAW_CSP: &str = "default-src 'none'; sandbox";

/// The `If-None-Match` header alone (extracting the whole `HeaderMap` copies every header).
pub struct IfNoneMatch(Option<HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for IfNoneMatch {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.headers.get(header::IF_NONE_MATCH).cloned()))
    }
}

impl IfNoneMatch {
    fn matches(&self, etag: &[u8]) -> bool {
        self.0
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .any(|t| t.trim().as_bytes() == etag || t.trim() == "*")
            })
    }
}

pub async fn get_raw(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Authenticated(viewer): Authenticated,
    Path(id): Path<String>,
    if_none_match: IfNoneMatch,
) -> Result<Response, AppError> {
    state.app.limits.check_read(ip)?;
    let (loaded, body) = state.app.read_content(&viewer, &id).await?;
    let etag = loaded.etag();
    if if_none_match.matches(&etag) {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        r.headers_mut().insert(header::ETAG, etag_value(etag));
        return Ok(r);
    }
    Ok(text_response(loaded.meta(), etag, body))
}

/// Reading a burn-after-reading paste changes state, so it is a POST: link previewers only GET.
pub async fn reveal_raw(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Authenticated(viewer): Authenticated,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    state.app.limits.check_read(ip)?;
    let paste = state.app.reveal_paste(&viewer, &id).await?;
    Ok(text_response(
        &paste.meta,
        paste.etag.clone(),
        paste.body.clone(),
    ))
}

fn etag_value(etag: Bytes) -> HeaderValue {
    HeaderValue::from_maybe_shared(etag).expect("a quoted hex etag is a valid header value")
}

fn text_response(meta: &PasteMeta, etag: Bytes, body: Bytes) -> Response {
    let mut r = Response::new(Body::from(body));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(RAW_CSP),
    );
    h.insert(header::ETAG, etag_value(etag));
    // Revalidate every time: a paste can be deleted, and private ones are per viewer.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    // The id is base62, so the filename needs no escaping.
    let disposition = format!("inline; filename=\"{}.txt\"", meta.row.id);
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).expect("base62 id"),
    );
    r
}

/// `curl --data-binary @file http://host/`: creates an unlisted paste that never expires and
/// answers its URL. Anonymous pastes get their delete token in `X-Delete-Token`.
pub async fn create_from_body(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    Authenticated(viewer): Authenticated,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let app = &state.app;
    let limit = app.config.max_bytes;
    app.limits
        .check_request(Budget::Create, Some(ip), viewer.user_id())
        .await?;
    let content = read_text(body, &headers, limit).await?;
    let created = app
        .create_paste(
            &viewer,
            NewPasteInput {
                content,
                title: None,
                language: None,
                expires_in: None,
                visibility: Visibility::Unlisted,
                burn_after_reading: false,
                max_views: None,
                idempotency_key: None,
            },
        )
        .await?;
    let url = format!("{}/p/{}", app.config.base_url(), created.paste.meta.row.id);
    let mut r = (StatusCode::CREATED, format!("{url}\n")).into_response();
    let h = r.headers_mut();
    h.insert(
        header::LOCATION,
        HeaderValue::from_str(&url).map_err(AppError::internal)?,
    );
    if let Some(token) = created.delete_token {
        h.insert(
            "x-delete-token",
            HeaderValue::from_str(&token).map_err(AppError::internal)?,
        );
    }
    Ok(r)
}

/// Reads a body of at most `limit` bytes of UTF-8. A declared length over the limit is refused
/// before reading; otherwise reading stops as soon as the limit is passed.
pub(super) async fn read_text(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<String, AppError> {
    let bytes = read_limited(body, headers, limit).await?;
    String::from_utf8(bytes.to_vec())
        .map_err(|_| AppError::bad_input("content must be valid UTF-8 text"))
}

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
