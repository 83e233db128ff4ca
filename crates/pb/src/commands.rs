//! `pb paste`, `get`, `rm`, `ls`, `login`, `logout`.

use std::io::{IsTerminal, Read, Write};

use bytes::Bytes;
use futures_util::stream;
use pastebin_envelope::{Bundle, Envelope, File, Key};
use serde_json::{Value, json};

use crate::client::{Client, Failure, paste_id};
use crate::config;
use crate::{GetArgs, Global, LoginArgs, LsArgs, PasteArgs, RmArgs, Visibility};

/// Uploads at least this large show a progress bar (on a terminal).
const PROGRESS_FROM: usize = 256 * 1024;
const CHUNK: usize = 64 * 1024;

fn client(global: &Global) -> Result<Client, Failure> {
    Client::new(config::settings(global)?)
}

/// `never`, seconds, or a number with a unit (s, m, h, d, w).
pub fn parse_expiry(s: &str) -> Result<Option<i64>, Failure> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    let bad = || {
        Failure::Usage(format!(
            "--expires {s:?}: use never, seconds, or e.g. 10m, 2h, 1d, 1w"
        ))
    };
    let (number, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: i64 = number.parse().map_err(|_| bad())?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(factor).map(Some).ok_or_else(bad)
}

fn visibility(v: Visibility) -> &'static str {
    match v {
        Visibility::Public => "PUBLIC",
        Visibility::Unlisted => "UNLISTED",
        Visibility::Private => "PRIVATE",
    }
}

/// The files to paste: `(name, text)`; `None` as the name for standard input.
fn read_inputs(args: &PasteArgs) -> Result<Vec<(Option<String>, String)>, Failure> {
    if args.files.is_empty() {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::Local(format!("standard input is not UTF-8 text: {e}")))?;
        return Ok(vec![(args.name.clone(), text)]);
    }
    args.files
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path)
                .map_err(|e| Failure::Local(format!("{}: {e}", path.display())))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| Failure::Local(format!("{}: not UTF-8 text", path.display())))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| Failure::Usage(format!("{}: not a file", path.display())))?;
            Ok((Some(name), text))
        })
        .collect()
}

pub async fn paste(global: &Global, args: PasteArgs) -> Result<(), Failure> {
    let client = client(global)?;
    let expires_in = parse_expiry(&args.expires)?;
    let inputs = read_inputs(&args)?;
    let encrypt = args.encrypt || args.password.is_some();
    let mut input = json!({
        "expiresIn": expires_in,
        "visibility": visibility(args.visibility),
        "burnAfterReading": args.burn,
        "maxViews": args.max_views,
    });
    let mut key: Option<Key> = None;
    if encrypt {
        // Title, language and names go inside the ciphertext (docs/encryption.md).
        let bundle = match inputs.as_slice() {
            [(None, text)] => Bundle::text(args.title.clone(), args.language.clone(), text),
            _ => Bundle {
                title: args.title.clone(),
                files: inputs
                    .iter()
                    .map(|(name, text)| File {
                        name: name.clone().unwrap_or_else(|| "paste.txt".into()),
                        language: if inputs.len() == 1 {
                            args.language.clone()
                        } else {
                            None
                        },
                        content: text.clone(),
                    })
                    .collect(),
            },
        };
        let password = args.password.as_deref().filter(|p| !p.is_empty());
        let (envelope, k) = pastebin_envelope::seal(&bundle, args.burn, password)
            .map_err(|e| Failure::Local(format!("{}: {e}", e.code())))?;
        input["encrypted"] =
            serde_json::to_value(&envelope).map_err(|e| Failure::Local(e.to_string()))?;
        key = Some(k);
    } else {
        input["title"] = json!(args.title);
        input["language"] = json!(args.language);
        match inputs.as_slice() {
            [(None, text)] => input["content"] = json!(text),
            _ => {
                input["files"] = Value::Array(
                    inputs
                        .iter()
                        .map(|(name, text)| json!({ "name": name, "content": text }))
                        .collect(),
                )
            }
        }
    }
    let body = serde_json::to_vec(&json!({
        "query": "mutation($i: CreatePasteInput!) { createPaste(input: $i) { paste { id url } deleteToken } }",
        "variables": { "i": input },
    }))
    .map_err(|e| Failure::Local(e.to_string()))?;
    let show_progress =
        !args.no_progress && body.len() >= PROGRESS_FROM && std::io::stderr().is_terminal();
    let data = if show_progress {
        client.gql_body(with_progress(body)).await?
    } else {
        client.gql_body(reqwest::Body::from(body)).await?
    };
    let created = &data["createPaste"];
    let mut url = created["paste"]["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if let Some(k) = key {
        url.push('#');
        url.push_str(&k.to_fragment());
    }
    println!("{url}");
    if let Some(t) = created["deleteToken"].as_str() {
        eprintln!("delete token (shown once): {t}");
    }
    Ok(())
}

/// The request body in chunks that move a progress bar on standard error.
fn with_progress(body: Vec<u8>) -> reqwest::Body {
    let bar = indicatif::ProgressBar::new(body.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "uploading {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let body = Bytes::from(body);
    let chunks: Vec<Bytes> = (0..body.len())
        .step_by(CHUNK)
        .map(|i| body.slice(i..(i + CHUNK).min(body.len())))
        .collect();
    let stream = stream::iter(chunks.into_iter().map(move |chunk| {
        bar.inc(chunk.len() as u64);
        if bar.position() >= bar.length().unwrap_or(0) {
            bar.finish_and_clear();
        }
        Ok::<_, std::io::Error>(chunk)
    }));
    reqwest::Body::wrap_stream(stream)
}

const PASTE_FIELDS: &str = "id burnAfterReading files { name content }";

pub async fn get(global: &Global, args: GetArgs) -> Result<(), Failure> {
    let client = client(global)?;
    let id = paste_id(&args.paste)?;
    let key = match args.paste.split_once('#') {
        Some((_, fragment)) if fragment.split('&').any(|p| p.starts_with("k=")) => Some(
            Key::from_fragment(fragment)
                .map_err(|e| Failure::Local(format!("{}: {e}", e.code())))?,
        ),
        _ => None,
    };
    let fields = if key.is_some() {
        "id burnAfterReading encrypted { version algorithm kdf salt iterations nonce ciphertext }"
    } else {
        PASTE_FIELDS
    };
    // Reading `content` (or `encrypted`) reveals a guarded paste: a burn-after-reading paste
    // is gone after it, a maxViews paste spends a view. So a plain `get` asks first, and only
    // `--reveal` reads one.
    if !args.reveal {
        let meta = client
            .gql(
                "query($id: ID!) { paste(id: $id) { burnAfterReading maxViews } }",
                json!({ "id": id }),
            )
            .await?;
        let meta = &meta["paste"];
        if meta["burnAfterReading"] == true {
            return Err(Failure::Local(
                "this paste is deleted after reading: read it with --reveal (it is then gone)"
                    .into(),
            ));
        }
        if meta["maxViews"].is_i64() {
            return Err(Failure::Local(
                "this paste can be read a limited number of times: read it with --reveal (it spends one)"
                    .into(),
            ));
        }
    }
    let data = if args.reveal {
        client
            .gql(
                &format!("mutation($id: ID!) {{ paste: revealPaste(id: $id) {{ {fields} }} }}"),
                json!({ "id": id }),
            )
            .await?
    } else {
        client
            .gql(
                &format!("query($id: ID!) {{ paste(id: $id) {{ {fields} }} }}"),
                json!({ "id": id }),
            )
            .await?
    };
    let paste = &data["paste"];
    let files: Vec<(String, String)> = match key {
        Some(key) => {
            let envelope: Envelope =
                serde_json::from_value(paste["encrypted"].clone()).map_err(|_| {
                    Failure::Local(if paste["burnAfterReading"] == true && !args.reveal {
                        "this paste is deleted after reading: read it with --reveal".into()
                    } else {
                        "the link has a key but the paste is not encrypted".into()
                    })
                })?;
            let burn = paste["burnAfterReading"].as_bool().unwrap_or(false);
            let bundle = pastebin_envelope::open(&envelope, &key, args.password.as_deref(), burn)
                .map_err(|e| Failure::Local(format!("{}: {e}", e.code())))?;
            bundle
                .files
                .into_iter()
                .map(|f| (f.name, f.content))
                .collect()
        }
        None => {
            let files = paste["files"].as_array().cloned().unwrap_or_default();
            if files.iter().all(|f| f["content"].is_null()) {
                return Err(Failure::Local(
                    "this paste is deleted after reading: read it with --reveal (it is then gone)"
                        .into(),
                ));
            }
            files
                .iter()
                .map(|f| {
                    (
                        f["name"].as_str().unwrap_or_default().to_owned(),
                        f["content"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        }
    };
    let mut out = std::io::stdout().lock();
    let write = |out: &mut std::io::StdoutLock, s: &str| {
        out.write_all(s.as_bytes())
            .map_err(|e| Failure::Local(format!("standard output: {e}")))
    };
    match (&args.file, files.as_slice()) {
        (Some(name), _) => {
            let (_, text) = files
                .iter()
                .find(|(n, _)| n == name)
                .ok_or_else(|| Failure::Usage(format!("the paste has no file named {name:?}")))?;
            write(&mut out, text)?;
        }
        (None, [(_, text)]) => write(&mut out, text)?,
        (None, many) => {
            for (i, (name, text)) in many.iter().enumerate() {
                if i > 0 {
                    write(&mut out, "\n")?;
                }
                write(&mut out, &format!("==> {name} <==\n"))?;
                write(&mut out, text)?;
                if !text.ends_with('\n') {
                    write(&mut out, "\n")?;
                }
            }
        }
    }
    out.flush().map_err(|e| Failure::Local(e.to_string()))
}

pub async fn rm(global: &Global, args: RmArgs) -> Result<(), Failure> {
    let client = client(global)?;
    let id = paste_id(&args.paste)?;
    client
        .gql(
            "mutation($id: ID!, $t: String) { deletePaste(id: $id, deleteToken: $t) }",
            json!({ "id": id, "t": args.delete_token }),
        )
        .await?;
    eprintln!("deleted {id}");
    Ok(())
}

pub async fn ls(global: &Global, args: LsArgs) -> Result<(), Failure> {
    let client = client(global)?;
    if client.token.is_none() {
        return Err(Failure::Usage(
            "pb ls lists your pastes: run `pb login` first".into(),
        ));
    }
    let data = client
        .gql(
            "query($n: Int) { myPastes(first: $n) { nodes { id url title visibility createdAt expiresAt } } }",
            json!({ "n": args.first }),
        )
        .await?;
    let mut out = std::io::stdout().lock();
    for p in data["myPastes"]["nodes"].as_array().into_iter().flatten() {
        let line = format!(
            "{}\t{}\t{}\t{}\t{}\n",
            p["id"].as_str().unwrap_or_default(),
            p["createdAt"].as_str().unwrap_or_default(),
            p["visibility"].as_str().unwrap_or_default().to_lowercase(),
            p["title"].as_str().unwrap_or("-"),
            p["url"].as_str().unwrap_or_default(),
        );
        out.write_all(line.as_bytes())
            .map_err(|e| Failure::Local(e.to_string()))?;
    }
    Ok(())
}

pub async fn login(global: &Global, args: LoginArgs) -> Result<(), Failure> {
    let token = match args.access_token {
        Some(t) => t,
        None => {
            if std::io::stdin().is_terminal() {
                eprint!("Personal access token (make one in the web app, Settings): ");
            }
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| Failure::Local(e.to_string()))?;
            line
        }
    };
    let token = token.trim().to_owned();
    if !token.starts_with("pbt_") {
        return Err(Failure::Usage(
            "that is not a personal access token (they start with pbt_)".into(),
        ));
    }
    let path = config::path(global)?;
    let mut settings = config::settings(global)?;
    settings.token = Some(token.clone());
    let url = settings.url.clone();
    let client = Client::new(settings)?;
    let data = client.gql("{ me { username } }", json!({})).await?;
    let username = data["me"]["username"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut file = config::load(&path)?;
    file.token = Some(token);
    if file.url.is_none() && global.url.is_some() {
        file.url = Some(url.clone());
    }
    config::save(&path, &file)?;
    eprintln!(
        "signed in to {url} as {username}; token stored in {}",
        path.display()
    );
    Ok(())
}

pub fn logout(global: &Global) -> Result<(), Failure> {
    let path = config::path(global)?;
    let mut file = config::load(&path)?;
    if file.token.take().is_some() {
        config::save(&path, &file)?;
        eprintln!("token removed from {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries() {
        assert_eq!(parse_expiry("never").unwrap(), None);
        assert_eq!(parse_expiry("90").unwrap(), Some(90));
        assert_eq!(parse_expiry("10m").unwrap(), Some(600));
        assert_eq!(parse_expiry("1d").unwrap(), Some(86_400));
        assert_eq!(parse_expiry("2w").unwrap(), Some(1_209_600));
        assert!(parse_expiry("1y").is_err());
        assert!(parse_expiry("-5").is_err());
        assert!(parse_expiry("").is_err());
    }
}
