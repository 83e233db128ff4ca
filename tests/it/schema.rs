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

/// Every environment variable of the config is documented in README.md and `.env.example`.
#[test]
fn every_setting_is_documented() {
    use clap::{CommandFactory, Parser};
    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        config: pastebin::config::Config,
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let example = std::fs::read_to_string(root.join(".env.example")).unwrap();
    let names: Vec<String> = Wrapper::command()
        .get_arguments()
        .filter_map(|a| a.get_env().map(|e| e.to_string_lossy().into_owned()))
        .collect();
    assert!(names.len() > 40, "{names:?}");
    for name in names {
        assert!(
            readme.contains(&format!("`{name}`")),
            "{name} is missing from README.md"
        );
        assert!(
            example.contains(&format!("\n{name}=")),
            "{name} is missing from .env.example"
        );
    }
}
