//! `pb watch`: the `pasteViews` subscription over `graphql-transport-ws`.

use std::io::Write;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::client::{Failure, data_of, paste_id};
use crate::{Global, WatchArgs, config};

fn socket_url(base: &str) -> Result<String, Failure> {
    let rest = base
        .strip_prefix("https://")
        .map(|r| format!("wss://{r}"))
        .or_else(|| base.strip_prefix("http://").map(|r| format!("ws://{r}")))
        .ok_or_else(|| Failure::Usage(format!("the server URL must be http(s)://…: {base}")))?;
    Ok(format!("{rest}/graphql/ws"))
}

pub async fn run(global: &Global, args: WatchArgs) -> Result<(), Failure> {
    let settings = config::settings(global)?;
    let id = paste_id(&args.paste)?;
    let url = socket_url(&settings.url)?;
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| Failure::Usage(format!("{url}: {e}")))?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("a valid header"),
    );
    let (mut ws, _) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(request),
    )
    .await
    .map_err(|_| Failure::Network(format!("{url}: no answer")))?
    .map_err(|e| Failure::Network(format!("cannot reach {url}: {e}")))?;
    let payload = match &settings.token {
        Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
        None => json!({}),
    };
    let send = |m: Value| Message::text(m.to_string());
    let net = |e: tokio_tungstenite::tungstenite::Error| Failure::Network(e.to_string());
    ws.send(send(
        json!({ "type": "connection_init", "payload": payload }),
    ))
    .await
    .map_err(net)?;
    let mut stdout = std::io::stdout();
    loop {
        let message = tokio::select! {
            m = ws.next() => m,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let text = match message {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Ping(p))) => {
                ws.send(Message::Pong(p)).await.map_err(net)?;
                continue;
            }
            Some(Ok(Message::Close(frame))) => {
                let reason = frame
                    .map(|f| format!("{} {}", f.code, f.reason))
                    .unwrap_or_default();
                return Err(Failure::Server {
                    code: "UNAUTHENTICATED".into(),
                    message: format!("the server closed the connection: {reason}"),
                });
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(net(e)),
            None => return Err(Failure::Network("the connection ended".into())),
        };
        let v: Value = serde_json::from_str(&text)
            .map_err(|_| Failure::Network("the server sent something that is not JSON".into()))?;
        match v["type"].as_str() {
            Some("connection_ack") => {
                ws.send(send(json!({
                    "id": "1",
                    "type": "subscribe",
                    "payload": {
                        "query": "subscription($id: ID!) { pasteViews(id: $id) }",
                        "variables": { "id": id },
                    },
                })))
                .await
                .map_err(net)?;
            }
            Some("next") => {
                let data = data_of(v["payload"].clone())?;
                if let Some(n) = data["pasteViews"].as_i64() {
                    writeln!(stdout, "{n}").map_err(|e| Failure::Local(e.to_string()))?;
                    stdout.flush().map_err(|e| Failure::Local(e.to_string()))?;
                }
            }
            Some("error") => {
                return Err(data_of(json!({ "errors": v["payload"] })).unwrap_err());
            }
            Some("complete") => {
                eprintln!("the paste is gone");
                return Ok(());
            }
            Some("ping") => ws
                .send(send(json!({ "type": "pong" })))
                .await
                .map_err(net)?,
            _ => {}
        }
    }
}
