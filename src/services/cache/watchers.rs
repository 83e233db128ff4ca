//! The pub/sub watchers: one Redis pub/sub connection per process, fanned out in process to
//! the watchers of each paste's live view count.
//!
//! Channels: `{p}views` ("{id} {total}" lines after each flush, from any instance),
//! `{p}invalidate` ("{id}" when a paste is deleted, burned, expired or hidden; "{id} {revision}"
//! when it was edited) and `{p}revoke` (access tokens, see [`super::tokens`]). View totals and revision numbers go to a `tokio::sync::watch` per watched
//! paste: a subscriber only ever sees the latest value, so a slow one cannot stall others or
//! make memory grow. Invalidations drop the in-process cache entry; those of a paste that is
//! gone end its watchers, those of an edit raise its revision watchers.
//!
//! The listener reconnects with backoff. While it is not subscribed the in-process cache is
//! not trusted (see [`super::PasteCache`]); on every subscribe it refreshes the watched totals,
//! since updates may have been missed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::PasteCache;
use super::live_counts::LiveCounts;
use super::redis::Redis;
use super::tokens::TokenCache;

/// What a watcher of one paste sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewEvent {
    /// Total views (monotonic).
    Count(u64),
    /// The paste was deleted, burned or expired: the stream ends.
    Gone,
}

/// What a watcher of one paste's revisions sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevisionEvent {
    /// The current revision's number (monotonic).
    Current(i32),
    /// The listener was away: announcements may have been missed; read the paste again.
    Resync,
    /// The paste was deleted, burned or expired: the stream ends.
    Gone,
}

pub struct Watchers {
    redis: Redis,
    cache: PasteCache,
    tokens: TokenCache,
    counts: Arc<LiveCounts>,
    watchers: Mutex<HashMap<String, watch::Sender<ViewEvent>>>,
    revisions: Mutex<HashMap<String, watch::Sender<RevisionEvent>>>,
}

impl Watchers {
    pub fn new(
        redis: Redis,
        cache: PasteCache,
        tokens: TokenCache,
        counts: Arc<LiveCounts>,
    ) -> Arc<Self> {
        Arc::new(Self {
            redis,
            cache,
            tokens,
            counts,
            watchers: Mutex::new(HashMap::new()),
            revisions: Mutex::new(HashMap::new()),
        })
    }

    /// Watches one paste's current revision, starting from `current` (read by the caller).
    pub fn watch_revisions(&self, id: &str, current: i32) -> watch::Receiver<RevisionEvent> {
        let mut revisions = self.revisions.lock().unwrap_or_else(|e| e.into_inner());
        revisions.retain(|_, tx| tx.receiver_count() > 0);
        let tx = revisions
            .entry(id.to_owned())
            .or_insert_with(|| watch::channel(RevisionEvent::Current(current)).0);
        raise_revision(tx, current);
        tx.subscribe()
    }

    /// A paste has a new current revision (edited here, or announced by another instance's
    /// invalidation).
    pub fn revised(&self, id: &str, revision: i32) {
        let revisions = self.revisions.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = revisions.get(id) {
            raise_revision(tx, revision);
        }
    }

    /// Watches one paste's total, starting from its current value.
    pub async fn watch(&self, id: &str) -> watch::Receiver<ViewEvent> {
        let current = self.counts.total(id).await;
        let mut watchers = self.watchers.lock().unwrap_or_else(|e| e.into_inner());
        watchers.retain(|_, tx| tx.receiver_count() > 0);
        let tx = watchers
            .entry(id.to_owned())
            .or_insert_with(|| watch::channel(ViewEvent::Count(current)).0);
        raise(tx, current);
        tx.subscribe()
    }

    /// Ends the watchers of a paste in this process (the paste is gone).
    pub fn end(&self, id: &str) {
        if let Some(tx) = self
            .watchers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
        {
            tx.send_replace(ViewEvent::Gone);
        }
        if let Some(tx) = self
            .revisions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
        {
            tx.send_replace(RevisionEvent::Gone);
        }
    }

    pub fn watched(&self) -> usize {
        self.watchers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    fn on_total(&self, id: &str, total: u64) {
        let watchers = self.watchers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = watchers.get(id) {
            raise(tx, total);
        }
    }

    /// Another instance invalidated a paste: "{id}" when it is gone, "{id} {revision}" when it
    /// was edited.
    fn on_invalidate(&self, payload: &str) {
        match payload.split_once(' ') {
            None => {
                self.cache.invalidate_local(payload);
                self.end(payload);
            }
            Some((id, revision)) => {
                self.cache.invalidate_local(id);
                if let Ok(revision) = revision.parse() {
                    self.revised(id, revision);
                }
            }
        }
    }

    /// Totals may have changed while the listener was away.
    async fn refresh_all(&self) {
        let ids: Vec<String> = self
            .watchers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        for id in ids {
            let total = self.counts.total(&id).await;
            self.on_total(&id, total);
        }
        for tx in self
            .revisions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            tx.send_replace(RevisionEvent::Resync);
        }
    }

    /// Runs the listener until shutdown. Without Redis there is nothing to listen to.
    pub fn spawn_listener(
        self: &Arc<Self>,
        shutdown: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            if !this.redis.is_configured() {
                return;
            }
            let mut backoff = Duration::from_millis(100);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    ended = this.listen_once() => {
                        this.cache.set_local_trusted(false);
                        this.tokens.set_trusted(false);
                        match ended {
                            Ok(()) => backoff = Duration::from_millis(100),
                            Err(e) => tracing::warn!(error = %e, "pub/sub listener lost redis; retrying"),
                        }
                    }
                }
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        })
    }

    async fn listen_once(&self) -> anyhow::Result<()> {
        let views_channel = self.redis.key("views");
        let invalidate_channel = self.redis.key("invalidate");
        let revoke_channel = self.tokens.channel();
        let mut pubsub = self.redis.pubsub().await?;
        pubsub
            .subscribe(&[&views_channel, &invalidate_channel, &revoke_channel])
            .await?;
        self.cache.set_local_trusted(true);
        self.tokens.set_trusted(true);
        tracing::info!("pub/sub listener subscribed");
        self.refresh_all().await;
        let mut messages = pubsub.on_message();
        while let Some(msg) = messages.next().await {
            let Ok(payload) = std::str::from_utf8(msg.get_payload_bytes()) else {
                continue;
            };
            let channel = msg.get_channel_name();
            if channel == views_channel {
                // One "{id} {total}" line per paste of a flush.
                for line in payload.lines() {
                    if let Some((id, total)) = line.split_once(' ')
                        && let Ok(total) = total.parse()
                    {
                        self.on_total(id, total);
                    }
                }
            } else if channel == invalidate_channel {
                self.on_invalidate(payload);
            } else if channel == revoke_channel {
                self.tokens.on_message(payload);
            }
        }
        anyhow::bail!("pub/sub connection closed")
    }
}

/// Totals only go up; a late message with an older total is ignored.
fn raise(tx: &watch::Sender<ViewEvent>, total: u64) {
    tx.send_if_modified(|current| match current {
        ViewEvent::Count(n) if *n < total => {
            *current = ViewEvent::Count(total);
            true
        }
        _ => false,
    });
}

/// Revisions only go up; a late announcement of an older one is ignored.
fn raise_revision(tx: &watch::Sender<RevisionEvent>, revision: i32) {
    tx.send_if_modified(|current| match current {
        RevisionEvent::Current(n) if *n >= revision => false,
        RevisionEvent::Gone => false,
        _ => {
            *current = RevisionEvent::Current(revision);
            true
        }
    });
}
