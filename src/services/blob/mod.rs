//! Paste bodies in the object store (S3 or any S3-compatible server). rust-s3 lives here only.
//!
//! Keys are per attempt and per file: `{prefix}pastes/{id}/{attempt}/{position}`, where
//! `attempt` is a random token drawn for each create, edit or fork attempt and `position` the
//! file's place in its revision. The key (without the deployment's prefix) is recorded in the
//! file's row and never written twice, so an attempt that loses an id collision, or fails, can
//! only ever remove its own objects. Pastes from before files and revisions keep their legacy
//! key `{prefix}pastes/{id}`. [`parse_key`] reads both, for the orphan sweep. Objects hold the
//! zstd body. Whether a body goes inline (Postgres) or here is decided by [`Blobs::placement`].
//! Every request is counted in `pastebin_object_store_requests_total{op}`.
//!
//! The store is on exactly when a bucket is configured. Without an endpoint it is AWS S3 in
//! `PASTEBIN_S3_REGION`; without keys the credentials come from the AWS default chain
//! ([`credentials`]), fetched in the background and swapped in before they expire, so no
//! request ever waits on STS. Without a bucket nothing here looks at AWS at all.

pub mod codec;
pub mod credentials;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use s3::creds::Credentials;
use s3::error::S3Error;
use s3::{Bucket, Region};
use tokio_util::sync::CancellationToken;

use self::credentials::{Chain, Keys};
use crate::config::Config;

/// Where a body is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    Inline,
    Object,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("object store is not configured")]
    NotConfigured,
    #[error("object not found")]
    NotFound,
    #[error("object store unavailable: {0}")]
    Unavailable(String),
}

impl From<S3Error> for BlobError {
    fn from(e: S3Error) -> Self {
        match e {
            S3Error::HttpFailWithBody(404, _) => Self::NotFound,
            other => Self::Unavailable(other.to_string()),
        }
    }
}

/// An object in the store, as the orphan sweep sees it.
#[derive(Clone, Debug)]
pub struct StoredObject {
    /// The key below the deployment's prefix (what file rows record).
    pub key: String,
    pub last_modified: Option<DateTime<Utc>>,
}

/// The key of one file's body written by one attempt (below the deployment's prefix).
pub fn file_key(paste_id: &str, attempt: &str, position: usize) -> String {
    format!("pastes/{paste_id}/{attempt}/{position}")
}

/// What a key below the deployment's prefix names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParsedKey<'a> {
    /// `pastes/{id}/{attempt}/{position}`.
    File {
        paste_id: &'a str,
        attempt: &'a str,
        position: u16,
    },
    /// `pastes/{id}`: a body from before files and revisions.
    Legacy { paste_id: &'a str },
}

/// Reads a key written by [`file_key`] (or a legacy one); `None` for anything else, which the
/// orphan sweep leaves alone.
pub fn parse_key(key: &str) -> Option<ParsedKey<'_>> {
    let rest = key.strip_prefix("pastes/")?;
    let token =
        |s: &str| !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric());
    let mut parts = rest.split('/');
    let paste_id = parts.next().filter(|s| token(s))?;
    match (parts.next(), parts.next(), parts.next()) {
        (None, _, _) => Some(ParsedKey::Legacy { paste_id }),
        (Some(attempt), Some(position), None) if token(attempt) => Some(ParsedKey::File {
            paste_id,
            attempt,
            position: position
                .parse()
                .ok()
                .filter(|_| position.bytes().all(|b| b.is_ascii_digit()))?,
        }),
        _ => None,
    }
}

fn count(op: &'static str) {
    metrics::counter!("pastebin_object_store_requests_total", "op" => op).increment(1);
}

/// The configured bucket and the credentials it signs with.
struct S3 {
    /// Region, name, addressing style and timeout; no credentials.
    template: Bucket,
    /// The bucket with the current credentials; None until the first ones arrived.
    current: RwLock<Option<Arc<Bucket>>>,
    /// Where credentials come from when no keys are configured; Err: nowhere (why).
    chain: Option<Result<Chain, String>>,
    http: reqwest::Client,
    /// Unix ms of the last answer from the store (real traffic: evidence for `/readyz`).
    last_answer: AtomicI64,
}

impl S3 {
    fn install(&self, keys: &Keys) -> anyhow::Result<()> {
        let mut bucket = self.template.clone();
        bucket.set_credentials(keys.to_credentials()?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(bucket));
        Ok(())
    }
}

#[derive(Clone)]
pub struct Blobs {
    s3: Option<Arc<S3>>,
    prefix: String,
    inline_max: usize,
}

impl Blobs {
    /// The store as configured, without any I/O: on when a bucket is set. Refuses settings that
    /// can never work (an endpoint that is not a URL, a region AWS does not have, half a key
    /// pair). Credentials from the chain arrive with [`Blobs::start`].
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let c = &config.object_store;
        let mut blobs = Self {
            s3: None,
            prefix: c.s3_prefix.clone(),
            inline_max: c.inline_max,
        };
        if !c.enabled() {
            return Ok(blobs);
        }
        let bucket_setting = format!("PASTEBIN_S3_BUCKET={:?}", c.s3_bucket);
        let (region, path_style) = if c.s3_endpoint.is_empty() {
            (aws_region(&c.s3_region)?, false)
        } else {
            let url = reqwest::Url::parse(&c.s3_endpoint)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "PASTEBIN_S3_ENDPOINT {:?} is not an http(s) URL",
                        c.s3_endpoint
                    )
                })?;
            let region = Region::Custom {
                region: c.s3_region.clone(),
                endpoint: url.as_str().trim_end_matches('/').to_owned(),
            };
            // Other S3 servers expect path-style addressing; AWS prefers virtual-hosted.
            (region, true)
        };
        let mut template = Bucket::new(&c.s3_bucket, region, Credentials::anonymous()?)
            .map_err(|e| anyhow::anyhow!("{bucket_setting}: {e}"))?
            .with_request_timeout(c.timeout())?;
        if path_style {
            template = template.with_path_style();
        }
        let configured_keys = match (c.s3_access_key.is_empty(), c.s3_secret_key.is_empty()) {
            (true, true) => None,
            (false, false) => Some(Keys {
                access_key: c.s3_access_key.clone(),
                secret_key: c.s3_secret_key.clone(),
                session_token: None,
                expires: None,
            }),
            _ => anyhow::bail!(
                "PASTEBIN_S3_ACCESS_KEY and PASTEBIN_S3_SECRET_KEY go together: set both, or \
                 neither for the AWS credential chain"
            ),
        };
        let chain = configured_keys
            .is_none()
            .then(|| Chain::discover(&|name| std::env::var(name).ok(), &c.s3_region));
        let s3 = S3 {
            template: *template,
            current: RwLock::new(None),
            chain,
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(2))
                .build()?,
            last_answer: AtomicI64::new(0),
        };
        let fixed = match &s3.chain {
            None => configured_keys,
            Some(Ok(Chain::Fixed { keys, .. })) => Some(keys.clone()),
            Some(_) => None,
        };
        if let Some(keys) = fixed {
            s3.install(&keys)?;
        }
        blobs.s3 = Some(Arc::new(s3));
        Ok(blobs)
    }

    /// Gets the first credentials from the chain (bounded: each request takes at most a few
    /// seconds) and keeps them fresh until `shutdown`. Err when the store cannot be used:
    /// no credential source, or the first fetch failed. The caller decides whether that stops
    /// the process (production) or only leaves the store down (development).
    pub async fn start(&self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let Some(s3) = &self.s3 else {
            return Ok(());
        };
        let chain = match &s3.chain {
            None => return Ok(()),
            Some(Err(why)) => anyhow::bail!("{why}"),
            Some(Ok(chain @ Chain::Fixed { .. })) => {
                tracing::info!(from = %chain.describe(), "object store credentials");
                return Ok(());
            }
            Some(Ok(chain)) => chain,
        };
        let first = chain.fetch(&s3.http).await;
        let next = match &first {
            Ok(keys) => {
                s3.install(keys)?;
                tracing::info!(from = %chain.describe(), expires = ?keys.expires, "object store credentials");
                keys.refresh_at(Utc::now())
            }
            Err(_) => Some(Utc::now() + chrono::Duration::seconds(1)),
        };
        spawn_refresher(Arc::clone(s3), next, shutdown.clone());
        first
            .map(|_| ())
            .map_err(|e| anyhow::anyhow!("{}: {e:#}", chain.describe()))
    }

    /// Inline when the body (its size as text) is within the inline limit, or when no object
    /// store is configured; in the object store otherwise. A limit of 0 sends every body out.
    pub fn placement(&self, text_len: usize) -> Placement {
        match &self.s3 {
            None => Placement::Inline,
            Some(_) if self.inline_max > 0 && text_len <= self.inline_max => Placement::Inline,
            Some(_) => Placement::Object,
        }
    }

    /// Whether a bucket is configured (whether or not it can be used right now).
    pub fn is_configured(&self) -> bool {
        self.s3.is_some()
    }

    fn bucket(&self) -> Result<Arc<Bucket>, BlobError> {
        let s3 = self.s3.as_ref().ok_or(BlobError::NotConfigured)?;
        let current = s3.current.read().unwrap_or_else(|e| e.into_inner());
        current
            .clone()
            .ok_or_else(|| BlobError::Unavailable("no object store credentials yet".into()))
    }

    /// Notes an answer from the store (health evidence) and passes the result on.
    fn answered<T>(&self, r: Result<T, S3Error>) -> Result<T, S3Error> {
        let answered = match &r {
            Ok(_) => true,
            Err(S3Error::HttpFailWithBody(code, _)) => *code < 500 && *code != 403,
            Err(_) => false,
        };
        if answered && let Some(s3) = &self.s3 {
            s3.last_answer
                .store(Utc::now().timestamp_millis(), Ordering::Relaxed);
        }
        r
    }

    /// Unix ms of the store's last answer to real traffic (0: never, or not configured).
    pub fn last_answer_ms(&self) -> i64 {
        self.s3
            .as_ref()
            .map_or(0, |s3| s3.last_answer.load(Ordering::Relaxed))
    }

    fn full_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Writes the object of `key` (below the prefix; see [`file_key`]).
    #[tracing::instrument(skip_all, fields(key = %key, bytes = compressed.len()))]
    pub async fn put(&self, key: &str, compressed: &[u8]) -> Result<(), BlobError> {
        count("put");
        let bucket = self.bucket()?;
        self.answered(
            bucket
                .put_object_with_content_type(self.full_key(key), compressed, "application/zstd")
                .await,
        )?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(key = %key))]
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, BlobError> {
        count("get");
        let bucket = self.bucket()?;
        let response = self.answered(bucket.get_object(self.full_key(key)).await)?;
        Ok(response.to_vec())
    }

    /// Deletes an object; a missing object is not an error (deletes are retried by sweeps).
    #[tracing::instrument(skip_all, fields(key = %key))]
    pub async fn delete(&self, key: &str) -> Result<(), BlobError> {
        count("delete");
        let bucket = self.bucket()?;
        match self.answered(bucket.delete_object(self.full_key(key)).await) {
            Ok(_) | Err(S3Error::HttpFailWithBody(404, _)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the object of `key` exists.
    pub async fn exists_key(&self, key: &str) -> Result<bool, BlobError> {
        count("head");
        let bucket = self.bucket()?;
        match self.answered(bucket.head_object(self.full_key(key)).await) {
            Ok(_) => Ok(true),
            Err(S3Error::HttpFailWithBody(404, _)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether any object of a paste exists, under either key format (tests and tools).
    pub async fn exists(&self, paste_id: &str) -> Result<bool, BlobError> {
        if self.exists_key(&format!("pastes/{paste_id}")).await? {
            return Ok(true);
        }
        count("list");
        let (page, _) = self
            .bucket()?
            .list_page(
                self.full_key(&format!("pastes/{paste_id}/")),
                None,
                None,
                None,
                Some(1),
            )
            .await?;
        Ok(!page.contents.is_empty())
    }

    /// One page of objects under this deployment's prefix, and the token for the next page.
    pub async fn list_page(
        &self,
        continuation: Option<String>,
        max_keys: usize,
    ) -> Result<(Vec<StoredObject>, Option<String>), BlobError> {
        count("list");
        let prefix = self.full_key("pastes/");
        let bucket = self.bucket()?;
        let (page, _) = self.answered(
            bucket
                .list_page(prefix, None, continuation, None, Some(max_keys))
                .await,
        )?;
        let objects = page
            .contents
            .into_iter()
            .filter_map(|o| {
                let key = o.key.strip_prefix(&self.prefix)?.to_owned();
                let last_modified = DateTime::parse_from_rfc3339(&o.last_modified)
                    .ok()
                    .map(|t| t.with_timezone(&Utc));
                Some(StoredObject { key, last_modified })
            })
            .collect();
        Ok((objects, page.next_continuation_token))
    }

    /// Whether the store answers within `within` (health probes): a HEAD of a key that need
    /// not exist. False while there are no credentials.
    pub async fn ping(&self, within: Duration) -> Option<bool> {
        self.s3.as_ref()?;
        let Ok(bucket) = self.bucket() else {
            return Some(false);
        };
        let probe = bucket.head_object(format!("{}healthz", self.prefix));
        Some(matches!(
            tokio::time::timeout(within, probe).await,
            Ok(Ok(_)) | Ok(Err(S3Error::HttpFailWithBody(404, _)))
        ))
    }
}

/// `PASTEBIN_S3_REGION` as an AWS region: a known name, or one shaped like AWS's
/// (`xx-name-N`, e.g. a region newer than rust-s3's list) at `s3.{region}.amazonaws.com`.
fn aws_region(name: &str) -> anyhow::Result<Region> {
    match name.parse::<Region>()? {
        Region::Custom { .. } => {
            let parts: Vec<&str> = name.split('-').collect();
            let shaped = parts.len() >= 3
                && parts.iter().all(|p| {
                    !p.is_empty()
                        && p.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                })
                && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit());
            anyhow::ensure!(
                shaped,
                "PASTEBIN_S3_REGION {name:?} is not an AWS region (for another S3 server set \
                 PASTEBIN_S3_ENDPOINT)"
            );
            let domain = if name.starts_with("cn-") {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            Ok(Region::Custom {
                region: name.to_owned(),
                endpoint: format!("https://s3.{name}.{domain}"),
            })
        }
        known => Ok(known),
    }
}

/// Fetches new credentials at `next` (and after each success, before they expire); after a
/// failure it tries again with a growing pause (the current keys stay until they expire).
fn spawn_refresher(s3: Arc<S3>, mut next: Option<DateTime<Utc>>, shutdown: CancellationToken) {
    let Some(Ok(_)) = &s3.chain else {
        return;
    };
    tokio::spawn(async move {
        let Some(Ok(chain)) = &s3.chain else {
            return;
        };
        let mut backoff = Duration::from_secs(1);
        while let Some(at) = next {
            let wait = (at - Utc::now()).to_std().unwrap_or_default();
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
            match chain.fetch(&s3.http).await {
                Ok(keys) => {
                    metrics::counter!("pastebin_object_store_credential_refreshes_total", "result" => "ok").increment(1);
                    if let Err(e) = s3.install(&keys) {
                        tracing::warn!(error = %e, "object store credentials refused");
                    }
                    backoff = Duration::from_secs(1);
                    next = keys.refresh_at(Utc::now());
                }
                Err(e) => {
                    metrics::counter!("pastebin_object_store_credential_refreshes_total", "result" => "error").increment(1);
                    tracing::warn!(from = %chain.describe(), error = %format!("{e:#}"), retry_in = ?backoff, "object store credentials not refreshed");
                    next =
                        Some(Utc::now() + chrono::Duration::from_std(backoff).unwrap_or_default());
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_anything_else_is_left_alone() {
        let key = file_key("Ab3dE9xYz1", "q7Rt2Kx9", 12);
        assert_eq!(key, "pastes/Ab3dE9xYz1/q7Rt2Kx9/12");
        assert_eq!(
            parse_key(&key),
            Some(ParsedKey::File {
                paste_id: "Ab3dE9xYz1",
                attempt: "q7Rt2Kx9",
                position: 12
            })
        );
        assert_eq!(
            parse_key("pastes/Ab3dE9xYz1"),
            Some(ParsedKey::Legacy {
                paste_id: "Ab3dE9xYz1"
            })
        );
        for other in [
            "healthz",
            "pastes/",
            "pastes/a/b",
            "pastes/a/b/c/d",
            "pastes/a/b/-1",
            "pastes/a/b/+1",
            "pastes/a/../0",
            "pastes/a b/x/0",
            "other/a/b/0",
        ] {
            assert_eq!(parse_key(other), None, "{other}");
        }
    }
}
