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
//! | `PASTEBIN_ADMIN_USERNAMES` | empty |
//! | `PASTEBIN_ADMIN_CLAIM` | empty |
//! | `PASTEBIN_TOKEN_LAST_USED_FLUSH_SECS` | `30` |
//! | `PASTEBIN_OIDC_ISSUER` | empty |
//! | `PASTEBIN_OIDC_CLIENT_ID` | empty |
//! | `PASTEBIN_OIDC_CLIENT_SECRET` | empty |
//! | `PASTEBIN_OIDC_REDIRECT_URL` | empty |
//! | `PASTEBIN_OIDC_SCOPES` | `openid,profile,email` |
//! | `PASTEBIN_OIDC_NAME` | `single sign-on` |

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

    /// Comma-separated usernames of the admins (moderation), without regard to case.
    #[arg(long, env = "PASTEBIN_ADMIN_USERNAMES", default_value = "")]
    pub admin_usernames: String,

    /// An identity-provider claim that makes a user an admin: `name=value` (the claim is that
    /// string, or a list holding it, e.g. `groups=pastebin-admins`), or `name` (the claim is
    /// `true`). Read from the provider's tokens and, for web sign-in, its ID token.
    #[arg(long, env = "PASTEBIN_ADMIN_CLAIM", default_value = "")]
    pub admin_claim: String,

    /// How often each instance writes the "last used" times of access tokens, in seconds.
    #[arg(
        long,
        env = "PASTEBIN_TOKEN_LAST_USED_FLUSH_SECS",
        default_value_t = 30
    )]
    pub token_last_used_flush_secs: u64,

    /// Issuer URL of an OpenID provider for web sign-in (its discovery document is
    /// `{issuer}/.well-known/openid-configuration`). Empty: no sign-in with a provider.
    #[arg(long, env = "PASTEBIN_OIDC_ISSUER", default_value = "")]
    pub oidc_issuer: String,

    /// Client id registered with the provider.
    #[arg(long, env = "PASTEBIN_OIDC_CLIENT_ID", default_value = "")]
    pub oidc_client_id: String,

    /// Client secret registered with the provider (empty: a public client, PKCE only).
    #[arg(
        long,
        env = "PASTEBIN_OIDC_CLIENT_SECRET",
        hide_env_values = true,
        default_value = ""
    )]
    pub oidc_client_secret: String,

    /// Redirect URI registered with the provider. Empty: `{PASTEBIN_PUBLIC_URL}/auth/oidc/callback`.
    #[arg(long, env = "PASTEBIN_OIDC_REDIRECT_URL", default_value = "")]
    pub oidc_redirect_url: String,

    /// Scopes asked for at sign-in, comma-separated.
    #[arg(
        long,
        env = "PASTEBIN_OIDC_SCOPES",
        default_value = "openid,profile,email"
    )]
    pub oidc_scopes: String,

    /// What the sign-in button says ("Sign in with …").
    #[arg(long, env = "PASTEBIN_OIDC_NAME", default_value = "single sign-on")]
    pub oidc_name: String,
}

impl AuthConfig {
    /// The admins' usernames, lower-case.
    pub fn admin_usernames(&self) -> Vec<String> {
        super::split_list(&self.admin_usernames)
            .into_iter()
            .map(|u| u.to_lowercase())
            .collect()
    }

    /// Whether sign-in with an OpenID provider is configured.
    pub fn oidc_enabled(&self) -> bool {
        !self.oidc_issuer.is_empty()
    }
}
