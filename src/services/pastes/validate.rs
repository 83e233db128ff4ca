//! Input rules for new pastes. Every refusal says what the rule is.

use crate::caller::Viewer;
use crate::config::LimitsConfig;
use crate::error::{AppError, AppResult};

use super::files::{self, Body};
use super::{NewPaste, Visibility};

pub const MAX_TITLE_LEN: usize = 200;
pub const MAX_LANGUAGE_LEN: usize = 32;
pub const MAX_VIEWS_LIMIT: i32 = 1000;
/// Shortest idempotency key of an anonymous caller: 32 characters, 128 bits of hex.
pub const ANONYMOUS_KEY_MIN: usize = 32;

/// Checks a create; returns the input (title and language cleaned, body taken out) and its
/// files.
pub(super) fn new_paste(
    config: &LimitsConfig,
    viewer: &Viewer,
    mut input: NewPaste,
) -> AppResult<(NewPaste, Body)> {
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
    if input.encrypted.is_some() {
        no_plaintext_beside_envelope(&input.title, &input.language)?;
    }
    let body = files::body(
        config,
        input.content.take(),
        input.files.take(),
        input.encrypted.take(),
        input.language.as_deref(),
    )?;
    if input.language.is_none() && !body.encrypted {
        input.language = body.drafts[0].language.clone();
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
    if let Some(k) = &input.idempotency_key {
        // An anonymous key is a secret of at least 128 bits: nobody else can find a paste by it.
        let shortest = match viewer {
            Viewer::Anonymous => ANONYMOUS_KEY_MIN,
            Viewer::User(_) => 8,
        };
        if !(shortest..=64).contains(&k.len())
            || !k
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(AppError::bad_input(format!(
                "idempotencyKey must be {shortest} to 64 characters of A-Z, a-z, 0-9, - and _{}",
                if shortest == ANONYMOUS_KEY_MIN {
                    " (without an account, a random secret: e.g. 16 random bytes in hex)"
                } else {
                    ""
                }
            )));
        }
    }
    Ok((input, body))
}

/// An encrypted paste's title and language are inside its envelope: beside it they would be
/// plaintext the server keeps.
pub(super) fn no_plaintext_beside_envelope(
    title: &Option<String>,
    language: &Option<String>,
) -> AppResult<()> {
    if title.is_some() || language.is_some() {
        return Err(AppError::bad_input(
            "an encrypted paste has no title or language beside its envelope: they go inside it",
        ));
    }
    Ok(())
}

/// Characters a title shown to other people must not carry: controls, and the Unicode format
/// characters (category Cf) that reorder or hide text — bidirectional overrides and isolates
/// (U+202A–202E, U+2066–2069), marks (U+200E, U+200F, U+061C), zero-width characters
/// (U+200B–200D, U+2060, U+FEFF), soft hyphens, tags (U+E0000–E007F) and the like.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c as u32,
            0x00AD | 0x034F | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891
            | 0x08E2 | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F | 0x200B..=0x200F
            | 0x2028..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0
            | 0xFFF0..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
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
        if t.chars().any(is_invisible) {
            return Err(AppError::bad_input(
                "title must not contain control, format or bidirectional characters",
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
        for title in [
            "evil\u{202E}gnp.exe",
            "a\u{2066}b",
            "zero\u{200B}width",
            "bom\u{FEFF}",
        ] {
            assert_eq!(
                code(new_paste(
                    &c,
                    &anon,
                    NewPaste {
                        title: Some(title.into()),
                        ..input("x")
                    }
                )),
                "BAD_USER_INPUT",
                "{title:?}"
            );
        }
        assert_eq!(
            code(new_paste(
                &c,
                &anon,
                NewPaste {
                    title: Some("Ünïcödé títle — fine 🙂".into()),
                    ..input("x")
                }
            )),
            "OK"
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
