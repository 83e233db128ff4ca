//! The plaintext of an encrypted paste: its title and files, serialized as compact JSON
//! (UTF-8) and compressed with zlib (RFC 1950) before encryption.

use serde::{Deserialize, Serialize};

use crate::SealError;

/// Largest serialized bundle (JSON bytes before compression) a writer seals or a reader
/// inflates: a bound on what a small ciphertext may expand to.
pub const MAX_BUNDLE_BYTES: usize = 32 * 1024 * 1024;
/// Most files in one bundle.
pub const MAX_FILES: usize = 100;
/// Longest file name, in UTF-8 bytes.
pub const MAX_FILE_NAME_BYTES: usize = 255;
/// Longest title, in characters (the server's rule for plain pastes).
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest language id, in bytes (the server's rule for plain pastes).
pub const MAX_LANGUAGE_BYTES: usize = 32;

/// What an encrypted paste holds. A one-text paste is a one-file bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    #[serde(default)]
    pub title: Option<String>,
    pub files: Vec<File>,
}

/// One file of a bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct File {
    /// A plain file name: no path separators, not `.` or `..`, unique in the bundle.
    pub name: String,
    /// A highlighter id such as `rust`; null = plain text.
    #[serde(default)]
    pub language: Option<String>,
    pub content: String,
}

impl Bundle {
    /// A one-file bundle, named `paste.<ext>` from its language as the web app names it
    /// (`Dockerfile` for a Dockerfile).
    pub fn text(title: Option<String>, language: Option<String>, content: &str) -> Bundle {
        let name = match language.as_deref() {
            Some(l) if l.eq_ignore_ascii_case("dockerfile") => "Dockerfile".to_owned(),
            l => format!("paste.{}", extension(l)),
        };
        Bundle {
            title,
            files: vec![File {
                name,
                language,
                content: content.to_owned(),
            }],
        }
    }

    /// The rules both writers and readers apply; the message says which one failed.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(t) = &self.title {
            if t.chars().count() > MAX_TITLE_CHARS {
                return Err(format!("title is longer than {MAX_TITLE_CHARS} characters"));
            }
            if t.chars().any(char::is_control) {
                return Err("title has control characters".into());
            }
        }
        if self.files.is_empty() {
            return Err("a bundle has at least one file".into());
        }
        if self.files.len() > MAX_FILES {
            return Err(format!("a bundle has at most {MAX_FILES} files"));
        }
        let mut names = std::collections::HashSet::new();
        for f in &self.files {
            let n = &f.name;
            if n.is_empty()
                || n.len() > MAX_FILE_NAME_BYTES
                || n == "."
                || n == ".."
                || n.chars().any(|c| c == '/' || c == '\\' || c.is_control())
            {
                return Err(format!(
                    "file name {n:?} must be 1 to {MAX_FILE_NAME_BYTES} bytes, without / \\ or control characters, and not . or .."
                ));
            }
            if !names.insert(n.as_str()) {
                return Err(format!("file name {n:?} appears twice"));
            }
            if let Some(l) = &f.language
                && (l.is_empty()
                    || l.len() > MAX_LANGUAGE_BYTES
                    || !l
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+#-_.".contains(&b)))
            {
                return Err(format!(
                    "language {l:?} must be 1 to {MAX_LANGUAGE_BYTES} characters of a-z, 0-9, + # - _ ."
                ));
            }
            if f.content.contains('\0') {
                return Err(format!("file {n:?} is not text (it contains NUL)"));
            }
        }
        Ok(())
    }

    /// JSON, then zlib: the bytes that are encrypted.
    pub(crate) fn encode(&self) -> Result<Vec<u8>, SealError> {
        let json = zeroize::Zeroizing::new(serde_json::to_vec(self).expect("a bundle serializes"));
        if json.len() > MAX_BUNDLE_BYTES {
            return Err(SealError::TooLarge);
        }
        Ok(miniz_oxide::deflate::compress_to_vec_zlib(&json, 6))
    }

    /// The inverse of `encode`, refusing to inflate past `MAX_BUNDLE_BYTES`.
    pub(crate) fn decode(payload: &[u8]) -> Result<Bundle, String> {
        let json =
            miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(payload, MAX_BUNDLE_BYTES)
                .map(zeroize::Zeroizing::new)
                .map_err(|e| match e.status {
                    miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                        format!("the bundle is larger than {MAX_BUNDLE_BYTES} bytes")
                    }
                    _ => "the payload is not zlib data".to_owned(),
                })?;
        let bundle: Bundle =
            serde_json::from_slice(&json).map_err(|e| format!("the bundle is not valid: {e}"))?;
        bundle.validate()?;
        Ok(bundle)
    }
}

/// The web app's table (web/src/lib/languages.js `fileExtension`).
fn extension(language: Option<&str>) -> &'static str {
    match language.unwrap_or("").to_ascii_lowercase().as_str() {
        "bash" => "sh",
        "c" => "c",
        "cpp" => "cpp",
        "csharp" => "cs",
        "css" => "css",
        "diff" => "diff",
        "go" => "go",
        "graphql" => "graphql",
        "xml" => "html",
        "ini" => "ini",
        "java" => "java",
        "javascript" => "js",
        "json" => "json",
        "kotlin" => "kt",
        "lua" => "lua",
        "makefile" => "mk",
        "markdown" => "md",
        "nginx" => "conf",
        "perl" => "pl",
        "php" => "php",
        "python" => "py",
        "ruby" => "rb",
        "rust" => "rs",
        "scss" => "scss",
        "sql" => "sql",
        "swift" => "swift",
        "typescript" => "ts",
        "yaml" => "yaml",
        _ => "txt",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &str) -> Bundle {
        Bundle {
            title: None,
            files: vec![File {
                name: name.into(),
                language: None,
                content: "x".into(),
            }],
        }
    }

    #[test]
    fn json_field_order_and_nulls() {
        let b = Bundle::text(None, None, "hi");
        assert_eq!(
            serde_json::to_string(&b).unwrap(),
            r#"{"title":null,"files":[{"name":"paste.txt","language":null,"content":"hi"}]}"#
        );
    }

    #[test]
    fn round_trip_through_zlib() {
        let b = Bundle::text(Some("t".into()), Some("rust".into()), "fn main() {}\n");
        assert_eq!(Bundle::decode(&b.encode().unwrap()).unwrap(), b);
    }

    #[test]
    fn readers_ignore_unknown_fields_and_missing_nulls() {
        let json = br#"{"files":[{"name":"a","content":"x","mode":"0644"}],"later":1}"#;
        let payload = miniz_oxide::deflate::compress_to_vec_zlib(json, 6);
        assert_eq!(Bundle::decode(&payload).unwrap(), one("a"));
    }

    #[test]
    fn names_that_could_leave_a_folder_are_refused() {
        for bad in ["", ".", "..", "a/b", "..\\x", "a\nb", &"x".repeat(256)] {
            assert!(one(bad).validate().is_err(), "{bad:?}");
        }
        for ok in [
            "main.rs",
            ".env",
            "Makefile",
            "ünï cödé.txt",
            &"x".repeat(255),
        ] {
            one(ok).validate().unwrap();
        }
        let mut twice = one("a");
        twice.files.push(twice.files[0].clone());
        assert!(twice.validate().is_err());
    }

    #[test]
    fn not_zlib_is_an_invalid_bundle() {
        assert!(Bundle::decode(b"{\"files\":[]}").is_err());
    }
}
