//! Sockets and chats for the realtime tests: an active chat made straight
//! in the database, and a WebSocket client that waits for frames by type.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

use super::{TestApp, token};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// An active chat between a fresh customer and mitra: (chat id, customer
/// token, customer id, mitra token).
pub struct Pair {
    pub chat: String,
    pub customer: String,
    pub customer_id: String,
    pub mitra: String,
}

pub async fn active_pair(app: &TestApp, n: u32) -> Pair {
    let phone = format!("+62812000007{n:02}");
    let mitra_id = app.register_mitra(&phone).await;
    let mitra = token(
        &app.otp_sign_in("mitra", &phone, None).await.body,
        "access_token",
    );
    let signed_in = app
        .otp_sign_in("client", &format!("+62813000007{n:02}"), None)
        .await;
    let customer = token(&signed_in.body, "access_token");
    let customer_id = signed_in.body["user"]["id"].as_str().unwrap().to_owned();
    let chat = Uuid::now_v7();
    sqlx::query(
        "WITH o AS (INSERT INTO orders (id, customer_id, idempotency_key, request_hash, tier_id, tier_label,
                                        duration_minutes, amount_idr, mitra_id, allow_fallback, status, paid_at)
                    VALUES ($1, $2::uuid, $1::text, '\\x00', 'chat_30', '30 menit', 30, 25000, $3, true, 'paid', now())
                    RETURNING id, customer_id)
         INSERT INTO chats (id, order_id, customer_id, chosen_mitra_id, allow_fallback, duration_minutes, status,
                            mitra_id, match_deadline, started_at, ends_at)
         SELECT $4, id, customer_id, $3, true, 30, 'active', $3, now(), now(), now() + interval '30 minutes' FROM o",
    )
    .bind(Uuid::now_v7())
    .bind(&customer_id)
    .bind(mitra_id)
    .bind(chat)
    .execute(&app.db.pool)
    .await
    .unwrap();
    Pair {
        chat: chat.to_string(),
        customer,
        customer_id,
        mitra,
    }
}

pub async fn connect(base: &str, access: Option<&str>) -> Result<Socket, WsError> {
    let mut request = format!("{}/api/shared/ws", base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    if let Some(access) = access {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {access}").parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

/// A socket opened with a one-time ticket instead of a header.
pub async fn connect_with_ticket(base: &str, ticket: &str) -> Result<Socket, WsError> {
    let url = format!(
        "{}/api/shared/ws?ticket={ticket}",
        base.replace("http://", "ws://")
    );
    tokio_tungstenite::connect_async(url)
        .await
        .map(|(socket, _)| socket)
}

pub async fn open(base: &str, access: &str) -> Socket {
    let socket = connect(base, Some(access)).await.expect("the socket opens");
    // The instance subscribes the user's channel asynchronously.
    tokio::time::sleep(Duration::from_millis(300)).await;
    socket
}

pub async fn send(socket: &mut Socket, frame: Value) {
    socket
        .send(Message::text(frame.to_string()))
        .await
        .expect("the frame is sent");
}

/// The next frame of `kind`, skipping others; panics after 5 s.
pub async fn next(socket: &mut Socket, kind: &str) -> Value {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    let frame: Value = serde_json::from_str(&text).unwrap();
                    if frame["type"] == kind {
                        return frame;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("the socket ended waiting for {kind}: {other:?}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} frame within 5 s"))
}

/// How the server closed the socket.
pub async fn closed_with(socket: &mut Socket) -> Option<CloseCode> {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code),
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    })
    .await
    .expect("the socket closes within 5 s")
}

pub fn message(chat: &str, client_msg_id: &str, body: &str) -> Value {
    json!({"type": "message", "chat_id": chat, "client_msg_id": client_msg_id, "body": body})
}
