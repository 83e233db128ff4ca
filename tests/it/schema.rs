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
