//! Raw text: `GET /raw/{id}` (the text of a one-file paste; the first file of any other),
//! `GET /raw/{id}/{filename}` (one file), `GET /zip/{id}` (every file as a zip), each pinned to
//! a revision by `?rev=N`; `POST /raw/{id}` (reveal a burn-after-reading paste), and `POST /`
//! (create from a raw body, the curl habit). An encrypted paste's raw form is its envelope
//! ([`ENCRYPTED_MEDIA_TYPE`]); one file of it and its zip are refused with `ENCRYPTED` (406).

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

/// The media type of an encrypted paste's raw form: its envelope (docs/encryption.md §6), never
/// presented as the text.
pub const ENCRYPTED_MEDIA_TYPE: &str = "application/vnd.pastebin.encrypted+json";

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

/// The `?rev=N` of a URL pinning a revision (read without copying the query string).
pub struct Rev(Option<i32>);

impl<S: Send + Sync> FromRequestParts<S> for Rev {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(query) = parts.uri.query() else {
            return Ok(Self(None));
        };
        let mut rev = None;
        for pair in query.split('&') {
            if let Some(v) = pair.strip_prefix("rev=") {
                let n: i32 = v
                    .parse()
                    .map_err(|_| AppError::bad_input("rev must be a revision number"))?;
                rev = Some(n);
            }
        }
        Ok(Self(rev))
    }
}

fn not_modified(etag: Bytes) -> Result<Response, AppError> {
    let mut r = StatusCode::NOT_MODIFIED.into_response();
    r.headers_mut().insert(header::ETAG, etag_value(etag)?);
    Ok(r)
}

pub async fn get_raw(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Rev(rev): Rev,
    if_none_match: IfNoneMatch,
) -> Result<Response, AppError> {
    let (paste, content) = match rev {
        None => state.app.pastes().read(&caller, &id).await?,
        Some(_) => {
            let paste = state.app.pastes().read_at(&caller, &id, rev).await?;
            let content = paste.content().cloned().ok_or(AppError::NotFound)?;
            (paste, content)
        }
    };
    if if_none_match.matches(&content.etag) {
        return not_modified(content.etag);
    }
    text_response(&paste, content)
}

/// One file of a paste, by name (its exact name; otherwise the one name that matches without
/// regard to case).
pub async fn get_raw_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
    Rev(rev): Rev,
    if_none_match: IfNoneMatch,
) -> Result<Response, AppError> {
    let paste = state.app.pastes().read_plain_at(&caller, &id, rev).await?;
    let files = paste.files().unwrap_or_default();
    let file = files
        .iter()
        .find(|f| f.name() == name)
        .or_else(|| {
            files
                .iter()
                .find(|f| f.name().to_lowercase() == name.to_lowercase())
        })
        .ok_or(AppError::NotFound)?;
    let content = file.content().cloned().ok_or(AppError::NotFound)?;
    if if_none_match.matches(&content.etag) {
        return not_modified(content.etag);
    }
    let disposition = disposition("inline", file.name())?;
    text_with_disposition(content, disposition)
}

/// Every file of a paste (of a revision) as one zip, in a folder named after the paste. Built
/// in memory on the blocking pool: a paste is at most `PASTEBIN_MAX_BYTES` of text, so the zip
/// is bounded by that (deflated, usually far less).
pub async fn get_zip(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Rev(rev): Rev,
    if_none_match: IfNoneMatch,
) -> Result<Response, AppError> {
    let paste = state.app.pastes().read_plain_at(&caller, &id, rev).await?;
    // Weak: the same revision always gives the same files, not necessarily the same bytes
    // (another zip library version may deflate differently).
    let tag = paste.revision_tag();
    let etag = Bytes::from([b"W/".as_slice(), &tag].concat());
    if if_none_match.matches(&etag) {
        return not_modified(etag);
    }
    let folder = format!("{}-r{}", paste.id(), paste.revision());
    let files: Vec<(String, Bytes)> = paste
        .files()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|f| Some((format!("{folder}/{}", f.name()), f.content()?.text.clone())))
        .collect();
    let zip = tokio::task::spawn_blocking(move || super::archive::zip(files))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    let mut r = Response::new(Body::from(zip));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    h.insert(header::ETAG, etag_value(etag)?);
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        disposition("attachment", &format!("{folder}.zip"))?,
    );
    Ok(r)
}

/// `inline; filename="…"; filename*=UTF-8''…` (RFC 6266): an ASCII fallback and the exact
/// name percent-encoded.
fn disposition(kind: &str, name: &str) -> Result<HeaderValue, AppError> {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .map_err(AppError::internal)
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
    if paste.is_encrypted() {
        let disposition = HeaderValue::from_str(&format!(
            "inline; filename=\"{}.envelope.json\"",
            paste.id()
        ))
        .map_err(AppError::internal)?;
        let mut r = text_with_disposition(content, disposition)?;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(ENCRYPTED_MEDIA_TYPE),
        );
        return Ok(r);
    }
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"{}.txt\"", paste.id()))
        .map_err(AppError::internal)?;
    text_with_disposition(content, disposition)
}

fn text_with_disposition(content: Content, disposition: HeaderValue) -> Result<Response, AppError> {
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
