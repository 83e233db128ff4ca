//! The config file: `key = "value"` lines (a small subset of TOML: `url` and `token`), kept
//! with mode 0600 because it holds a token.

use std::path::{Path, PathBuf};

use crate::Global;
use crate::client::Failure;

pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

#[derive(Default, Debug, PartialEq)]
pub struct File {
    pub url: Option<String>,
    pub token: Option<String>,
}

/// Where the config file is.
pub fn path(global: &Global) -> Result<PathBuf, Failure> {
    if let Some(p) = &global.config {
        return Ok(p.clone());
    }
    let dirs = directories::ProjectDirs::from("", "", "pb").ok_or_else(|| {
        Failure::Usage("no home directory to keep the config in: set PB_CONFIG".into())
    })?;
    Ok(dirs.config_dir().join("config.toml"))
}

pub fn parse(text: &str) -> File {
    let mut file = File::default();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value)
            .to_owned();
        match key.trim() {
            "url" => file.url = Some(value),
            "token" => file.token = Some(value),
            _ => {}
        }
    }
    file
}

fn render(file: &File) -> String {
    let mut out = String::from("# pb's settings (pb login writes the token here)\n");
    if let Some(url) = &file.url {
        out.push_str(&format!("url = \"{url}\"\n"));
    }
    if let Some(token) = &file.token {
        out.push_str(&format!("token = \"{token}\"\n"));
    }
    out
}

pub fn load(path: &Path) -> Result<File, Failure> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(parse(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(File::default()),
        Err(e) => Err(Failure::Local(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// Writes the file readable by its owner only (created that way, never widened after).
pub fn save(path: &Path, file: &File) -> Result<(), Failure> {
    let fail = |e: std::io::Error| Failure::Local(format!("cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp).map_err(fail)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(fail)?;
        }
        f.write_all(render(file).as_bytes()).map_err(fail)?;
        f.sync_all().map_err(fail)?;
    }
    std::fs::rename(&tmp, path).map_err(fail)
}

/// The server's base URL and the token to use.
pub struct Settings {
    pub url: String,
    pub token: Option<String>,
}

pub fn settings(global: &Global) -> Result<Settings, Failure> {
    let file = load(&path(global)?)?;
    let url = global
        .url
        .clone()
        .or_else(|| std::env::var("PASTEBIN_URL").ok().filter(|u| !u.is_empty()))
        .or(file.url)
        .unwrap_or_else(|| DEFAULT_URL.to_owned());
    let token = global
        .token
        .clone()
        .filter(|t| !t.is_empty())
        .or(file.token);
    Ok(Settings {
        url: url.trim_end_matches('/').to_owned(),
        token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_round_trips_and_tolerates_comments() {
        let f = File {
            url: Some("https://paste.example".into()),
            token: Some("pbt_abc".into()),
        };
        assert_eq!(parse(&render(&f)), f);
        let f = parse("# c\nurl=http://x\n\n token = 'y'\nother = 1\n");
        assert_eq!(f.url.as_deref(), Some("http://x"));
        assert_eq!(f.token.as_deref(), Some("'y'"));
    }
}
