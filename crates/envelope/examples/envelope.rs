//! Seals and opens envelopes from the command line, JSON in and out: how the browser tests
//! (web/tests/e2e/encryption.e2e.mjs) check that the Rust implementation and the web app read
//! each other's pastes through the real server.
//!
//! ```text
//! envelope seal [--burn] [--password P]           stdin: a bundle     stdout: {"envelope":…,"key":"…"}
//! envelope open --key K [--burn] [--password P]   stdin: an envelope  stdout: the bundle
//! ```
//! A failure prints `{"error":"<CODE>","message":…}` on stdout and exits with 2.

use std::io::Read;
use std::process::ExitCode;

use pastebin_envelope::{Bundle, Envelope, Key, open, seal};
use serde_json::json;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        return fail("IO", &e.to_string());
    }
    let burn = flag("--burn");
    let password = value("--password");
    match args.first().map(String::as_str) {
        Some("seal") => {
            let bundle: Bundle = match serde_json::from_str(&input) {
                Ok(b) => b,
                Err(e) => return fail("INVALID_BUNDLE", &e.to_string()),
            };
            match seal(&bundle, burn, password.as_deref()) {
                Ok((envelope, key)) => {
                    println!("{}", json!({ "envelope": envelope, "key": key.encode() }));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e.code(), &e.to_string()),
            }
        }
        Some("open") => {
            let envelope: Envelope = match serde_json::from_str(&input) {
                Ok(e) => e,
                Err(e) => return fail("INVALID_ENVELOPE", &e.to_string()),
            };
            let key = match Key::decode(value("--key").as_deref().unwrap_or_default()) {
                Ok(k) => k,
                Err(e) => return fail(e.code(), &e.to_string()),
            };
            match open(&envelope, &key, password.as_deref(), burn) {
                Ok(bundle) => {
                    println!("{}", json!(bundle));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e.code(), &e.to_string()),
            }
        }
        _ => fail(
            "USAGE",
            "envelope seal [--burn] [--password P] | envelope open --key K [--burn] [--password P]",
        ),
    }
}

fn fail(code: &str, message: &str) -> ExitCode {
    println!("{}", json!({ "error": code, "message": message }));
    ExitCode::from(2)
}
