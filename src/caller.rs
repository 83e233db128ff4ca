//! Who is calling: the client's address and the viewer behind it. Built once per request (or
//! WebSocket connection) by the transport and passed to every service method, which charges its
//! own budget and applies its own rules, so every door obeys the same ones.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The client's network address: the TCP peer, or what a trusted proxy says it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// What budgets are counted against: the address itself for IPv4, its /64 for IPv6 (one
    /// host is usually handed a whole /64, so counting single IPv6 addresses counts nothing).
    pub fn budget_key(self) -> IpAddr {
        match self.0 {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    IpAddr::V6(prefix.into())
                }
            },
        }
    }
}

impl std::fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What a credential allows. Tokens this service issues at sign-in carry every scope; a
/// personal access token carries the scopes it was made with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scopes {
    /// Read pastes, listings, statistics; subscribe.
    pub read: bool,
    /// Create, edit and fork pastes; report.
    pub write: bool,
    /// Delete pastes.
    pub delete: bool,
}

impl Scopes {
    pub const ALL: Self = Self {
        read: true,
        write: true,
        delete: true,
    };
    pub const NONE: Self = Self {
        read: false,
        write: false,
        delete: false,
    };

    /// As stored: bit 0 read, bit 1 write, bit 2 delete.
    pub fn bits(self) -> i16 {
        i16::from(self.read) | (i16::from(self.write) << 1) | (i16::from(self.delete) << 2)
    }

    pub fn from_bits(bits: i16) -> Self {
        Self {
            read: bits & 1 != 0,
            write: bits & 2 != 0,
            delete: bits & 4 != 0,
        }
    }

    pub fn is_empty(self) -> bool {
        self == Self::NONE
    }

    /// Whether every scope of `other` is in this set.
    pub fn covers(self, other: Self) -> bool {
        (self.read || !other.read) && (self.write || !other.write) && (self.delete || !other.delete)
    }
}

/// The kind of credential a signed-in viewer came with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// A token this service issued at sign-in (`register`, `login`, identity-provider sign-in).
    Session,
    /// A token of the configured identity provider.
    IdentityProvider,
    /// A personal access token (`pbt_…`), with its id (for revocation and "last used").
    AccessToken { id: Uuid },
}

/// An account's standing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    Active,
    /// Banned by an admin: every operation is refused (`FORBIDDEN`).
    Banned,
}

/// What an account may do beyond its own pastes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Member,
    /// Moderation: reports, hiding and deleting any paste, bans, the audit log. From
    /// configuration (`PASTEBIN_ADMIN_USERNAMES`, `PASTEBIN_ADMIN_CLAIM`).
    Admin,
}

/// The person (or not) behind a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Viewer {
    Anonymous,
    User(User),
}

/// A signed-in viewer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub credential: Credential,
    pub scopes: Scopes,
    pub standing: Standing,
    pub role: Role,
    /// When the credential stops being valid (a token's `exp`); a long-lived connection stops
    /// acting as the user then.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Viewer {
    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Self::Anonymous => None,
            Self::User(u) => Some(u.id),
        }
    }

    pub fn username(&self) -> Option<&str> {
        match self {
            Self::Anonymous => None,
            Self::User(u) => Some(&u.username),
        }
    }

    pub fn user(&self) -> Option<&User> {
        match self {
            Self::Anonymous => None,
            Self::User(u) => Some(u),
        }
    }

    /// An admin in good standing.
    pub fn is_admin(&self) -> bool {
        self.user()
            .is_some_and(|u| u.role == Role::Admin && u.standing == Standing::Active)
    }
}

/// The client address and the viewer of one request or WebSocket connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub addr: ClientAddr,
    pub viewer: Viewer,
}

impl Caller {
    pub fn new(addr: ClientAddr, viewer: Viewer) -> Self {
        Self { addr, viewer }
    }

    /// An anonymous caller (jobs, tools and tests act as one).
    pub fn anonymous(addr: IpAddr) -> Self {
        Self::new(ClientAddr(addr), Viewer::Anonymous)
    }

    pub fn user_id(&self) -> Option<Uuid> {
        self.viewer.user_id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_budgets_key_on_the_slash_64_and_mapped_ipv4_on_the_address() {
        let a = ClientAddr("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = ClientAddr("2001:db8:1:2:ffff:1:2:3".parse().unwrap());
        let c = ClientAddr("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a.budget_key(), b.budget_key());
        assert_ne!(a.budget_key(), c.budget_key());
        assert_eq!(a.budget_key().to_string(), "2001:db8:1:2::");
        let mapped = ClientAddr("::ffff:192.0.2.7".parse().unwrap());
        assert_eq!(mapped.budget_key().to_string(), "192.0.2.7");
    }
}
