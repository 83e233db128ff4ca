//! The test vectors of `docs/encryption-vectors.json`, shared with the web app's tests
//! (web/tests/unit/envelope.test.js).
//!
//! `vectors_hold` checks this crate against the committed file. `write_vectors` wrote it:
//! `cargo test -p pastebin-envelope -- --ignored write_vectors` rewrites it, which is only
//! ever right for a new format version (the vectors of version 1 are a fixed contract).

use serde_json::{Value, json};

use crate::envelope::{b64, unb64};
use crate::*;

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/encryption-vectors.json"
);

fn seq<const N: usize>(start: u8) -> [u8; N] {
    std::array::from_fn(|i| start.wrapping_add(i as u8))
}

struct Positive {
    name: &'static str,
    description: &'static str,
    key: Key,
    password: Option<&'static str>,
    burn: bool,
    bundle: Bundle,
    nonce: [u8; NONCE_LEN],
    salt: [u8; SALT_LEN],
}

fn positives() -> Vec<Positive> {
    vec![
        Positive {
            name: "one-file",
            description: "A one-text paste without password: the fragment key is the AES key.",
            key: Key::from_bytes(seq(0x00)),
            password: None,
            burn: false,
            bundle: Bundle::text(
                None,
                Some("rust".into()),
                "fn main() {\n    println!(\"Hello, world!\");\n}\n",
            ),
            nonce: seq(0xa0),
            salt: [0; SALT_LEN],
        },
        Positive {
            name: "burn-after-reading",
            description: "No password, burn after reading on: `true` in the associated data.",
            key: Key::from_bytes(seq(0x20)),
            password: None,
            burn: true,
            bundle: Bundle {
                title: Some("Read once 🔥".into()),
                files: vec![File {
                    name: "secret.txt".into(),
                    language: None,
                    content: "This text is read once.\n".into(),
                }],
            },
            nonce: seq(0xb0),
            salt: [0; SALT_LEN],
        },
        Positive {
            name: "password-files-burn",
            description: "A password, three files, burn after reading on. JSON escapes: quote, backslash, tab, U+0001.",
            key: Key::from_bytes(seq(0x40)),
            password: Some("correct horse battery staple"),
            burn: true,
            bundle: Bundle {
                title: Some("Deploy notes — é".into()),
                files: vec![
                    File {
                        name: "main.rs".into(),
                        language: Some("rust".into()),
                        content: "fn main() {\n\tlet s = \"a\\\\b\";\n}\n".into(),
                    },
                    File {
                        name: "README.md".into(),
                        language: Some("markdown".into()),
                        content: "# Notes\n\n* Grüße, 世界\n* bell: \u{1}\n".into(),
                    },
                    File {
                        name: "empty.txt".into(),
                        language: None,
                        content: String::new(),
                    },
                ],
            },
            nonce: seq(0xc0),
            salt: seq(0x50),
        },
        Positive {
            name: "password-nfd",
            description: "A password typed in NFD (e + U+0301) derives the key of its NFC form \"café ☕\".",
            key: Key::from_bytes(seq(0x60)),
            password: Some("cafe\u{301} ☕"),
            burn: false,
            bundle: Bundle::text(Some("Coffee".into()), None, "Two shots.\n"),
            nonce: seq(0xd0),
            salt: seq(0x70),
        },
    ]
}

fn envelope_json(e: &Envelope) -> Value {
    serde_json::to_value(e).unwrap()
}

fn write() -> Value {
    let mut pos = Vec::new();
    let mut sealed = Vec::new();
    for p in positives() {
        let env = seal_with(
            &p.bundle,
            p.burn,
            p.password,
            &p.key,
            &p.nonce,
            Some(&p.salt),
            PBKDF2_ITERATIONS,
        )
        .unwrap();
        let payload = p.bundle.encode().unwrap();
        let aes_key = match p.password {
            Some(pw) => *derive_key(&p.key, pw, &p.salt, PBKDF2_ITERATIONS),
            None => *p.key.as_bytes(),
        };
        pos.push(json!({
            "name": p.name,
            "description": p.description,
            "key": p.key.encode(),
            "password": p.password,
            "burnAfterReading": p.burn,
            "bundle": p.bundle,
            "bundleJson": serde_json::to_string(&p.bundle).unwrap(),
            "payload": b64(&payload),
            "associatedData": String::from_utf8(associated_data(&env, p.burn)).unwrap(),
            "aesKey": b64(&aes_key),
            "envelope": envelope_json(&env),
        }));
        sealed.push((p, env));
    }
    let (one, burn, pw, nfd) = (&sealed[0], &sealed[1], &sealed[2], &sealed[3]);
    let mut neg = Vec::new();
    let mut case = |name: &str,
                    description: &str,
                    from: &(Positive, Envelope),
                    change: &dyn Fn(&mut Value),
                    error: &str| {
        let mut v = json!({
            "name": name,
            "description": description,
            "key": from.0.key.encode(),
            "password": from.0.password,
            "burnAfterReading": from.0.burn,
            "envelope": envelope_json(&from.1),
            "error": error,
        });
        change(&mut v);
        neg.push(v);
    };
    let flip = |text: &str, at: usize| {
        let mut bytes = unb64(text).unwrap();
        let at = at.min(bytes.len() - 1);
        bytes[at] ^= 0x01;
        b64(&bytes)
    };
    case(
        "wrong-password",
        "The password is wrong.",
        pw,
        &|v| v["password"] = json!("correct horse battery stapler"),
        "WRONG_KEY_OR_PASSWORD",
    );
    case(
        "missing-password",
        "The paste has a password and none was given.",
        pw,
        &|v| v["password"] = Value::Null,
        "PASSWORD_REQUIRED",
    );
    case(
        "wrong-key",
        "Another link's key.",
        one,
        &|v| v["key"] = json!(Key::from_bytes(seq(0x01)).encode()),
        "WRONG_KEY",
    );
    case(
        "wrong-key-with-password",
        "The right password with another link's key.",
        pw,
        &|v| v["key"] = json!(Key::from_bytes(seq(0x41)).encode()),
        "WRONG_KEY_OR_PASSWORD",
    );
    case(
        "tampered-ciphertext",
        "One bit of the ciphertext flipped.",
        one,
        &|v| {
            let c = v["envelope"]["ciphertext"].as_str().unwrap().to_owned();
            v["envelope"]["ciphertext"] = json!(flip(&c, 0));
        },
        "WRONG_KEY",
    );
    case(
        "tampered-tag",
        "One bit of the tag (the last 16 bytes) flipped.",
        one,
        &|v| {
            let c = v["envelope"]["ciphertext"].as_str().unwrap().to_owned();
            v["envelope"]["ciphertext"] = json!(flip(&c, usize::MAX));
        },
        "WRONG_KEY",
    );
    case(
        "tampered-nonce",
        "One bit of the nonce flipped.",
        one,
        &|v| {
            let n = v["envelope"]["nonce"].as_str().unwrap().to_owned();
            v["envelope"]["nonce"] = json!(flip(&n, 3));
        },
        "WRONG_KEY",
    );
    case(
        "burn-removed",
        "Sealed with burn after reading; the server serves it without.",
        burn,
        &|v| v["burnAfterReading"] = json!(false),
        "SETTINGS_CHANGED",
    );
    case(
        "burn-added",
        "Sealed without burn after reading; the server serves it with.",
        one,
        &|v| v["burnAfterReading"] = json!(true),
        "SETTINGS_CHANGED",
    );
    case(
        "burn-removed-with-password",
        "Sealed with a password and burn after reading; served without burn.",
        pw,
        &|v| v["burnAfterReading"] = json!(false),
        "SETTINGS_CHANGED",
    );
    case(
        "iterations-changed",
        "The iteration count changed (600001): another key and other associated data.",
        pw,
        &|v| v["envelope"]["iterations"] = json!(600_001),
        "WRONG_KEY_OR_PASSWORD",
    );
    case(
        "salt-swapped",
        "The salt of another paste.",
        pw,
        &|v| v["envelope"]["salt"] = json!(nfd.1.salt),
        "WRONG_KEY_OR_PASSWORD",
    );
    case(
        "kdf-removed",
        "A password paste presented as one without a password.",
        pw,
        &|v| {
            v["envelope"]["kdf"] = json!("none");
            v["envelope"]["salt"] = Value::Null;
            v["envelope"]["iterations"] = Value::Null;
        },
        "WRONG_KEY",
    );
    case(
        "unknown-version",
        "Version 2 is not known to a version-1 reader.",
        one,
        &|v| v["envelope"]["version"] = json!(2),
        "UNSUPPORTED_VERSION",
    );
    case(
        "unknown-algorithm",
        "Only aes-256-gcm is defined.",
        one,
        &|v| v["envelope"]["algorithm"] = json!("chacha20-poly1305"),
        "UNSUPPORTED_ALGORITHM",
    );
    case(
        "unknown-kdf",
        "Only none and pbkdf2-sha256 are defined.",
        pw,
        &|v| v["envelope"]["kdf"] = json!("argon2id"),
        "UNSUPPORTED_KDF",
    );
    case(
        "iterations-too-few",
        "Fewer than 600000 rounds are refused before deriving.",
        pw,
        &|v| v["envelope"]["iterations"] = json!(1000),
        "INVALID_ENVELOPE",
    );
    case(
        "iterations-too-many",
        "More than 2000000 rounds are refused before deriving.",
        pw,
        &|v| v["envelope"]["iterations"] = json!(100_000_000u32),
        "INVALID_ENVELOPE",
    );
    case(
        "salt-without-password",
        "kdf none with a salt.",
        one,
        &|v| v["envelope"]["salt"] = json!(b64(&[0; SALT_LEN])),
        "INVALID_ENVELOPE",
    );
    case(
        "nonce-padded",
        "Base64 padding is not base64url without padding.",
        one,
        &|v| {
            let n = v["envelope"]["nonce"].as_str().unwrap().to_owned();
            v["envelope"]["nonce"] = json!(format!("{n}=="));
        },
        "INVALID_ENVELOPE",
    );
    case(
        "nonce-short",
        "An 8-byte nonce.",
        one,
        &|v| v["envelope"]["nonce"] = json!(b64(&[0; 8])),
        "INVALID_ENVELOPE",
    );
    case(
        "ciphertext-standard-base64",
        "'+' and '/' are not base64url.",
        one,
        &|v| v["envelope"]["ciphertext"] = json!("++//".repeat(8)),
        "INVALID_ENVELOPE",
    );
    case(
        "ciphertext-only-a-tag",
        "16 bytes: a tag and no payload.",
        one,
        &|v| v["envelope"]["ciphertext"] = json!(b64(&[0; TAG_LEN])),
        "INVALID_ENVELOPE",
    );

    // Well sealed, but what is inside is not a bundle.
    let key = Key::from_bytes(seq(0x80));
    let raw = |payload: &[u8], nonce: u8| {
        envelope_json(&seal_payload(payload, false, None, &key, &seq(nonce), None, 0).unwrap())
    };
    let empty = miniz_oxide::deflate::compress_to_vec_zlib(br#"{"title":null,"files":[]}"#, 6);
    let traversal = miniz_oxide::deflate::compress_to_vec_zlib(
        br#"{"title":null,"files":[{"name":"../.bashrc","language":null,"content":"x"}]}"#,
        6,
    );
    for (name, description, payload, nonce) in [
        (
            "bundle-without-files",
            "Decrypts to a bundle with no file.",
            empty,
            0x10,
        ),
        (
            "bundle-path-in-name",
            "Decrypts to a file named ../.bashrc.",
            traversal,
            0x20,
        ),
        (
            "payload-not-zlib",
            "Decrypts to JSON that was not compressed.",
            br#"{"title":null,"files":[{"name":"a","language":null,"content":"x"}]}"#.to_vec(),
            0x30,
        ),
    ] {
        neg.push(json!({
            "name": name,
            "description": description,
            "key": key.encode(),
            "password": null,
            "burnAfterReading": false,
            "envelope": raw(&payload, nonce),
            "error": "INVALID_BUNDLE",
        }));
    }

    let good = Key::from_bytes(seq(0x00)).encode();
    let keys = json!([
        {"text": good, "bytes": b64(&seq::<KEY_LEN>(0x00)), "error": null},
        {"text": Key::from_bytes([0xff; KEY_LEN]).encode(), "bytes": b64(&[0xff; KEY_LEN]), "error": null},
        {"text": &good[..42], "error": "INVALID_KEY"},
        {"text": format!("{good}A"), "error": "INVALID_KEY"},
        {"text": format!("{good}="), "error": "INVALID_KEY"},
        {"text": good.replacen('A', "+", 1), "error": "INVALID_KEY"},
        {"text": format!("{}_", &good[..42]), "error": "INVALID_KEY", "why": "the last character's unused bits are not zero"},
        {"text": "", "error": "INVALID_KEY"},
    ]);

    json!({
        "about": "Test vectors of the encrypted-paste format, version 1 (docs/encryption.md). Binary values are base64url without padding. `positive`: opening `envelope` with `key`, `password` and `burnAfterReading` gives `bundle`; `bundleJson` is its serialization and `payload` the zlib stream that was encrypted (another zlib encoder may produce other bytes: compare decompressed payloads, but encrypting `payload` with `aesKey`, the envelope's nonce and `associatedData` must give exactly `ciphertext`). `negative`: opening fails with `error`. `keys`: the text after `#k=` and what it decodes to.",
        "positive": pos,
        "negative": neg,
        "keys": keys,
    })
}

#[test]
#[ignore = "rewrites docs/encryption-vectors.json; run by hand"]
fn write_vectors() {
    let text = serde_json::to_string_pretty(&write()).unwrap() + "\n";
    std::fs::write(PATH, text).unwrap();
}

fn vectors() -> Value {
    serde_json::from_str(&std::fs::read_to_string(PATH).expect("docs/encryption-vectors.json"))
        .unwrap()
}

fn opt_str(v: &Value) -> Option<&str> {
    v.as_str()
}

#[test]
fn vectors_hold() {
    let v = vectors();
    let positive = v["positive"].as_array().unwrap();
    assert!(positive.len() >= 4);
    for p in positive {
        let name = p["name"].as_str().unwrap();
        let key = Key::decode(p["key"].as_str().unwrap()).unwrap();
        let password = opt_str(&p["password"]);
        let burn = p["burnAfterReading"].as_bool().unwrap();
        let env: Envelope = serde_json::from_value(p["envelope"].clone()).unwrap();
        let bundle: Bundle = serde_json::from_value(p["bundle"].clone()).unwrap();
        env.validate(1 << 20).unwrap();
        // Opens to the bundle.
        assert_eq!(open(&env, &key, password, burn).unwrap(), bundle, "{name}");
        // The serialization, the payload and the associated data are the documented ones.
        assert_eq!(
            serde_json::to_string(&bundle).unwrap(),
            p["bundleJson"].as_str().unwrap(),
            "{name}"
        );
        let payload = unb64(p["payload"].as_str().unwrap()).unwrap();
        assert_eq!(Bundle::decode(&payload).unwrap(), bundle, "{name}");
        assert_eq!(
            String::from_utf8(associated_data(&env, burn)).unwrap(),
            p["associatedData"].as_str().unwrap(),
            "{name}"
        );
        // Sealing the payload with the vector's randomness gives the ciphertext exactly.
        let nonce: [u8; NONCE_LEN] = unb64(&env.nonce).unwrap().try_into().unwrap();
        let salt: Option<[u8; SALT_LEN]> = env
            .salt
            .as_deref()
            .map(|s| unb64(s).unwrap().try_into().unwrap());
        let resealed = seal_payload(
            &payload,
            burn,
            password,
            &key,
            &nonce,
            salt.as_ref(),
            env.iterations.unwrap_or(0),
        )
        .unwrap();
        assert_eq!(resealed, env, "{name}");
        let aes_key = match (&salt, password) {
            (Some(s), Some(pw)) => *derive_key(&key, pw, s, env.iterations.unwrap()),
            _ => *key.as_bytes(),
        };
        assert_eq!(b64(&aes_key), p["aesKey"].as_str().unwrap(), "{name}");
    }
    let negative = v["negative"].as_array().unwrap();
    assert!(negative.len() >= 20);
    for n in negative {
        let name = n["name"].as_str().unwrap();
        let key = Key::decode(n["key"].as_str().unwrap()).unwrap();
        let env: Envelope = serde_json::from_value(n["envelope"].clone()).unwrap();
        let got = open(
            &env,
            &key,
            opt_str(&n["password"]),
            n["burnAfterReading"].as_bool().unwrap(),
        );
        assert_eq!(
            got.as_ref().map_err(OpenError::code).err(),
            Some(n["error"].as_str().unwrap()),
            "{name}: {got:?}"
        );
    }
    for k in v["keys"].as_array().unwrap() {
        let text = k["text"].as_str().unwrap();
        match k["error"].as_str() {
            None => assert_eq!(
                b64(Key::decode(text).unwrap().as_bytes()),
                k["bytes"].as_str().unwrap()
            ),
            Some(code) => assert_eq!(
                Key::decode(text).map(|_| ()).map_err(|e| e.code()),
                Err(code),
                "{text}"
            ),
        }
    }
}

#[test]
fn the_committed_vectors_are_what_this_crate_writes() {
    // Same inputs, same outputs, except for zlib streams, which depend on the compressor.
    let mut fresh = write();
    let mut committed = vectors();
    for v in [&mut fresh, &mut committed] {
        for p in v["positive"].as_array_mut().unwrap() {
            p["payload"] = Value::Null;
            p["envelope"]["ciphertext"] = Value::Null;
        }
        for n in v["negative"].as_array_mut().unwrap() {
            n["envelope"]["ciphertext"] = Value::Null;
        }
    }
    assert_eq!(fresh, committed);
}
