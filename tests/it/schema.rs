//! The committed SDL is what the server serves.

#[test]
fn committed_sdl_matches_the_schema() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("graphql/schema.graphql");
    let committed = std::fs::read_to_string(&path).expect("graphql/schema.graphql exists");
    let current = pastebin::graphql::sdl();
    assert!(
        committed == current,
        "graphql/schema.graphql is out of date: run `cargo run -- schema > graphql/schema.graphql`"
    );
}

/// Every environment variable of the config is documented with its default in README.md's
/// table, in `.env.example` and in the `//!` list of its config file.
#[test]
fn every_setting_is_documented_with_its_default() {
    use clap::{CommandFactory, Parser};
    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        config: pastebin::config::Config,
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let example = std::fs::read_to_string(root.join(".env.example")).unwrap();
    let config_docs: String = std::fs::read_dir(root.join("src/config"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    let settings: Vec<(String, String)> = Wrapper::command()
        .get_arguments()
        .filter_map(|a| {
            let name = a.get_env()?.to_string_lossy().into_owned();
            let default = a
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(",");
            Some((name, default))
        })
        .collect();
    assert!(settings.len() > 40, "{settings:?}");
    let mut wrong = Vec::new();
    for (name, default) in &settings {
        // `.env.example`: `NAME=default`, exactly.
        if !example.lines().any(|l| *l == format!("{name}={default}")) {
            wrong.push(format!(".env.example: want `{name}={default}`"));
        }
        // Tables: the row naming the variable states the default, or says there is none.
        for (doc, text) in [("README.md", &readme), ("src/config/*.rs", &config_docs)] {
            // A row may name several variables (`A`, `B`) with their defaults in order.
            let row = text
                .lines()
                .map(|l| l.trim_start_matches("//!").trim())
                .filter(|l| l.starts_with('|'))
                .find_map(|l| {
                    let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                    let names: Vec<&str> = cells.get(1)?.split(", ").collect();
                    let i = names.iter().position(|n| *n == format!("`{name}`"))?;
                    let defaults: Vec<&str> = cells.get(2)?.split(", ").collect();
                    Some(if defaults.len() == names.len() {
                        defaults[i]
                    } else {
                        cells[2]
                    })
                });
            let Some(cell) = row else {
                wrong.push(format!("{doc}: no table row for {name}"));
                continue;
            };
            let ok = if default.is_empty() {
                ["empty", "none", "(required)"]
                    .iter()
                    .any(|w| cell.starts_with(w))
            } else {
                cell.starts_with(&format!("`{default}`"))
            };
            if !ok {
                wrong.push(format!(
                    "{doc}: {name} default is `{default}`, row says {cell:?}"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "settings documented wrongly:\n{}",
        wrong.join("\n")
    );
}
