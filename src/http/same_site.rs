//! Cross-site writes from a visitor's browser are refused: a page on another site must not be
//! able to make the visitor's browser create, delete or reveal pastes here. Browsers say where a
//! request comes from (`Sec-Fetch-Site`, `Origin`); tools like curl send neither and are not
//! affected, whatever their content type (`curl --data-binary @file /` sends a form type).
//!
//! Allowed: no `Sec-Fetch-Site` and no `Origin` (not a browser, or a top-level navigation of an
//! old browser); `Sec-Fetch-Site: same-origin` or `none` (the user typed it); an `Origin` whose
//! host is this request's `Host`; an `Origin` listed in `PASTEBIN_CORS_ORIGINS`. Refused with
//! 403 `FORBIDDEN`: everything else (`cross-site` and `same-site` from an unlisted origin, an
//! `Origin` of `null`).

use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, header, request::Parts};

use super::AppState;
use crate::error::AppError;

/// An extractor that refuses a cross-site browser request. Put it in the parameters of every
/// handler that changes state (and of the WebSocket upgrade).
pub struct NotCrossSite;

impl FromRequestParts<AppState> for NotCrossSite {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if allowed(&parts.headers, &state.allowed_origins) {
            Ok(Self)
        } else {
            Err(AppError::Forbidden(
                "cross-site requests from a browser are refused",
            ))
        }
    }
}

fn allowed(headers: &HeaderMap, allowed_origins: &[String]) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let origin = text(header::ORIGIN.as_str());
    let listed = origin.is_some_and(|o| allowed_origins.iter().any(|a| a == o));
    let same_host = origin.is_some_and(|o| {
        let authority = o.split_once("://").map_or("", |(_, rest)| rest);
        text(header::HOST.as_str()).is_some_and(|host| host.eq_ignore_ascii_case(authority))
    });
    match text("sec-fetch-site") {
        Some("same-origin" | "none") => origin.is_none() || same_host || listed,
        Some(_) => listed,
        None => origin.is_none() || same_host || listed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn tools_and_the_own_site_may_write_other_sites_may_not() {
        let listed = vec!["https://app.example".to_owned()];
        let ok = |pairs: &[(&'static str, &'static str)]| allowed(&headers(pairs), &listed);
        assert!(ok(&[]), "curl");
        assert!(ok(&[
            ("host", "paste.example"),
            ("origin", "https://paste.example")
        ]));
        assert!(ok(&[
            ("host", "paste.example"),
            ("origin", "https://paste.example"),
            ("sec-fetch-site", "same-origin")
        ]));
        assert!(ok(&[
            ("origin", "https://app.example"),
            ("sec-fetch-site", "cross-site")
        ]));
        assert!(!ok(&[
            ("host", "paste.example"),
            ("origin", "https://evil.example")
        ]));
        assert!(!ok(&[
            ("host", "paste.example"),
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site")
        ]));
        assert!(
            !ok(&[("sec-fetch-site", "cross-site")]),
            "a form posted from elsewhere"
        );
        assert!(!ok(&[("host", "paste.example"), ("origin", "null")]));
        assert!(!ok(&[
            ("origin", "https://paste.example.evil"),
            ("host", "paste.example")
        ]));
    }
}
