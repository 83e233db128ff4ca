//! Verified personal access tokens, kept in process for [`TTL`], and their revocation.
//!
//! A token in use is looked up once per instance and [`TTL`], not per request. A revocation
//! (a token revoked, or its account banned) is published on `{p}revoke` (`t:{token id}` or
//! `u:{user id}`); every instance's pub/sub listener drops the matching entries and tells its
//! open WebSocket connections ([`TokenCache::revocations`]). The cache is used only while that
//! listener is subscribed: while it is not (Redis down), every use is checked against the
//! database. A lookup that raced with a revocation is not stored (an epoch, as for pastes).
//!
//! The bound: a revocation reaches every instance with the pub/sub message (milliseconds). If
//! the revoking instance cannot publish while the others still hear Redis, they may accept the
//! token until their entry expires: at most [`TTL`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;
use uuid::Uuid;

use super::redis::Redis;

/// How long a verified token is trusted without asking the database again.
pub const TTL: Duration = Duration::from_secs(10);

/// What a verified token stands for, as the database said when it was looked up.
#[derive(Clone, Debug)]
pub struct VerifiedToken {
    pub token_id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    /// Scope bits (see `crate::caller::Scopes::from_bits`).
    pub scopes: i16,
    pub expires_at: Option<DateTime<Utc>>,
    pub banned: bool,
    pub idp_admin: bool,
}

/// A token, or every token of an account, that must no longer be accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revocation {
    Token(Uuid),
    User(Uuid),
}

impl Revocation {
    fn encode(self) -> String {
        match self {
            Self::Token(id) => format!("t:{id}"),
            Self::User(id) => format!("u:{id}"),
        }
    }

    fn decode(s: &str) -> Option<Self> {
        let (kind, id) = s.split_once(':')?;
        let id = id.parse().ok()?;
        match kind {
            "t" => Some(Self::Token(id)),
            "u" => Some(Self::User(id)),
            _ => None,
        }
    }

    pub fn concerns(self, token_id: Option<Uuid>, user_id: Uuid) -> bool {
        match self {
            Self::Token(id) => token_id == Some(id),
            Self::User(id) => id == user_id,
        }
    }
}

#[derive(Clone)]
pub struct TokenCache {
    redis: Redis,
    /// By the secret's digest.
    verified: moka::sync::Cache<Vec<u8>, Arc<VerifiedToken>>,
    trusted: Arc<AtomicBool>,
    epoch: Arc<AtomicU64>,
    revocations: broadcast::Sender<Revocation>,
}

impl TokenCache {
    pub fn new(redis: Redis) -> Self {
        // Without Redis there is no other instance: what this one knows is the truth.
        let trusted = Arc::new(AtomicBool::new(!redis.is_configured()));
        Self {
            redis,
            verified: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(TTL)
                .build(),
            trusted,
            epoch: Arc::new(AtomicU64::new(0)),
            revocations: broadcast::channel(256).0,
        }
    }

    /// Taken before a database lookup; a revocation since makes [`TokenCache::put`] a no-op.
    pub fn ticket(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    pub fn get(&self, digest: &[u8]) -> Option<Arc<VerifiedToken>> {
        if !self.trusted.load(Ordering::Acquire) {
            return None;
        }
        self.verified.get(digest)
    }

    pub fn put(&self, ticket: u64, digest: Vec<u8>, token: Arc<VerifiedToken>) {
        if self.trusted.load(Ordering::Acquire) && ticket == self.epoch.load(Ordering::Acquire) {
            self.verified.insert(digest, token);
        }
    }

    /// Forgets a revoked token (or account) here, tells this process's connections, and
    /// publishes it to the other instances. Returns whether Redis took it (or there is none).
    pub async fn revoke(&self, revocation: Revocation) -> bool {
        self.apply(revocation);
        if !self.redis.is_configured() {
            return true;
        }
        let channel = self.redis.key("revoke");
        let message = revocation.encode();
        self.redis
            .run("token_revoke", move |mut c| async move {
                ::redis::cmd("PUBLISH")
                    .arg(&channel)
                    .arg(&message)
                    .query_async::<i64>(&mut c)
                    .await
            })
            .await
            .is_ok()
    }

    /// The pub/sub channel the listener subscribes to.
    pub fn channel(&self) -> String {
        self.redis.key("revoke")
    }

    /// A message on [`TokenCache::channel`] (from any instance, this one included).
    pub fn on_message(&self, payload: &str) {
        if let Some(r) = Revocation::decode(payload) {
            self.apply(r);
        }
    }

    fn apply(&self, revocation: Revocation) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        let stale: Vec<Vec<u8>> = self
            .verified
            .iter()
            .filter(|(_, t)| revocation.concerns(Some(t.token_id), t.user_id))
            .map(|(k, _)| (*k).clone())
            .collect();
        for k in stale {
            self.verified.invalidate(&k);
        }
        let _ = self.revocations.send(revocation);
    }

    /// Revocations as this process hears of them (open connections re-check their caller).
    pub fn revocations(&self) -> broadcast::Receiver<Revocation> {
        self.revocations.subscribe()
    }

    /// Called by the pub/sub listener: trusted while subscribed; emptied on every change,
    /// since messages may have been missed.
    pub(crate) fn set_trusted(&self, trusted: bool) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.verified.invalidate_all();
        self.trusted.store(trusted, Ordering::Release);
    }

    /// Whether verified tokens are kept in process now.
    pub fn trusted(&self) -> bool {
        self.trusted.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocations_round_trip_and_drop_their_entries() {
        let (t, u) = (Uuid::new_v4(), Uuid::new_v4());
        for r in [Revocation::Token(t), Revocation::User(u)] {
            assert_eq!(Revocation::decode(&r.encode()), Some(r));
        }
        assert_eq!(Revocation::decode("x:1"), None);
        let cache = TokenCache::new(Redis::disabled());
        let entry = |token_id, user_id| {
            Arc::new(VerifiedToken {
                token_id,
                user_id,
                username: "alice".into(),
                scopes: 7,
                expires_at: None,
                banned: false,
                idp_admin: false,
            })
        };
        let other = Uuid::new_v4();
        cache.put(cache.ticket(), vec![1], entry(t, u));
        cache.put(cache.ticket(), vec![2], entry(other, Uuid::new_v4()));
        let ticket = cache.ticket();
        cache.on_message(&Revocation::User(u).encode());
        assert!(cache.get(&[1]).is_none());
        assert!(cache.get(&[2]).is_some());
        // A lookup that started before the revocation is not stored.
        cache.put(ticket, vec![1], entry(t, u));
        assert!(cache.get(&[1]).is_none());
    }
}
