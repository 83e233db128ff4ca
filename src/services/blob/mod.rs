//! Paste bodies in the object store (S3 or any S3-compatible server). rust-s3 lives here only.
//!
//! Keys are `{prefix}pastes/{id}`; objects hold the zstd body. Whether a body goes inline
//! (Postgres) or here is decided by [`Blobs::placement`]. Every request is counted in
//! `pastebin_object_store_requests_total{op}`.

pub mod codec;

use std::time::Duration;

use chrono::{DateTime, Utc};
use s3::creds::Credentials;
use s3::error::S3Error;
use s3::{Bucket, Region};

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
    pub paste_id: String,
    pub last_modified: Option<DateTime<Utc>>,
}

fn count(op: &'static str) {
    metrics::counter!("pastebin_object_store_requests_total", "op" => op).increment(1);
}

#[derive(Clone)]
pub struct Blobs {
    bucket: Option<Box<Bucket>>,
    prefix: String,
    inline_max: usize,
}

impl Blobs {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let config = &config.object_store;
        let bucket = if config.s3_endpoint.is_empty() && config.s3_access_key.is_empty() {
            None
        } else {
            let region = if config.s3_endpoint.is_empty() {
                config.s3_region.parse()?
            } else {
                Region::Custom {
                    region: config.s3_region.clone(),
                    endpoint: config.s3_endpoint.clone(),
                }
            };
            let credentials = if config.s3_access_key.is_empty() {
                Credentials::default()?
            } else {
                Credentials::new(
                    Some(&config.s3_access_key),
                    Some(&config.s3_secret_key),
                    None,
                    None,
                    None,
                )?
            };
            let bucket = Bucket::new(&config.s3_bucket, region, credentials)?
                .with_path_style()
                .with_request_timeout(config.timeout())?;
            Some(bucket)
        };
        Ok(Self {
            bucket,
            prefix: config.s3_prefix.clone(),
            inline_max: config.inline_max,
        })
    }

    /// Inline when the body (its size as text) is within the inline limit, or when no object
    /// store is configured; in the object store otherwise. A limit of 0 sends every body out.
    pub fn placement(&self, text_len: usize) -> Placement {
        match &self.bucket {
            None => Placement::Inline,
            Some(_) if self.inline_max > 0 && text_len <= self.inline_max => Placement::Inline,
            Some(_) => Placement::Object,
        }
    }

    pub fn is_configured(&self) -> bool {
        self.bucket.is_some()
    }

    fn bucket(&self) -> Result<&Bucket, BlobError> {
        self.bucket.as_deref().ok_or(BlobError::NotConfigured)
    }

    fn key(&self, id: &str) -> String {
        format!("{}pastes/{id}", self.prefix)
    }

    #[tracing::instrument(skip_all, fields(paste.id = %id, bytes = compressed.len()))]
    pub async fn put(&self, id: &str, compressed: &[u8]) -> Result<(), BlobError> {
        count("put");
        self.bucket()?
            .put_object_with_content_type(self.key(id), compressed, "application/zstd")
            .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(paste.id = %id))]
    pub async fn get(&self, id: &str) -> Result<Vec<u8>, BlobError> {
        count("get");
        let response = self.bucket()?.get_object(self.key(id)).await?;
        Ok(response.to_vec())
    }

    /// Deletes an object; a missing object is not an error (deletes are retried by sweeps).
    #[tracing::instrument(skip_all, fields(paste.id = %id))]
    pub async fn delete(&self, id: &str) -> Result<(), BlobError> {
        count("delete");
        match self.bucket()?.delete_object(self.key(id)).await {
            Ok(_) | Err(S3Error::HttpFailWithBody(404, _)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether an object exists (tests and the orphan sweep).
    pub async fn exists(&self, id: &str) -> Result<bool, BlobError> {
        count("head");
        match self.bucket()?.head_object(self.key(id)).await {
            Ok(_) => Ok(true),
            Err(S3Error::HttpFailWithBody(404, _)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// One page of objects under this deployment's prefix, and the token for the next page.
    pub async fn list_page(
        &self,
        continuation: Option<String>,
        max_keys: usize,
    ) -> Result<(Vec<StoredObject>, Option<String>), BlobError> {
        count("list");
        let prefix = format!("{}pastes/", self.prefix);
        let (page, _) = self
            .bucket()?
            .list_page(prefix.clone(), None, continuation, None, Some(max_keys))
            .await?;
        let objects = page
            .contents
            .into_iter()
            .filter_map(|o| {
                let paste_id = o.key.strip_prefix(&prefix)?.to_owned();
                let last_modified = DateTime::parse_from_rfc3339(&o.last_modified)
                    .ok()
                    .map(|t| t.with_timezone(&Utc));
                Some(StoredObject {
                    paste_id,
                    last_modified,
                })
            })
            .collect();
        Ok((objects, page.next_continuation_token))
    }

    /// Whether the store answers now (health checks).
    pub async fn ping(&self) -> Option<bool> {
        let bucket = self.bucket.as_deref()?;
        let probe = bucket.head_object(format!("{}healthz", self.prefix));
        Some(matches!(
            tokio::time::timeout(Duration::from_secs(2), probe).await,
            Ok(Ok(_)) | Ok(Err(S3Error::HttpFailWithBody(404, _)))
        ))
    }
}
