//! Languages by file name: the language of a file given without one, and the name of a
//! one-file paste's file. Ids are the web app's (highlight.js names); the first extension of
//! each is the one a file of that language gets (the files-and-revisions migration's
//! `paste_default_file_name` has the same table).

/// Language id, then its extensions (the first is the default).
const TABLE: &[(&str, &[&str])] = &[
    ("rust", &["rs"]),
    ("python", &["py", "pyw", "pyi"]),
    ("javascript", &["js", "mjs", "cjs", "jsx"]),
    ("typescript", &["ts", "tsx", "mts", "cts"]),
    ("go", &["go"]),
    ("c", &["c", "h"]),
    ("cpp", &["cpp", "cc", "cxx", "hpp", "hh", "hxx"]),
    ("csharp", &["cs"]),
    ("java", &["java"]),
    ("kotlin", &["kt", "kts"]),
    ("swift", &["swift"]),
    ("ruby", &["rb"]),
    ("php", &["php"]),
    ("perl", &["pl", "pm"]),
    ("lua", &["lua"]),
    ("bash", &["sh", "bash", "zsh"]),
    ("sql", &["sql"]),
    ("json", &["json"]),
    ("yaml", &["yaml", "yml"]),
    ("ini", &["ini", "toml", "cfg"]),
    ("xml", &["html", "htm", "xml", "svg"]),
    ("css", &["css"]),
    ("scss", &["scss"]),
    ("markdown", &["md", "markdown", "mkd"]),
    ("diff", &["diff", "patch"]),
    ("graphql", &["graphql", "gql"]),
    ("makefile", &["mk"]),
    ("dockerfile", &["dockerfile"]),
];

/// The language a file name says, if any (`main.rs` → rust, `Makefile` → makefile).
pub fn detect(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "makefile" | "gnumakefile" => return Some("makefile"),
        "dockerfile" | "containerfile" => return Some("dockerfile"),
        _ => {}
    }
    let (_, ext) = lower.rsplit_once('.')?;
    TABLE
        .iter()
        .find(|(_, exts)| exts.contains(&ext))
        .map(|(lang, _)| *lang)
}

/// `paste.<extension>`: the file name of a paste created from `content` alone.
pub fn default_file_name(language: Option<&str>) -> String {
    let ext = language
        .and_then(|l| TABLE.iter().find(|(lang, _)| *lang == l))
        .map_or("txt", |(_, exts)| exts[0]);
    format!("paste.{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_give_languages_and_languages_give_names() {
        assert_eq!(detect("main.rs"), Some("rust"));
        assert_eq!(detect("README.MD"), Some("markdown"));
        assert_eq!(detect("Makefile"), Some("makefile"));
        assert_eq!(detect("notes"), None);
        assert_eq!(detect("archive.tar.gz"), None);
        assert_eq!(default_file_name(Some("rust")), "paste.rs");
        assert_eq!(default_file_name(Some("brainfuck")), "paste.txt");
        assert_eq!(default_file_name(None), "paste.txt");
        for (lang, _) in TABLE {
            assert_eq!(detect(&default_file_name(Some(lang))), Some(*lang));
        }
    }
}
