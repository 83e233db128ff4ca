//! Input rules for new pastes. Every refusal says what the rule is.

use crate::caller::Viewer;
use crate::config::LimitsConfig;
use crate::error::{AppError, AppResult};

use super::files::{self, Draft};
use super::{NewPaste, Visibility};

pub const MAX_TITLE_LEN: usize = 200;
pub const MAX_LANGUAGE_LEN: usize = 32;
pub const MAX_VIEWS_LIMIT: i32 = 1000;

/// Checks a create; returns the input (title and language cleaned, body taken out) and its
/// files.
pub(super) fn new_paste(
    config: &LimitsConfig,
    viewer: &Viewer,
    mut input: NewPaste,
) -> AppResult<(NewPaste, Vec<Draft>)> {
    match viewer {
        Viewer::Anonymous if !config.allow_anonymous => {
            return Err(AppError::Unauthenticated("sign in to create pastes"));
        }
        Viewer::Anonymous if input.visibility == Visibility::Private => {
            return Err(AppError::Unauthenticated(
                "private pastes need an account: sign in first",
            ));
        }
        _ => {}
    }
    input.title = clean_title(input.title)?;
    input.language = clean_language(input.language)?;
    let drafts = files::drafts(
        config,
        input.content.take(),
        input.files.take(),
        input.language.as_deref(),
    )?;
    if input.language.is_none() {
        input.language = drafts[0].language.clone();
    }
    match input.expires_in {
        None if !config.allow_never_expire => {
            return Err(AppError::bad_input(
                "expiresIn is required: pastes must expire",
            ));
        }
        Some(s) if s < config.min_expiry_secs || s > config.max_expiry_secs => {
            return Err(AppError::bad_input(format!(
                "expiresIn must be between {} and {} seconds",
                config.min_expiry_secs, config.max_expiry_secs
            )));
        }
        _ => {}
    }
    if let Some(n) = input.max_views {
        if !(1..=MAX_VIEWS_LIMIT).contains(&n) {
            return Err(AppError::bad_input(format!(
                "maxViews must be between 1 and {MAX_VIEWS_LIMIT}"
            )));
        }
        if input.burn_after_reading {
            return Err(AppError::bad_input(
                "choose burnAfterReading or maxViews, not both",
            ));
        }
    }
    if let Some(k) = &input.idempotency_key
        && (!(8..=64).contains(&k.len())
            || !k
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        return Err(AppError::bad_input(
            "idempotencyKey must be 8 to 64 characters of A-Z, a-z, 0-9, - and _",
        ));
    }
    Ok((input, drafts))
}

fn clean_optional(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// A title: trimmed (empty is none), at most [`MAX_TITLE_LEN`] characters, no control
/// characters.
pub(super) fn clean_title(title: Option<String>) -> AppResult<Option<String>> {
    let title = clean_optional(title);
    if let Some(t) = &title {
        if t.chars().count() > MAX_TITLE_LEN {
            return Err(AppError::bad_input(format!(
                "title must be at most {MAX_TITLE_LEN} characters"
            )));
        }
        if t.chars().any(char::is_control) {
            return Err(AppError::bad_input(
                "title must not contain control characters",
            ));
        }
    }
    Ok(title)
}

/// A language: trimmed and lowercased (empty is none), at most [`MAX_LANGUAGE_LEN`] characters
/// of a-z, 0-9, + # - _ .
pub(super) fn clean_language(language: Option<String>) -> AppResult<Option<String>> {
    let language = clean_optional(language).map(|l| l.to_ascii_lowercase());
    if let Some(l) = &language
        && (l.len() > MAX_LANGUAGE_LEN
            || !l
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+#-_.".contains(&b)))
    {
        return Err(AppError::bad_input(format!(
            "language must be at most {MAX_LANGUAGE_LEN} characters of a-z, 0-9, + # - _ ."
        )));
    }
    Ok(language)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(content: &str) -> NewPaste {
        NewPaste {
            expires_in: Some(3600),
            ..NewPaste::text(content.into())
        }
    }

    fn code<T>(r: AppResult<T>) -> &'static str {
        r.err().map(|e| e.code().as_str()).unwrap_or("OK")
    }

    #[test]
    fn every_rule_refuses_with_the_right_code() {
        let c = crate::config::Config::for_database("postgres://x").limits;
        let anon = Viewer::Anonymous;
        assert_eq!(code(new_paste(&c, &anon, input("hi"))), "OK");
        assert_eq!(code(new_paste(&c, &anon, input(""))), "BAD_USER_INPUT");
        assert_eq!(
            code(new_paste(&c, &anon, input(&"x".repeat(c.max_bytes + 1)))),
            "PAYLOAD_TOO_LARGE"
        );
        assert_eq!(
            code(new_paste(
                &c,
                &anon,
                NewPaste {
                    expires_in: Some(1),
                    ..input("x")
                }
            )),
            "BAD_USER_INPUT"
        );
        assert_eq!(
            code(new_paste(
                &c,
                &anon,
                NewPaste {
                    visibility: Visibility::Private,
                    ..input("x")
                }
            )),
            "UNAUTHENTICATED"
        );
        assert_eq!(
            code(new_paste(
                &c,
                &anon,
                NewPaste {
                    max_views: Some(0),
                    ..input("x")
                }
            )),
            "BAD_USER_INPUT"
        );
        assert_eq!(
            code(new_paste(
                &c,
                &anon,
                NewPaste {
                    language: Some("<script>".into()),
                    ..input("x")
                }
            )),
            "BAD_USER_INPUT"
        );
        assert_eq!(
            code(new_paste(
                &c,
                &anon,
                NewPaste {
                    idempotency_key: Some("short".into()),
                    ..input("x")
                }
            )),
            "BAD_USER_INPUT"
        );
    }
}
