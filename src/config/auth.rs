//! Tokens: the ones this service issues, and an external identity provider's.
//!
//! | variable | default |
//! |---|---|
//! | `PASTEBIN_JWT_SECRET` | empty: random per process (development only) |
//! | `PASTEBIN_JWT_ISSUER` | `pastebin` |
//! | `PASTEBIN_JWT_AUDIENCE` | `pastebin` |
//! | `PASTEBIN_JWT_TTL_SECS` | `604800` |
//! | `PASTEBIN_JWT_PUBLIC_KEY_FILE` | none |
//! | `PASTEBIN_JWKS_FILE` | none |

use std::path::PathBuf;

use clap::Args;

#[derive(Clone, Debug, Args)]
pub struct AuthConfig {
    /// HMAC secret for HS256 tokens. Development generates a random one per process when
    /// empty; production refuses to start without one of at least 32 bytes.
    #[arg(
        long,
        env = "PASTEBIN_JWT_SECRET",
        hide_env_values = true,
        default_value = ""
    )]
    pub jwt_secret: String,

    #[arg(long, env = "PASTEBIN_JWT_ISSUER", default_value = "pastebin")]
    pub jwt_issuer: String,

    #[arg(long, env = "PASTEBIN_JWT_AUDIENCE", default_value = "pastebin")]
    pub jwt_audience: String,

    /// Lifetime of the tokens `register` and `login` issue, in seconds.
    #[arg(long, env = "PASTEBIN_JWT_TTL_SECS", default_value_t = 7 * 24 * 3600)]
    pub jwt_ttl_secs: i64,

    /// PEM public key (RS256 or EdDSA) of an external identity provider.
    #[arg(long, env = "PASTEBIN_JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,

    /// JWKS file of an external identity provider (keys selected by `kid`).
    #[arg(long, env = "PASTEBIN_JWKS_FILE")]
    pub jwks_file: Option<PathBuf>,
}
