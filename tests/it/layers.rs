//! The layering the compiler keeps (stores private to `services`) checked in the source too:
//! a transport (`src/http`, `src/graphql`) never names a store module and never reaches one
//! through a field, so a test-support build (where the stores are public) cannot slip either.

use std::path::Path;

/// Store modules and the fields that hold stores.
const STORE_MODULES: [&str; 3] = ["db", "cache", "blob"];
const STORE_FIELDS: [&str; 7] = [
    "db", "cache", "blobs", "redis", "stores", "counts", "watchers",
];

/// Every line of `source` that names a store module in a path or reaches a store through a
/// field, with its line number. Comments are not code.
fn violations(source: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        let names_module = STORE_MODULES.iter().any(|m| {
            let path = format!("::{m}");
            code.match_indices(&path).any(|(i, _)| {
                let after = code[i + path.len()..].chars().next();
                !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
            }) || code.contains(&format!("{{{m}"))
                || code.contains(&format!(" {m}::"))
        });
        let reaches_field = STORE_FIELDS.iter().any(|f| {
            let field = format!(".{f}");
            code.match_indices(&field).any(|(i, _)| {
                let after = code[i + field.len()..].chars().next();
                !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
        });
        // The first wave's rate limiter was `app.limits` (`limits` is also a config area).
        let reaches_limiter = code.contains("app.limits");
        if names_module || reaches_field || reaches_limiter {
            found.push((n + 1, line.trim().to_owned()));
        }
    }
    found
}

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

#[test]
fn the_scan_finds_what_the_first_wave_did() {
    // Lines of the kind the first wave had in `graphql/pastes.rs` and `http/raw.rs`.
    let before = "use crate::cache::CachedPaste;\n\
                  use crate::db::pastes::Listing;\n\
                  use crate::{db, blob};\n\
                  state.app.limits.check_read(ip)?;\n\
                  let x = app.cache.get(id); // a comment naming app.db is fine\n\
                  app.hub.watched();";
    let found: Vec<usize> = violations(before).into_iter().map(|(n, _)| n).collect();
    assert_eq!(found, vec![1, 2, 3, 4, 5]);
    // Words that merely contain a store's name are not stores.
    assert!(violations("use crate::caller::Caller; let c = header::CACHE_CONTROL; x.dbg();\napp.view_stats().live_total(id);").is_empty());
}

#[test]
fn transports_never_reach_a_store() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut report = Vec::new();
    for dir in ["http", "graphql"] {
        for file in rust_files(&root.join(dir)) {
            let source = std::fs::read_to_string(&file).unwrap();
            for (line, text) in violations(&source) {
                report.push(format!("{}:{line}: {text}", file.display()));
            }
        }
    }
    assert!(
        report.is_empty(),
        "transports reach stores; go through a service instead:\n{}",
        report.join("\n")
    );
}
