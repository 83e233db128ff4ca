//! The subscription fan-out: subscribers whose subscriptions have the same normalised form
//! ([`SharedSubscription`]) share one group. The group holds one stream from the services
//! layer, serialises each update once, and its members write it to their sockets in a frame
//! where only their `id` differs — no async-graphql work per subscriber and update.
//!
//! Each subscriber is admitted on its own, by the same service call as the general path (its
//! readability, its budget, its first count); its later counts come from the group. A group
//! ends when its last member leaves (its stream from the services layer is dropped) or when
//! the stream ends (the paste is gone), which completes every member.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::ws::Message;
use futures_util::stream::{self, BoxStream};
use futures_util::{Stream, StreamExt};
use tokio::sync::watch;

use crate::App;
use crate::caller::Caller;
use crate::graphql::fanout::SharedSubscription;

/// What a member sees of its group: the latest count and its payload, or the end.
#[derive(Clone)]
struct Update {
    count: u64,
    payload: Arc<str>,
    ended: bool,
}

/// The groups of one process, by normalised subscription. Cheap to clone.
#[derive(Clone, Default)]
pub struct Fanout {
    groups: Arc<Mutex<HashMap<String, watch::Sender<Update>>>>,
}

/// What one subscription of a connection delivers, in order.
pub enum Delivery {
    /// A message ready for the socket.
    Frame(Message),
    /// The subscription is over (the connection answers `complete`).
    End,
}

impl Fanout {
    /// One subscriber's deliveries: its first count (or its error) from its own call of the
    /// service, then its group's updates, then [`Delivery::End`]. `legacy`: the `graphql-ws`
    /// protocol (`data` messages instead of `next`).
    pub fn subscribe(
        &self,
        app: Arc<App>,
        caller: Caller,
        id: &str,
        legacy: bool,
        subscription: SharedSubscription,
    ) -> BoxStream<'static, Delivery> {
        let fanout = self.clone();
        let prefix = format!(
            r#"{{"type":"{}","id":{},"payload":"#,
            if legacy { "data" } else { "next" },
            serde_json::Value::String(id.to_owned())
        );
        let frame = move |payload: &str| {
            let mut text = String::with_capacity(prefix.len() + payload.len() + 1);
            text.push_str(&prefix);
            text.push_str(payload);
            text.push('}');
            Delivery::Frame(Message::Text(text.into()))
        };
        let start = async move {
            let mut own = match subscription.watch(&app, &caller).await {
                Ok(own) => own.boxed(),
                Err(e) => {
                    let error = frame(&subscription.error(e));
                    return stream::iter([error]).boxed();
                }
            };
            // The first count is this subscriber's own (current when it subscribed); then
            // the group's, never one it has already seen.
            let Some(first) = own.next().await else {
                return stream::empty().boxed();
            };
            let group = fanout.join(&subscription, first, own);
            let first_frame = frame(&subscription.data(first));
            stream::once(async move { first_frame })
                .chain(updates(group, first).map(move |payload| frame(&payload)))
                .boxed()
        };
        // Boxed on its own: the combinator holds its future inline until it is dropped, and
        // `start` (the service call) is some 5 KiB that would stay with every subscriber.
        stream::once(Box::pin(start))
            .flatten()
            .chain(stream::once(async { Delivery::End }))
            .boxed()
    }

    /// Joins the group of `subscription`, or starts it with this subscriber's stream from the
    /// services layer (which has delivered `first`).
    fn join(
        &self,
        subscription: &SharedSubscription,
        first: u64,
        own: BoxStream<'static, u64>,
    ) -> watch::Receiver<Update> {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = groups.get(subscription.normalised()) {
            // `own` is dropped: the group's stream carries the same counts.
            metrics::gauge!("pastebin_ws_fanout_members").increment(1.0);
            return tx.subscribe();
        }
        let (tx, rx) = watch::channel(Update {
            count: first,
            payload: subscription.data(first).into(),
            ended: false,
        });
        groups.insert(subscription.normalised().to_owned(), tx.clone());
        metrics::gauge!("pastebin_ws_fanout_groups").set(groups.len() as f64);
        metrics::gauge!("pastebin_ws_fanout_members").increment(1.0);
        tokio::spawn(self.clone().run(subscription.clone(), own, tx));
        rx
    }

    /// One group: serialises each count of its stream once, until its last member leaves or
    /// the stream ends.
    async fn run(
        self,
        subscription: SharedSubscription,
        mut upstream: BoxStream<'static, u64>,
        tx: watch::Sender<Update>,
    ) {
        loop {
            tokio::select! {
                count = upstream.next() => match count {
                    Some(count) => {
                        let payload = subscription.data(count).into();
                        tx.send_replace(Update { count, payload, ended: false });
                    }
                    None => {
                        self.forget(&subscription, &tx);
                        tx.send_modify(|u| u.ended = true);
                        return;
                    }
                },
                () = tx.closed() => {
                    // Members join under the lock: none can between this check and the removal.
                    let groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
                    if tx.receiver_count() == 0 {
                        drop(groups);
                        self.forget(&subscription, &tx);
                        return;
                    }
                }
            }
        }
    }

    fn forget(&self, subscription: &SharedSubscription, tx: &watch::Sender<Update>) {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        if groups
            .get(subscription.normalised())
            .is_some_and(|g| g.same_channel(tx))
        {
            groups.remove(subscription.normalised());
        }
        metrics::gauge!("pastebin_ws_fanout_groups").set(groups.len() as f64);
    }
}

/// A member's payloads after `seen`: the group's latest count whenever it is newer (a slow
/// member skips to the latest, as with the general path), until the group ends.
fn updates(group: watch::Receiver<Update>, seen: u64) -> impl Stream<Item = Arc<str>> {
    let member = Member { group, seen };
    stream::unfold(member, |mut m| async move {
        loop {
            {
                let update = m.group.borrow_and_update();
                if update.ended {
                    return None;
                }
                if update.count > m.seen {
                    m.seen = update.count;
                    let payload = Arc::clone(&update.payload);
                    drop(update);
                    return Some((payload, m));
                }
            }
            m.group.changed().await.ok()?;
        }
    })
}

/// One subscriber in its group.
struct Member {
    group: watch::Receiver<Update>,
    seen: u64,
}

impl Drop for Member {
    fn drop(&mut self) {
        metrics::gauge!("pastebin_ws_fanout_members").decrement(1.0);
    }
}
