//! The files of a revision: what a client sends (`content` or `files`), the rules for names,
//! languages and sizes, the digest of a revision and the summary of what an edit changed.

use sha2::{Digest, Sha256};

use super::languages;
use super::validate::clean_language;
use crate::config::LimitsConfig;
use crate::error::{AppError, AppResult};
use crate::services::db::models::FileRow;

/// Most files in one paste (a revision).
pub const MAX_FILES: usize = 20;
/// Longest file name, in characters.
pub const MAX_FILE_NAME_LEN: usize = 128;

/// One file as a client sends it.
#[derive(Clone, Debug)]
pub struct NewFile {
    pub name: String,
    pub content: String,
    /// `None`: detected from the name (plain text when it says nothing).
    pub language: Option<String>,
}

/// A checked file, ready to store.
#[derive(Clone, Debug)]
pub(super) struct Draft {
    pub name: String,
    pub language: Option<String>,
    pub text: String,
    pub sha256: Vec<u8>,
}

impl Draft {
    pub(super) fn new(name: String, language: Option<String>, text: String) -> Self {
        draft(name, language, text)
    }
}

/// The checked body of a create or an edit.
pub(super) struct Body {
    pub drafts: Vec<Draft>,
    /// The paste's `sizeBytes`: its files' text, or an encrypted paste's ciphertext.
    pub size: usize,
    pub encrypted: bool,
}

/// The body of a create or an edit: exactly one of `content` (a one-file paste, named after
/// its language), `files` and `encrypted` (an envelope: stored as one file, see
/// [`super::encrypted`]).
pub(super) fn body(
    limits: &LimitsConfig,
    content: Option<String>,
    files: Option<Vec<NewFile>>,
    encrypted: Option<pastebin_envelope::Envelope>,
    language: Option<&str>,
) -> AppResult<Body> {
    match encrypted {
        Some(envelope) if content.is_none() && files.is_none() => {
            let (draft, size) = super::encrypted::draft(envelope, limits.max_bytes)?;
            Ok(Body {
                drafts: vec![draft],
                size,
                encrypted: true,
            })
        }
        Some(_) => Err(exactly_one()),
        None => {
            let drafts = drafts(limits, content, files, language)?;
            let size = drafts.iter().map(|d| d.text.len()).sum();
            Ok(Body {
                drafts,
                size,
                encrypted: false,
            })
        }
    }
}

fn exactly_one() -> AppError {
    AppError::bad_input(
        "give exactly one of content (a one-file paste), files and encrypted (an encrypted paste's envelope)",
    )
}

/// The plain body of a create or an edit: exactly one of `content` and `files`.
pub(super) fn drafts(
    limits: &LimitsConfig,
    content: Option<String>,
    files: Option<Vec<NewFile>>,
    language: Option<&str>,
) -> AppResult<Vec<Draft>> {
    let drafts = match (content, files) {
        (Some(text), None) => {
            check_text(&text, None)?;
            vec![draft(
                languages::default_file_name(language),
                language.map(str::to_owned),
                text,
            )]
        }
        (None, Some(files)) => {
            if files.is_empty() || files.len() > MAX_FILES {
                return Err(AppError::bad_input(format!(
                    "a paste has 1 to {MAX_FILES} files"
                )));
            }
            let mut seen = std::collections::HashSet::new();
            let mut out = Vec::with_capacity(files.len());
            for file in files {
                check_name(&file.name)?;
                if !seen.insert(file.name.to_lowercase()) {
                    return Err(AppError::bad_input(format!(
                        "file names must be unique within a paste (without regard to case): {:?} is there twice",
                        file.name
                    )));
                }
                check_text(&file.content, Some(&file.name))?;
                let language = match clean_language(file.language)? {
                    Some(l) => Some(l),
                    None => languages::detect(&file.name).map(str::to_owned),
                };
                out.push(draft(file.name, language, file.content));
            }
            out
        }
        _ => return Err(exactly_one()),
    };
    let total: usize = drafts.iter().map(|d| d.text.len()).sum();
    if total > limits.max_bytes {
        return Err(AppError::PayloadTooLarge {
            limit: limits.max_bytes,
        });
    }
    Ok(drafts)
}

fn draft(name: String, language: Option<String>, text: String) -> Draft {
    let sha256 = Sha256::digest(text.as_bytes()).to_vec();
    Draft {
        name,
        language,
        text,
        sha256,
    }
}

fn check_text(text: &str, name: Option<&str>) -> AppResult<()> {
    let what = match name {
        Some(n) => format!("file {n:?}: content"),
        None => "content".to_owned(),
    };
    if text.is_empty() {
        return Err(AppError::bad_input(format!("{what} must not be empty")));
    }
    if text.contains('\0') {
        return Err(AppError::bad_input(format!(
            "{what} must be text (it contains NUL characters)"
        )));
    }
    Ok(())
}

/// File names: 1 to 128 characters, no path separators, no control characters, no invisible
/// format characters (bidi overrides and isolates, zero-width characters: they make one name
/// look like another), not `.` or `..`, no spaces at either end.
pub fn check_name(name: &str) -> AppResult<()> {
    let bad = |rule: &str| Err(AppError::bad_input(format!("file name {name:?}: {rule}")));
    let len = name.chars().count();
    if len == 0 || len > MAX_FILE_NAME_LEN {
        return bad(&format!("must be 1 to {MAX_FILE_NAME_LEN} characters"));
    }
    if name.contains(['/', '\\']) {
        return bad("must not contain path separators (/ or \\)");
    }
    if name.chars().any(char::is_control) {
        return bad("must not contain control characters");
    }
    if name.chars().any(super::validate::is_invisible) {
        return bad(
            "must not contain invisible formatting characters (bidi controls, zero-width characters)",
        );
    }
    if name == "." || name == ".." {
        return bad("must not be . or ..");
    }
    if name.trim() != name {
        return bad("must not start or end with spaces");
    }
    Ok(())
}

/// The digest of a revision: a one-file revision's is its file's sha256 (so a one-file paste
/// keeps the digest it always had); otherwise the sha256 of every file's name, language and
/// digest.
pub(super) fn revision_digest(drafts: &[Draft]) -> Vec<u8> {
    if let [one] = drafts {
        return one.sha256.clone();
    }
    let mut h = Sha256::new();
    for d in drafts {
        h.update(d.name.as_bytes());
        h.update([0]);
        h.update(d.language.as_deref().unwrap_or_default().as_bytes());
        h.update([0]);
        h.update(&d.sha256);
    }
    h.finalize().to_vec()
}

/// Title and language of a revision, for its summary.
pub(super) struct Heading<'a> {
    pub title: Option<&'a str>,
    pub language: Option<&'a str>,
}

/// What an edit changes, for people: "Edited main.rs; added notes.md; changed the title".
/// `None` when it changes nothing.
pub(super) fn summary(
    before: Heading<'_>,
    base: &[FileRow],
    after: Heading<'_>,
    drafts: &[Draft],
) -> Option<String> {
    let mut parts = Vec::new();
    let mut matched = vec![false; base.len()];
    let mut added = Vec::new();
    for d in drafts {
        match base.iter().position(|f| f.name == d.name) {
            Some(i) => {
                matched[i] = true;
                let f = &base[i];
                if f.content_sha256 != d.sha256 {
                    parts.push(format!("edited {}", d.name));
                } else if f.language != d.language {
                    parts.push(format!("changed the language of {}", d.name));
                }
            }
            None => added.push(d),
        }
    }
    for d in added {
        let renamed = base
            .iter()
            .enumerate()
            .find(|(i, f)| !matched[*i] && f.content_sha256 == d.sha256);
        match renamed {
            Some((i, f)) => {
                matched[i] = true;
                parts.push(format!("renamed {} to {}", f.name, d.name));
            }
            None => parts.push(format!("added {}", d.name)),
        }
    }
    for (f, _) in base.iter().zip(&matched).filter(|(_, m)| !**m) {
        parts.push(format!("removed {}", f.name));
    }
    let order_changed = parts.is_empty()
        && base.len() == drafts.len()
        && base.iter().zip(drafts).any(|(f, d)| f.name != d.name);
    if order_changed {
        parts.push("reordered the files".to_owned());
    }
    if before.title != after.title {
        parts.push("changed the title".to_owned());
    }
    if before.language != after.language {
        parts.push("changed the language".to_owned());
    }
    if parts.is_empty() {
        return None;
    }
    let mut text = parts.join("; ");
    if let Some(first) = text.get(..1) {
        text = first.to_uppercase() + &text[1..];
    }
    Some(truncate(text, 500))
}

/// What revision 1 says.
pub(super) fn created_summary(files: usize, forked_from: Option<&str>) -> String {
    let files = if files == 1 {
        "1 file".to_owned()
    } else {
        format!("{files} files")
    };
    match forked_from {
        Some(id) => format!("Forked from {id} with {files}"),
        None => format!("Created with {files}"),
    }
}

/// What revision 1 of an encrypted paste says (its files are inside the envelope).
pub(super) fn created_encrypted_summary(forked_from: Option<&str>) -> String {
    match forked_from {
        Some(id) => format!("Forked from {id}, encrypted"),
        None => "Created encrypted".to_owned(),
    }
}

/// What an edit of an encrypted paste says: the server cannot tell what changed.
pub(super) const EDITED_ENCRYPTED_SUMMARY: &str = "Edited (encrypted)";

fn truncate(mut s: String, max: usize) -> String {
    if s.chars().count() > max {
        s = s.chars().take(max - 1).collect::<String>() + "…";
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> LimitsConfig {
        crate::config::Config::for_database("postgres://x").limits
    }

    fn file(name: &str, content: &str) -> NewFile {
        NewFile {
            name: name.into(),
            content: content.into(),
            language: None,
        }
    }

    fn code<T>(r: AppResult<T>) -> &'static str {
        r.err().map(|e| e.code().as_str()).unwrap_or("OK")
    }

    #[test]
    fn exactly_one_body_and_names_follow_the_rules() {
        let l = limits();
        assert_eq!(code(drafts(&l, None, None, None)), "BAD_USER_INPUT");
        assert_eq!(
            code(drafts(
                &l,
                Some("x".into()),
                Some(vec![file("a", "b")]),
                None
            )),
            "BAD_USER_INPUT"
        );
        let one = drafts(&l, Some("x".into()), None, Some("rust")).unwrap();
        assert_eq!(
            (one[0].name.as_str(), one[0].language.as_deref()),
            ("paste.rs", Some("rust"))
        );
        let two = drafts(
            &l,
            None,
            Some(vec![file("main.rs", "fn"), file("notes", "n")]),
            None,
        )
        .unwrap();
        assert_eq!(two[0].language.as_deref(), Some("rust"));
        assert_eq!(two[1].language, None);
        assert_eq!(code(drafts(&l, None, Some(vec![]), None)), "BAD_USER_INPUT");
        let many: Vec<_> = (0..21).map(|i| file(&format!("f{i}"), "x")).collect();
        assert_eq!(code(drafts(&l, None, Some(many), None)), "BAD_USER_INPUT");
        assert_eq!(
            code(drafts(
                &l,
                None,
                Some(vec![file("A.txt", "1"), file("a.TXT", "2")]),
                None
            )),
            "BAD_USER_INPUT"
        );
        for bad in [
            "",
            "a/b",
            "a\\b",
            "..",
            ".",
            " a",
            "a\n",
            "evil\u{202E}txt.exe",
            "zero\u{200B}width",
            "iso\u{2066}late",
            &"x".repeat(129),
        ] {
            assert_eq!(code(check_name(bad)), "BAD_USER_INPUT", "{bad:?}");
        }
        for good in [
            "main.rs",
            "Makefile",
            "ünïcødé.md",
            "a b.txt",
            ".env",
            "日本語.txt",
        ] {
            assert_eq!(code(check_name(good)), "OK", "{good:?}");
        }
        let mut small = limits();
        small.max_bytes = 3;
        assert_eq!(
            code(drafts(
                &small,
                None,
                Some(vec![file("a", "12"), file("b", "34")]),
                None
            )),
            "PAYLOAD_TOO_LARGE",
            "the limit applies to the total"
        );
    }

    #[test]
    fn summaries_say_what_changed() {
        let l = limits();
        let base_drafts = drafts(
            &l,
            None,
            Some(vec![file("main.rs", "fn"), file("a.txt", "same")]),
            None,
        )
        .unwrap();
        let base: Vec<FileRow> = base_drafts
            .iter()
            .enumerate()
            .map(|(i, d)| FileRow {
                position: i as i16,
                name: d.name.clone(),
                language: d.language.clone(),
                size_bytes: d.text.len() as i32,
                content_sha256: d.sha256.clone(),
                object_key: None,
            })
            .collect();
        let h = |title| Heading {
            title,
            language: None,
        };
        assert_eq!(summary(h(None), &base, h(None), &base_drafts), None);
        let next = drafts(
            &l,
            None,
            Some(vec![
                file("main.rs", "fn main"),
                file("b.txt", "same"),
                file("new.md", "#"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(
            summary(h(None), &base, h(Some("t")), &next).unwrap(),
            "Edited main.rs; renamed a.txt to b.txt; added new.md; changed the title"
        );
        let fewer = drafts(&l, None, Some(vec![file("main.rs", "fn")]), None).unwrap();
        assert_eq!(
            summary(h(None), &base, h(None), &fewer).unwrap(),
            "Removed a.txt"
        );
    }
}
