//! AWS credentials for the object store when no keys are configured: the default chain, found
//! without I/O, fetched without blocking, refreshed before expiry.
//!
//! The chain, first match wins:
//! 1. the environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (`AWS_SESSION_TOKEN`);
//! 2. the shared credentials file: `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`,
//!    profile `AWS_PROFILE` (`default`);
//! 3. web identity, what EKS IRSA mounts: `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE`,
//!    exchanged at the STS endpoint of the pod's own region (`AWS_REGION`, else
//!    `PASTEBIN_S3_REGION`; `AWS_ENDPOINT_URL_STS` overrides it). The token file is read again
//!    at every refresh (the kubelet rotates it);
//! 4. container credentials (ECS, EKS Pod Identity): `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`
//!    or `_FULL_URI`, with `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` / `_TOKEN`.
//!
//! Instance metadata (IMDS) is not a link: pods cannot reach it (hop limit 1), so asking would
//! only cost a timeout, and handing a pod its node's role is the wrong default anyway.
//!
//! Why not rust-s3's `Credentials::default()`: it walks its chain with blocking HTTP and 30 s
//! timeouts from inside the async runtime, asks the global STS endpoint (in us-east-1: a
//! region B that lost region A would lose its object store within the hour), tries IMDS, and
//! refreshes only once the credentials have expired, inside the first request that notices.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use s3::creds::Credentials;

/// Bound on one request to STS or the container endpoint.
const FETCH_WITHIN: Duration = Duration::from_secs(5);
/// Refresh this long before expiry (or half-way through a shorter lifetime).
const REFRESH_LEAD: Duration = Duration::from_secs(5 * 60);

/// Keys as the object store signs with them.
#[derive(Clone)]
pub struct Keys {
    pub access_key: String,
    pub secret_key: String,
    pub session_token: Option<String>,
    /// When they stop working (None: static keys).
    pub expires: Option<DateTime<Utc>>,
}

impl Keys {
    pub fn to_credentials(&self) -> anyhow::Result<Credentials> {
        Ok(Credentials::new(
            Some(&self.access_key),
            Some(&self.secret_key),
            None,
            self.session_token.as_deref(),
            None,
        )?)
    }

    /// When to fetch new keys: [`REFRESH_LEAD`] before expiry, or half-way through a lifetime
    /// shorter than twice that. None for keys that do not expire.
    pub fn refresh_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let expires = self.expires?;
        let lifetime = (expires - now).to_std().unwrap_or_default();
        let lead = REFRESH_LEAD.min(lifetime / 2);
        Some(expires - chrono::Duration::from_std(lead).unwrap_or_default())
    }
}

/// Where the keys come from.
pub enum Chain {
    /// Found at start-up, never refreshed (the environment, the credentials file).
    Fixed { keys: Keys, from: &'static str },
    /// Exchanged at STS, refreshed before they expire.
    WebIdentity {
        role_arn: String,
        token_file: PathBuf,
        session_name: String,
        sts_endpoint: String,
    },
    /// Fetched from the container credentials endpoint, refreshed before they expire.
    Container {
        url: String,
        token: Option<ContainerToken>,
    },
}

pub enum ContainerToken {
    File(PathBuf),
    Value(String),
}

impl Chain {
    /// Finds the first link that applies, reading only environment variables (`env`) and the
    /// credentials file. `region` is the object store's (the STS region when `AWS_REGION` is
    /// not set). Err says what was looked for.
    pub fn discover(env: &dyn Fn(&str) -> Option<String>, region: &str) -> Result<Self, String> {
        let var = |name: &str| env(name).filter(|v| !v.is_empty());
        if let (Some(access_key), Some(secret_key)) =
            (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
        {
            return Ok(Self::Fixed {
                keys: Keys {
                    access_key,
                    secret_key,
                    session_token: var("AWS_SESSION_TOKEN"),
                    expires: None,
                },
                from: "the environment (AWS_ACCESS_KEY_ID)",
            });
        }
        if let Some(keys) = shared_credentials_file(&var)? {
            return Ok(Self::Fixed {
                keys,
                from: "the shared credentials file",
            });
        }
        if let (Some(role_arn), Some(token_file)) =
            (var("AWS_ROLE_ARN"), var("AWS_WEB_IDENTITY_TOKEN_FILE"))
        {
            let region = var("AWS_REGION")
                .or_else(|| var("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|| region.to_owned());
            let sts_endpoint = var("AWS_ENDPOINT_URL_STS")
                .or_else(|| var("AWS_ENDPOINT_URL"))
                .unwrap_or_else(|| regional_sts_endpoint(&region));
            return Ok(Self::WebIdentity {
                role_arn,
                token_file: token_file.into(),
                session_name: var("AWS_ROLE_SESSION_NAME").unwrap_or_else(|| "pastebin".into()),
                sts_endpoint,
            });
        }
        let url = match (
            var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
            var("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
        ) {
            (Some(relative), _) => Some(format!("http://169.254.170.2{relative}")),
            (None, full) => full,
        };
        if let Some(url) = url {
            let token = var("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
                .map(|f| ContainerToken::File(f.into()))
                .or_else(|| var("AWS_CONTAINER_AUTHORIZATION_TOKEN").map(ContainerToken::Value));
            return Ok(Self::Container { url, token });
        }
        Err(
            "no AWS credentials found: looked for PASTEBIN_S3_ACCESS_KEY/PASTEBIN_S3_SECRET_KEY, \
             AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the shared credentials file, \
             AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE (IRSA: annotate the ServiceAccount with \
             eks.amazonaws.com/role-arn) and AWS_CONTAINER_CREDENTIALS_*_URI; instance metadata \
             is not used"
                .into(),
        )
    }

    /// Where the keys come from, for logs and errors.
    pub fn describe(&self) -> String {
        match self {
            Self::Fixed { from, .. } => (*from).to_owned(),
            Self::WebIdentity {
                role_arn,
                sts_endpoint,
                ..
            } => format!("web identity for {role_arn} at {sts_endpoint}"),
            Self::Container { url, .. } => format!("container credentials at {url}"),
        }
    }

    /// Fetches keys (no I/O for fixed ones), each request bounded by [`FETCH_WITHIN`].
    pub async fn fetch(&self, http: &reqwest::Client) -> anyhow::Result<Keys> {
        match self {
            Self::Fixed { keys, .. } => Ok(keys.clone()),
            Self::WebIdentity {
                role_arn,
                token_file,
                session_name,
                sts_endpoint,
            } => {
                let token = tokio::fs::read_to_string(token_file).await.map_err(|e| {
                    anyhow::anyhow!("AWS_WEB_IDENTITY_TOKEN_FILE {}: {e}", token_file.display())
                })?;
                assume_role_with_web_identity(
                    http,
                    sts_endpoint,
                    role_arn,
                    session_name,
                    token.trim(),
                )
                .await
            }
            Self::Container { url, token } => {
                let mut request = http.get(url).timeout(FETCH_WITHIN);
                match token {
                    Some(ContainerToken::File(path)) => {
                        let t = tokio::fs::read_to_string(path).await.map_err(|e| {
                            anyhow::anyhow!(
                                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE {}: {e}",
                                path.display()
                            )
                        })?;
                        request = request.header("authorization", t.trim());
                    }
                    Some(ContainerToken::Value(t)) => request = request.header("authorization", t),
                    None => {}
                }
                let response = request.send().await?;
                let status = response.status();
                let body = response.text().await?;
                anyhow::ensure!(
                    status.is_success(),
                    "container credentials endpoint answered {status}"
                );
                container_keys(&body)
            }
        }
    }
}

/// `https://sts.{region}.amazonaws.com` (`.com.cn` in the China regions): the pod's own
/// region, so credentials keep coming while another region is down.
pub fn regional_sts_endpoint(region: &str) -> String {
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://sts.{region}.{domain}")
}

fn shared_credentials_file(var: &dyn Fn(&str) -> Option<String>) -> Result<Option<Keys>, String> {
    let path = match var("AWS_SHARED_CREDENTIALS_FILE") {
        Some(p) => PathBuf::from(p),
        None => match var("HOME") {
            Some(home) => PathBuf::from(home).join(".aws/credentials"),
            None => return Ok(None),
        },
    };
    if !path.is_file() {
        return Ok(None);
    }
    let profile = var("AWS_PROFILE").unwrap_or_else(|| "default".into());
    let found = Credentials::from_credentials_file(&path, Some(&profile))
        .map_err(|e| format!("{} (profile {profile}): {e}", path.display()))?;
    match (found.access_key, found.secret_key) {
        (Some(access_key), Some(secret_key)) => Ok(Some(Keys {
            access_key,
            secret_key,
            session_token: found.session_token.or(found.security_token),
            expires: None,
        })),
        _ => Ok(None),
    }
}

async fn assume_role_with_web_identity(
    http: &reqwest::Client,
    endpoint: &str,
    role_arn: &str,
    session_name: &str,
    token: &str,
) -> anyhow::Result<Keys> {
    let response = http
        .post(endpoint)
        .timeout(FETCH_WITHIN)
        .form(&[
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", role_arn),
            ("RoleSessionName", session_name),
            ("WebIdentityToken", token),
        ])
        .send()
        .await?;
    let status = response.status();
    let body = response.text().await?;
    if !status.is_success() {
        anyhow::bail!(
            "STS AssumeRoleWithWebIdentity at {endpoint} answered {status}: {} {}",
            xml_text(&body, "Code").unwrap_or_default(),
            xml_text(&body, "Message").unwrap_or_default()
        );
    }
    let field = |tag: &str| {
        xml_text(&body, tag).ok_or_else(|| anyhow::anyhow!("STS answered without <{tag}>"))
    };
    Ok(Keys {
        access_key: field("AccessKeyId")?,
        secret_key: field("SecretAccessKey")?,
        session_token: xml_text(&body, "SessionToken"),
        expires: Some(DateTime::parse_from_rfc3339(&field("Expiration")?)?.with_timezone(&Utc)),
    })
}

/// The text of the first `<tag>…</tag>` of an STS answer (flat text elements only).
fn xml_text(doc: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = doc.find(&open)? + open.len();
    let end = start + doc[start..].find(&format!("</{tag}>"))?;
    Some(
        doc[start..end]
            .trim()
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

fn container_keys(body: &str) -> anyhow::Result<Keys> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer {
        access_key_id: String,
        secret_access_key: String,
        token: Option<String>,
        expiration: Option<DateTime<Utc>>,
    }
    let a: Answer = serde_json::from_str(body)
        .map_err(|e| anyhow::anyhow!("container credentials endpoint: {e}"))?;
    Ok(Keys {
        access_key: a.access_key_id,
        secret_key: a.secret_access_key,
        session_token: a.token,
        expires: a.expiration,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn web_identity_uses_the_sts_endpoint_of_its_own_region() {
        let vars = [
            ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
            ("AWS_REGION", "us-west-2"),
        ];
        let Ok(Chain::WebIdentity { sts_endpoint, .. }) = Chain::discover(&env(&vars), "us-east-1")
        else {
            panic!("web identity expected");
        };
        assert_eq!(sts_endpoint, "https://sts.us-west-2.amazonaws.com");
        let Ok(Chain::WebIdentity { sts_endpoint, .. }) =
            Chain::discover(&env(&vars[..2]), "eu-west-1")
        else {
            panic!("web identity expected");
        };
        assert_eq!(sts_endpoint, "https://sts.eu-west-1.amazonaws.com");
        assert_eq!(
            regional_sts_endpoint("cn-north-1"),
            "https://sts.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn the_environment_comes_first_and_nothing_found_says_what_was_looked_for() {
        let vars = [
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_ROLE_ARN", "arn"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
        ];
        assert!(matches!(
            Chain::discover(&env(&vars), "us-east-1"),
            Ok(Chain::Fixed { .. })
        ));
        let missing = Chain::discover(&env(&[("HOME", "/nonexistent")]), "us-east-1")
            .err()
            .unwrap();
        assert!(missing.contains("AWS_WEB_IDENTITY_TOKEN_FILE"), "{missing}");
    }

    #[test]
    fn keys_are_refreshed_before_they_expire() {
        let now = Utc::now();
        let keys = |secs| Keys {
            access_key: String::new(),
            secret_key: String::new(),
            session_token: None,
            expires: Some(now + chrono::Duration::seconds(secs)),
        };
        assert_eq!(
            keys(3600).refresh_at(now),
            Some(now + chrono::Duration::seconds(3300))
        );
        assert_eq!(
            keys(60).refresh_at(now),
            Some(now + chrono::Duration::seconds(30))
        );
        assert!(keys(-5).refresh_at(now).unwrap() <= now);
    }

    #[test]
    fn sts_answers_are_read() {
        let body = "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>\
            <Credentials><SessionToken>tok/en+=</SessionToken><SecretAccessKey>sec&amp;ret</SecretAccessKey>\
            <Expiration>2030-01-01T00:00:00Z</Expiration><AccessKeyId>ASIA1</AccessKeyId></Credentials>\
            </AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
        assert_eq!(xml_text(body, "SessionToken").unwrap(), "tok/en+=");
        assert_eq!(xml_text(body, "SecretAccessKey").unwrap(), "sec&ret");
        assert_eq!(xml_text(body, "Missing"), None);
        let keys = container_keys(
            r#"{"AccessKeyId":"A","SecretAccessKey":"S","Token":"T","Expiration":"2030-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(keys.session_token.as_deref(), Some("T"));
        assert!(keys.expires.is_some());
    }
}
