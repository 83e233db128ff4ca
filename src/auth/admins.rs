//! Who is an admin: usernames from configuration (`PASTEBIN_ADMIN_USERNAMES`), or an
//! identity-provider claim (`PASTEBIN_ADMIN_CLAIM`: `name=value` or `name`).

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::config::AuthConfig;

#[derive(Clone, Debug, Default)]
pub struct Admins {
    usernames: HashSet<String>,
    /// The claim's name and the value it must hold (`None`: the claim must be `true`).
    claim: Option<(String, Option<String>)>,
}

impl Admins {
    pub fn from_config(config: &AuthConfig) -> Self {
        let claim = config.admin_claim.trim();
        let claim = (!claim.is_empty()).then(|| match claim.split_once('=') {
            Some((name, value)) => (name.trim().to_owned(), Some(value.trim().to_owned())),
            None => (claim.to_owned(), None),
        });
        Self {
            usernames: config.admin_usernames().into_iter().collect(),
            claim,
        }
    }

    pub fn by_username(&self, username: &str) -> bool {
        self.usernames.contains(&username.to_lowercase())
    }

    /// Whether an identity provider's claims make their subject an admin.
    pub fn by_claims(&self, claims: &Map<String, Value>) -> bool {
        let Some((name, want)) = &self.claim else {
            return false;
        };
        match (claims.get(name), want) {
            (Some(Value::Bool(true)), None) => true,
            (Some(Value::String(s)), Some(want)) => s == want,
            (Some(Value::Array(items)), Some(want)) => {
                items.iter().any(|v| v.as_str() == Some(want.as_str()))
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admins(usernames: &str, claim: &str) -> Admins {
        let mut c = crate::config::Config::for_database("postgres://x").auth;
        c.admin_usernames = usernames.into();
        c.admin_claim = claim.into();
        Admins::from_config(&c)
    }

    #[test]
    fn usernames_without_regard_to_case_and_claims_by_value_or_truth() {
        let a = admins(" Alice, bob ", "groups=pastebin-admins");
        assert!(a.by_username("alice") && a.by_username("BOB"));
        assert!(!a.by_username("carol"));
        let claims = |v: Value| v.as_object().unwrap().clone();
        assert!(a.by_claims(&claims(
            serde_json::json!({"groups": ["x", "pastebin-admins"]})
        )));
        assert!(a.by_claims(&claims(serde_json::json!({"groups": "pastebin-admins"}))));
        assert!(!a.by_claims(&claims(serde_json::json!({"groups": ["x"]}))));
        let b = admins("", "is_admin");
        assert!(b.by_claims(&claims(serde_json::json!({"is_admin": true}))));
        assert!(!b.by_claims(&claims(serde_json::json!({"is_admin": "true"}))));
        assert!(!admins("", "").by_claims(&claims(serde_json::json!({"is_admin": true}))));
    }
}
