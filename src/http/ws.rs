//! The WebSocket layer: one wrapper around the GraphQL socket (both subprotocols,
//! `graphql-transport-ws` and the legacy `graphql-ws`) that adds what async-graphql's socket
//! lacks:
//! - `connection_init` must arrive within [`INIT_TIMEOUT`], or the socket is closed (4408);
//! - an `Authorization` in `connection_init` that is present but not `Bearer <token>` is
//!   refused (4403), never treated as anonymous;
//! - the connection stops acting as its user when the token expires, and when the account is
//!   gone or banned or its access token revoked (checked every `PASTEBIN_WS_RECHECK_SECS`, and
//!   at once when this instance hears of a revocation or ban that concerns it): it is closed
//!   with 4401, and the client reconnects with a fresh token;
//! - at most `PASTEBIN_WS_MAX_SUBSCRIPTIONS` subscriptions run at once on a connection (the
//!   next gets an error), and at most `PASTEBIN_WS_MAX_PER_CLIENT` connections per client
//!   address (the next upgrade is refused with 429);
//! - the server pings every `PASTEBIN_WS_KEEPALIVE_SECS` (WebSocket ping frames, which every
//!   client answers whatever its subprotocol), so proxies keep idle connections.
//!
//! Each subscription is charged by the service it calls ([`crate::services::view_stats`]).
//!
//! A `subscribe` that many subscribers share (see [`crate::graphql::fanout`]) is served by the
//! fan-out ([`super::fanout`]) instead of async-graphql, behind the same rules and in the same
//! messages; `PASTEBIN_WS_FANOUT=false` sends everything through async-graphql.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{Extension, State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_channel::mpsc;
use futures_util::stream::BoxStream;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::watch;
use tokio_stream::StreamMap;
use tokio_util::task::AbortOnDropHandle;

use super::AppState;
use super::fanout::Delivery;
use super::same_site::NotCrossSite;
use crate::auth::bearer;
use crate::caller::{Caller, ClientAddr};
use crate::error::AppError;
use crate::graphql::fanout::SharedSubscription;

/// How long a client has to send `connection_init` after the upgrade.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(5);

/// Close codes of `graphql-transport-ws` (also used for the legacy protocol).
const UNAUTHORIZED: u16 = 4401;
const FORBIDDEN: u16 = 4403;
const INIT_TIMED_OUT: u16 = 4408;

/// Open connections per client address, for the per-client cap.
#[derive(Clone, Default)]
pub struct Connections {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// Holds one connection's place; gives it back when dropped.
pub struct Slot {
    connections: Connections,
    key: IpAddr,
}

impl Connections {
    fn admit(&self, addr: ClientAddr, cap: usize) -> Option<Slot> {
        let key = addr.budget_key();
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(key).or_insert(0);
        if cap > 0 && *n >= cap {
            return None;
        }
        *n += 1;
        Some(Slot {
            connections: self.clone(),
            key,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .connections
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

pub async fn subscriptions(
    State(state): State<AppState>,
    _: NotCrossSite,
    Extension(addr): Extension<ClientAddr>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    // The protocol async-graphql chose (the first known one the client offers): the legacy
    // one shapes its errors differently.
    let legacy = headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find(|p| matches!(*p, "graphql-transport-ws" | "graphql-ws"))
        == Some("graphql-ws");
    let cap = state.app.config().limits.ws_max_per_client;
    let Some(slot) = state.connections.admit(addr, cap) else {
        metrics::counter!("pastebin_ws_refused_total", "reason" => "per_client").increment(1);
        return AppError::RateLimited { retry_after: 10 }.into_response();
    };
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        // tungstenite zero-fills its read buffer (128 KiB by default) on every read, and the
        // buffer stays resident for the connection's life; a subscription connection carries a
        // few small messages (a larger one takes more reads). 4 KiB took 10,000 subscribers
        // from 1.4 GB to 0.2 GB and cut the fan-out CPU by a third; 256 bytes saves 37 MB more.
        .read_buffer_size(256)
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| async move {
            serve(socket, state, addr, protocol, legacy).await;
            drop(slot);
        })
}

/// What the layer reads of a client message.
#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(default)]
    id: Option<String>,
}

/// A `subscribe` (or legacy `start`) as async-graphql reads it.
#[derive(Deserialize)]
struct Subscribe {
    payload: async_graphql::Request,
}

/// What the reader tells the writer about the subscriptions the fan-out serves.
enum Shared {
    Start(String, BoxStream<'static, Delivery>),
    /// The client completed it: answered with `complete`, as async-graphql does.
    Stop(String),
    /// Replaced by a subscribe with the same id that async-graphql takes: dropped silently,
    /// as async-graphql replaces its own.
    Forget(String),
}

async fn serve(
    socket: WebSocket,
    state: AppState,
    addr: ClientAddr,
    protocol: GraphQLProtocol,
    legacy: bool,
) {
    let limits = &state.app.config().limits;
    let max_subscriptions = limits.ws_max_subscriptions;
    let server = &state.app.config().server;
    let keepalive = Duration::from_secs(server.ws_keepalive_secs.max(1));
    let recheck_every = Duration::from_secs(server.ws_recheck_secs.max(1));
    let (mut socket_tx, mut socket_rx) = socket.split();
    // Client → GraphQL, and GraphQL (plus this layer) → client. futures' channels allocate per
    // queued message; tokio's hold a block of 32 slots from the start (1.5 KiB each, with
    // 10,000 idle subscribers 45 MB for three channels).
    let (mut to_graphql, from_client) = mpsc::channel::<Result<Message, axum::Error>>(16);
    let (out, mut outgoing) = mpsc::channel::<Message>(64);
    // The caller once `connection_init` was accepted.
    let (caller_tx, mut caller_rx) = watch::channel::<Option<Caller>>(None);
    let active: Arc<Mutex<HashSet<String>>> = Arc::default();
    // Subscriptions served by the fan-out (see `Shared`); taken only once the connection is
    // acknowledged, so that their messages follow the ack.
    let fanout = server.ws_fanout.then(|| state.fanout.clone());
    let (mut shared_tx, mut shared_rx) = mpsc::channel::<Shared>(16);
    let acked = Arc::new(AtomicBool::new(false));

    let app = Arc::clone(&state.app);
    let graphql =
        GraphQLWebSocket::new_with_pair(out.clone(), from_client, state.schema.clone(), protocol)
            .on_connection_init(move |payload| async move {
                let caller = app
                    .accounts()
                    .caller(addr, init_token(&payload)?)
                    .await
                    .map_err(|e| async_graphql::Error::new(e.public_message()))?;
                let mut data = Data::default();
                data.insert(caller.clone());
                caller_tx.send_replace(Some(caller));
                Ok(data)
            })
            .serve();

    let writer = {
        let (active, acked_flag) = (Arc::clone(&active), Arc::clone(&acked));
        async move {
            let mut ping =
                tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive);
            let mut acked = false;
            let mut shared = StreamMap::<String, BoxStream<'static, Delivery>>::new();
            loop {
                let message = tokio::select! {
                    m = outgoing.next() => match m {
                        Some(m) => m,
                        None => break,
                    },
                    Some((id, delivery)) = shared.next(), if !shared.is_empty() => match delivery {
                        Delivery::Frame(frame) => frame,
                        Delivery::End => {
                            shared.remove(&id);
                            active.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
                            complete(&id)
                        }
                    },
                    Some(command) = shared_rx.next() => match command {
                        Shared::Start(id, deliveries) => {
                            shared.insert(id, deliveries);
                            continue;
                        }
                        Shared::Stop(id) => match shared.remove(&id) {
                            Some(_) => complete(&id),
                            None => continue,
                        },
                        Shared::Forget(id) => {
                            shared.remove(&id);
                            continue;
                        }
                    },
                    _ = ping.tick() => Message::Ping(Default::default()),
                };
                let message = match message {
                    Message::Text(text) => {
                        if !acked && text.as_str().contains("connection_ack") {
                            acked = true;
                            acked_flag.store(true, Ordering::Release);
                        }
                        forget_finished(&active, text.as_str());
                        Message::Text(text)
                    }
                    // async-graphql closes a refused `connection_init` with 1002; the
                    // protocol says 4403 (Forbidden).
                    Message::Close(Some(frame)) if frame.code == 1002 && !acked => {
                        close(FORBIDDEN, frame.reason.as_str())
                    }
                    other => other,
                };
                let closing = matches!(message, Message::Close(_));
                if socket_tx.send(message).await.is_err() || closing {
                    break;
                }
            }
        }
    };

    // The account rechecks are boxed: inline, their database calls made this future (which
    // every connection holds while it lives) 5 KiB larger.
    let reader = {
        let (mut out, app) = (out.clone(), Arc::clone(&state.app));
        let mut revocations = app.accounts().revocations();
        let mut revocations_open = true;
        async move {
            // The caller (set before the ack), for subscriptions the fan-out serves.
            let mut shared_caller: Option<Caller> = None;
            let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
            tokio::pin!(init_deadline);
            let mut initialised = false;
            let mut recheck = tokio::time::interval_at(
                tokio::time::Instant::now() + recheck_every,
                recheck_every,
            );
            let expiry = tokio::time::sleep(Duration::MAX / 4);
            tokio::pin!(expiry);
            loop {
                tokio::select! {
                    m = socket_rx.next() => {
                        let Some(Ok(m)) = m else { break };
                        let Message::Text(text) = &m else {
                            if matches!(m, Message::Close(_)) { break }
                            continue;
                        };
                        let peek = serde_json::from_str::<Peek>(text.as_str()).ok();
                        let kind = peek.as_ref().map(|p| p.kind);
                        if kind == Some("connection_init") {
                            initialised = true;
                        }
                        if matches!(kind, Some("subscribe" | "start")) {
                            let id = peek.as_ref().and_then(|p| p.id.clone()).unwrap_or_default();
                            let (refused, replaces) = {
                                let mut active = active.lock().unwrap_or_else(|e| e.into_inner());
                                let replaces = active.contains(&id);
                                if active.len() >= max_subscriptions && !replaces {
                                    (true, replaces)
                                } else {
                                    active.insert(id.clone());
                                    (false, replaces)
                                }
                            };
                            if refused {
                                metrics::counter!("pastebin_ws_refused_total", "reason" => "subscriptions").increment(1);
                                let _ = out.send(too_many(&id, legacy, max_subscriptions)).await;
                                continue;
                            }
                            // A subscription the fan-out can serve, on an acknowledged connection,
                            // under an id not in use (a reused id goes where async-graphql's
                            // replacement rules apply).
                            let shared = match (&fanout, &shared_caller) {
                                (Some(fanout), Some(caller))
                                    if !replaces
                                        && peek.as_ref().is_some_and(|p| p.id.is_some())
                                        && acked.load(Ordering::Acquire) =>
                                {
                                    serde_json::from_str::<Subscribe>(text.as_str())
                                        .ok()
                                        .and_then(|s| SharedSubscription::of(&s.payload))
                                        .map(|s| fanout.subscribe(Arc::clone(&app), caller.clone(), &id, legacy, s))
                                }
                                _ => None,
                            };
                            let command = match shared {
                                Some(deliveries) => {
                                    metrics::counter!("pastebin_ws_fanout_subscribes_total").increment(1);
                                    Shared::Start(id, deliveries)
                                }
                                None => Shared::Forget(id),
                            };
                            let start = matches!(command, Shared::Start(..));
                            if (start || replaces) && shared_tx.send(command).await.is_err() {
                                break;
                            }
                            if start {
                                continue;
                            }
                        }
                        if matches!(kind, Some("complete" | "stop"))
                            && let Some(id) = peek.as_ref().and_then(|p| p.id.as_deref())
                        {
                            active.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
                            // Whichever of the fan-out and async-graphql serves it answers.
                            if shared_tx.send(Shared::Stop(id.to_owned())).await.is_err() {
                                break;
                            }
                        }
                        if to_graphql.send(Ok(m)).await.is_err() {
                            break;
                        }
                    }
                    () = &mut init_deadline, if !initialised => {
                        let _ = out.send(close(INIT_TIMED_OUT, "Connection initialisation timeout")).await;
                        break;
                    }
                    Ok(()) = caller_rx.changed() => {
                        shared_caller = caller_rx.borrow().clone();
                        let expires = caller_rx.borrow().as_ref().and_then(|c| match &c.viewer {
                            crate::caller::Viewer::User(u) => u.expires_at,
                            crate::caller::Viewer::Anonymous => None,
                        });
                        if let Some(at) = expires {
                            let left = (at - chrono::Utc::now()).to_std().unwrap_or_default();
                            expiry.as_mut().reset(tokio::time::Instant::now() + left);
                        }
                    }
                    () = &mut expiry => {
                        let _ = out.send(close(UNAUTHORIZED, "the token has expired")).await;
                        break;
                    }
                    _ = recheck.tick() => {
                        let caller = caller_rx.borrow().clone();
                        if let Some(caller) = caller
                            && let Err(AppError::Unauthenticated(why)) = Box::pin(app.accounts().recheck(&caller)).await
                        {
                            let _ = out.send(close(UNAUTHORIZED, why)).await;
                            break;
                        }
                    }
                    revoked = revocations.recv(), if revocations_open => {
                        let caller = caller_rx.borrow().clone();
                        let Some(caller) = caller else { continue };
                        let Some(user) = caller.viewer.user() else { continue };
                        let token = match user.credential {
                            crate::caller::Credential::AccessToken { id } => Some(id),
                            _ => None,
                        };
                        let concerned = match revoked {
                            Ok(r) => r.concerns(token, user.id),
                            // Missed some: check.
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => true,
                            Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                                revocations_open = false;
                                false
                            }
                        };
                        if concerned
                            && let Err(AppError::Unauthenticated(why)) = Box::pin(app.accounts().recheck(&caller)).await
                        {
                            let _ = out.send(close(UNAUTHORIZED, why)).await;
                            break;
                        }
                    }
                }
            }
        }
    };

    // The reader and async-graphql run as tasks of their own, so that an update for a fan-out
    // subscription wakes the writer alone: in one task, every update polled all three (the
    // reader's socket read and timers, async-graphql's streams), which was most of the
    // fan-out's CPU at 10,000 subscribers. Dropping the handles stops them.
    let mut graphql = AbortOnDropHandle::new(tokio::spawn(graphql));
    let mut reader = AbortOnDropHandle::new(tokio::spawn(reader));
    // The connection ends when either side ends; the writer first delivers a close this layer
    // queued.
    tokio::pin!(writer);
    let graphql_ended = tokio::select! {
        _ = &mut graphql => true,
        _ = &mut reader => false,
        () = &mut writer => return,
    };
    // The other one is stopped now (not when dropped at the end), so that its senders are gone
    // and the writer sees the end of its queue. (A finished handle must not be polled again.)
    let other = if graphql_ended { reader } else { graphql };
    other.abort();
    let _ = other.await;
    drop(out);
    let _ = tokio::time::timeout(Duration::from_secs(1), writer).await;
}

/// The token of a `connection_init` payload: `Authorization: Bearer <token>` (either case), or
/// `token`. An `Authorization` in another form is refused.
fn init_token(payload: &serde_json::Value) -> async_graphql::Result<Option<&str>> {
    let authorization = payload
        .get("Authorization")
        .or_else(|| payload.get("authorization"));
    match authorization {
        Some(v) => match v.as_str().and_then(bearer) {
            Some(token) => Ok(Some(token)),
            None => Err(async_graphql::Error::new(
                "Authorization must be `Bearer <token>`",
            )),
        },
        None => Ok(payload.get("token").and_then(|v| v.as_str())),
    }
}

/// A subscription the server finished (completed, or ended with an error) frees its place.
fn forget_finished(active: &Mutex<HashSet<String>>, text: &str) {
    // Only small messages can be a `complete` or an `error`: `next` carries data and is left
    // alone without parsing.
    if text.len() > 512 || !(text.contains("\"complete\"") || text.contains("\"error\"")) {
        return;
    }
    if let Ok(peek) = serde_json::from_str::<Peek>(text)
        && matches!(peek.kind, "complete" | "error")
        && let Some(id) = peek.id
    {
        active.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    }
}

/// `complete` for a subscription the fan-out served (the shape async-graphql sends).
fn complete(id: &str) -> Message {
    let id = serde_json::Value::String(id.to_owned());
    Message::Text(format!(r#"{{"type":"complete","id":{id}}}"#).into())
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// The error a refused subscription gets, in its protocol's shape.
fn too_many(id: &str, legacy: bool, max: usize) -> Message {
    let error = serde_json::json!({
        "message": format!("too many subscriptions on one connection (limit {max})"),
        "extensions": { "code": "RATE_LIMITED" },
    });
    let payload = if legacy {
        error
    } else {
        serde_json::json!([error])
    };
    Message::Text(
        serde_json::json!({ "type": "error", "id": id, "payload": payload })
            .to_string()
            .into(),
    )
}
