//! Raw text: `GET /raw/{id}`, `POST /raw/{id}` (reveal a burn-after-reading paste), and
//! `POST /` (create from a raw body, the curl habit).

use axum::body::Body;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::AppState;
use super::body::read_text;
use super::same_site::NotCrossSite;
use crate::caller::Caller;
use crate::error::AppError;
use crate::pastes::{Content, NewPaste, Paste};

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
    caller: Caller,
    Path(id): Path<String>,
    if_none_match: IfNoneMatch,
) -> Result<Response, AppError> {
    let (paste, content) = state.app.pastes().read(&caller, &id).await?;
    if if_none_match.matches(&content.etag) {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        r.headers_mut()
            .insert(header::ETAG, etag_value(content.etag)?);
        return Ok(r);
    }
    text_response(&paste, content)
}

/// Reading a burn-after-reading paste changes state, so it is a POST: link previewers only GET.
pub async fn reveal_raw(
    State(state): State<AppState>,
    _: NotCrossSite,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let paste = state.app.pastes().reveal(&caller, &id).await?;
    let content = paste
        .content()
        .cloned()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("a revealed paste has content")))?;
    text_response(&paste, content)
}

fn etag_value(etag: Bytes) -> Result<HeaderValue, AppError> {
    HeaderValue::from_maybe_shared(etag).map_err(AppError::internal)
}

fn text_response(paste: &Paste, content: Content) -> Result<Response, AppError> {
    // The id is base62, so the filename needs no escaping.
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"{}.txt\"", paste.id()))
        .map_err(AppError::internal)?;
    let etag = etag_value(content.etag)?;
    let mut r = Response::new(Body::from(content.text));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(RAW_CSP),
    );
    h.insert(header::ETAG, etag);
    // Revalidate every time: a paste can be deleted, and private ones are per viewer.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    h.insert(header::CONTENT_DISPOSITION, disposition);
    Ok(r)
}

/// `curl --data-binary @file http://host/`: creates an unlisted paste that never expires and
/// answers its URL. Anonymous pastes get their delete token in `X-Delete-Token`.
pub async fn create_from_body(
    State(state): State<AppState>,
    _: NotCrossSite,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let app = &state.app;
    let limit = app.config().limits.max_bytes;
    let input = async { Ok(NewPaste::text(read_text(body, &headers, limit).await?)) };
    let created = app.pastes().create_from(&caller, input).await?;
    let url = format!(
        "{}/p/{}",
        app.config().server.base_url(),
        created.paste.id()
    );
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
