//! Web sign-in with an OpenID provider (the flow is in [`crate::services::sign_in`]):
//!
//! | route | does |
//! |---|---|
//! | `GET /auth/oidc/start` | sets the signed state cookie, redirects to the provider |
//! | `GET /auth/oidc/callback` | exchanges the code, sets a one-minute cookie with our JWT, redirects to `/signin/oidc` |
//! | `POST /auth/oidc/session` | same-site only: hands the web app that JWT once (JSON, like `login`) and clears the cookie |
//!
//! The token never travels in a URL. Failures redirect to `/signin/oidc?error=CODE`, where the
//! web app explains them. Both cookies are `HttpOnly` and scoped to `/auth/oidc`.

use axum::Json;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::same_site::NotCrossSite;
use crate::caller::{Caller, ClientAddr};
use crate::error::AppError;
use crate::services::sign_in::STATE_COOKIE;

const SESSION_COOKIE: &str = "pb_oidc_session";
const DONE: &str = "/signin/oidc";

fn cookie(state: &AppState, name: &str, value: &str, max_age: i64, same_site: &str) -> HeaderValue {
    let secure = if state.app.config().server.base_url().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/auth/oidc; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn see_other(location: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn failed(e: AppError) -> Response {
    e.log();
    see_other(&format!("{DONE}?error={}", e.code().as_str()))
}

pub async fn start(State(state): State<AppState>, caller: Caller) -> Response {
    match state.app.sign_in().start(&caller).await {
        Ok(started) => {
            let mut r = see_other(&started.authorize_url);
            r.headers_mut().append(
                header::SET_COOKIE,
                cookie(&state, STATE_COOKIE, &started.cookie, 600, "Lax"),
            );
            r
        }
        Err(e) => failed(e),
    }
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub async fn callback(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Response {
    let (Some(code), Some(st)) = (q.code.as_deref(), q.state.as_deref()) else {
        if let Some(e) = &q.error {
            tracing::info!(error = %e.chars().take(64).collect::<String>(), "the identity provider refused the sign-in");
        }
        return failed(AppError::Unauthenticated(
            "sign-in was cancelled at the identity provider",
        ));
    };
    let outcome = state
        .app
        .sign_in()
        .finish(&caller, code, st, read_cookie(&headers, STATE_COOKIE))
        .await;
    let mut r = match outcome {
        Ok(session) => {
            let mut r = see_other(DONE);
            r.headers_mut().append(
                header::SET_COOKIE,
                cookie(&state, SESSION_COOKIE, &session.token, 60, "Strict"),
            );
            r
        }
        Err(e) => failed(e),
    };
    r.headers_mut().append(
        header::SET_COOKIE,
        cookie(&state, STATE_COOKIE, "", 0, "Lax"),
    );
    r
}

/// Hands over the session the callback left, once.
pub async fn session(
    State(state): State<AppState>,
    _: NotCrossSite,
    Extension(addr): Extension<ClientAddr>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    const NONE: AppError = AppError::Unauthenticated("no sign-in to complete: sign in again");
    let token = read_cookie(&headers, SESSION_COOKIE)
        .filter(|t| !t.is_empty())
        .ok_or(NONE)?;
    let caller = state.app.accounts().caller(addr, Some(token)).await?;
    let user = caller.viewer.user().ok_or(NONE)?;
    let body = json!({
        "token": token,
        "expiresAt": user.expires_at.map(|t| t.to_rfc3339()),
        "user": { "id": user.id.to_string(), "username": user.username },
    });
    let mut r = Json(body).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        cookie(&state, SESSION_COOKIE, "", 0, "Strict"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
