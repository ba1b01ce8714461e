//! The socket over real connections: two gateway processes sharing a
//! private redis-server, a customer on one and their mitra on the other.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{TestApp, spawn_app_configured, token};
use futures_util::{SinkExt, StreamExt};
use halo_testkit::RedisServer;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The in-process stack, its gateway on the same Valkey as the processes
/// (every instance relays events: one without Valkey would keep some).
async fn app_on(redis: &RedisServer) -> TestApp {
    spawn_app_configured(&[], &[("REDIS_URL", &redis.url())]).await
}

/// A gateway as its own process, killed when dropped.
struct Gateway {
    child: Child,
    base: String,
}

impl Gateway {
    async fn start(app: &TestApp, redis_url: &str) -> Self {
        let port = halo_testkit::free_port();
        let env = app.edge_env(&[("REDIS_URL", redis_url)]);
        let child = Command::new(env!("CARGO_BIN_EXE_public-gateway"))
            .env_clear()
            .envs(env.vars())
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the gateway binary starts");
        let base = format!("http://127.0.0.1:{port}");
        halo_testkit::wait_until_ready(&base).await;
        Self { child, base }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An active chat between a fresh customer and mitra: (chat id, customer
/// token, customer id, mitra token).
struct Pair {
    chat: String,
    customer: String,
    customer_id: String,
    mitra: String,
}

async fn active_pair(app: &TestApp, n: u32) -> Pair {
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

async fn connect(base: &str, access: Option<&str>) -> Result<Socket, WsError> {
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

async fn open(base: &str, access: &str) -> Socket {
    let socket = connect(base, Some(access)).await.expect("the socket opens");
    // The instance subscribes the user's channel asynchronously.
    tokio::time::sleep(Duration::from_millis(300)).await;
    socket
}

async fn send(socket: &mut Socket, frame: Value) {
    socket
        .send(Message::text(frame.to_string()))
        .await
        .expect("the frame is sent");
}

/// The next frame of `kind`, skipping others; panics after 5 s.
async fn next(socket: &mut Socket, kind: &str) -> Value {
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
async fn closed_with(socket: &mut Socket) -> Option<CloseCode> {
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

fn message(chat: &str, client_msg_id: &str, body: &str) -> Value {
    json!({"type": "message", "chat_id": chat, "client_msg_id": client_msg_id, "body": body})
}

#[tokio::test]
async fn a_customer_and_a_mitra_on_two_instances_chat_both_ways_and_a_resend_is_stored_once() {
    let redis = RedisServer::start().await;
    let app = app_on(&redis).await;
    let (a, b) = (
        Gateway::start(&app, &redis.url()).await,
        Gateway::start(&app, &redis.url()).await,
    );
    let pair = active_pair(&app, 1).await;
    let mut customer = open(&a.base, &pair.customer).await;
    let mut mitra = open(&b.base, &pair.mitra).await;

    send(&mut customer, message(&pair.chat, "c-1", "halo kak")).await;
    let ack = next(&mut customer, "ack").await;
    assert_eq!(ack["client_msg_id"], "c-1");
    assert_eq!(ack["message"]["sender"], "customer");
    assert_eq!(ack["message"]["body"], "halo kak");
    assert!(ack["message"]["id"].is_i64());
    let delivered = next(&mut mitra, "message").await;
    assert_eq!(
        delivered["message"], ack["message"],
        "the mitra gets the acked message"
    );
    let seen_by_mitra = delivered.to_string();
    assert!(
        !seen_by_mitra.contains(&pair.customer_id),
        "{seen_by_mitra}"
    );
    assert!(!seen_by_mitra.contains("6281300000701"), "{seen_by_mitra}");

    send(&mut mitra, message(&pair.chat, "m-1", &"x".repeat(4000))).await;
    let reply = next(&mut mitra, "ack").await;
    assert_eq!(reply["message"]["sender"], "mitra");
    let back = next(&mut customer, "message").await;
    assert_eq!(back["message"]["id"], reply["message"]["id"]);

    send(&mut customer, message(&pair.chat, "c-1", "halo kak")).await;
    let again = next(&mut customer, "ack").await;
    assert_eq!(
        again["message"], ack["message"],
        "a resend gets the same ack"
    );
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM chat_messages WHERE chat_id = $1::uuid")
            .bind(&pair.chat)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(stored, 2, "the resend stored nothing");

    send(
        &mut customer,
        json!({"type": "typing", "chat_id": pair.chat}),
    )
    .await;
    let typing = next(&mut mitra, "typing").await;
    assert_eq!(typing["sender"], "customer");
    send(
        &mut mitra,
        json!({"type": "read", "chat_id": pair.chat, "up_to": ack["message"]["id"]}),
    )
    .await;
    let read = next(&mut customer, "read").await;
    assert_eq!(
        (read["reader"].as_str(), &read["up_to"]),
        (Some("mitra"), &ack["message"]["id"])
    );

    let history = app
        .get(
            &format!("/api/mitra/chats/{}/messages", pair.chat),
            &pair.mitra,
        )
        .await;
    assert_eq!(
        history.status,
        reqwest::StatusCode::OK,
        "{:?}",
        history.body
    );
    let ids: Vec<&Value> = history.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["id"])
        .collect();
    assert_eq!(ids, [&ack["message"]["id"], &reply["message"]["id"]]);
    assert!(!history.body.to_string().contains(&pair.customer_id));
}

#[tokio::test]
async fn bad_frames_get_error_frames_and_the_socket_stays_up_until_a_binary_or_huge_frame() {
    let redis = RedisServer::start().await;
    let app = app_on(&redis).await;
    let gateway = Gateway::start(&app, &redis.url()).await;
    let pair = active_pair(&app, 2).await;
    let other = active_pair(&app, 3).await;
    for access in [
        None,
        Some("x.y.z"),
        Some(format!("{}x", pair.customer).as_str()),
    ] {
        let refused = connect(&gateway.base, access)
            .await
            .expect_err("no socket without a valid token");
        assert!(
            matches!(&refused, WsError::Http(r) if r.status() == 401),
            "{refused:?}"
        );
    }
    let mut socket = open(&gateway.base, &pair.customer).await;

    for (frame, code) in [
        (Message::text("not json"), "bad_json"),
        (Message::text(r#"{"type":"nonsense"}"#), "unknown_type"),
        (Message::text(r#"[1,2]"#), "unknown_type"),
        (
            Message::text(message("not-a-uuid", "k", "hi").to_string()),
            "bad_chat_id",
        ),
        (
            Message::text(message(&pair.chat, "", "hi").to_string()),
            "bad_client_msg_id",
        ),
        (
            Message::text(message(&pair.chat, "k", "").to_string()),
            "bad_body",
        ),
        (
            Message::text(message(&pair.chat, "k", &"x".repeat(4001)).to_string()),
            "bad_body",
        ),
        (
            Message::text(message(&pair.chat, "k", "nul\u{0}").to_string()),
            "bad_body",
        ),
        (
            Message::text(message(&other.chat, "k", "intip").to_string()),
            "forbidden",
        ),
        (
            Message::text(
                json!({"type": "resume", "chat_id": pair.chat, "after": "x"}).to_string(),
            ),
            "bad_frame",
        ),
    ] {
        socket.send(frame).await.unwrap();
        let error = next(&mut socket, "error").await;
        assert_eq!(error["code"], code, "{error}");
        assert!(error["message"].is_string());
    }

    // Twenty messages in a window on one socket (a refused one counts, so
    // a fresh socket); the twenty-first is refused.
    let mut burst = open(&gateway.base, &pair.customer).await;
    for n in 0..20 {
        let client_msg_id = format!("burst-{n}");
        send(&mut burst, message(&pair.chat, &client_msg_id, "hai")).await;
        assert_eq!(
            next(&mut burst, "ack").await["client_msg_id"],
            client_msg_id
        );
    }
    send(&mut burst, message(&pair.chat, "burst-20", "hai")).await;
    let limited = next(&mut burst, "error").await;
    assert_eq!(
        (limited["code"].as_str(), limited["client_msg_id"].as_str()),
        (Some("rate_limited"), Some("burst-20"))
    );

    sqlx::query("UPDATE chats SET status = 'ended', ended_at = now(), ended_by = 'customer' WHERE id = $1::uuid")
        .bind(&other.chat)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let mut ended = open(&gateway.base, &other.customer).await;
    send(&mut ended, message(&other.chat, "late", "masih di sana?")).await;
    assert_eq!(next(&mut ended, "error").await["code"], "chat_not_active");

    socket.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(closed_with(&mut socket).await, Some(CloseCode::Policy));
    ended
        .send(Message::text("x".repeat(16 * 1024 + 1)))
        .await
        .unwrap();
    assert_eq!(closed_with(&mut ended).await, Some(CloseCode::Policy));
}

#[tokio::test]
async fn with_valkey_stopped_messages_are_stored_acked_and_still_reach_the_other_side() {
    let mut redis = RedisServer::start().await;
    let app = app_on(&redis).await;
    let (a, b) = (
        Gateway::start(&app, &redis.url()).await,
        Gateway::start(&app, &redis.url()).await,
    );
    let pair = active_pair(&app, 4).await;
    let mut customer = open(&a.base, &pair.customer).await;
    let mut mitra = open(&b.base, &pair.mitra).await;
    redis.stop();

    send(&mut customer, message(&pair.chat, "down-1", "valkey mati?")).await;
    let ack = next(&mut customer, "ack").await;

    // The mitra's socket catches up from Postgres while the fan-out is down.
    let caught_up = next(&mut mitra, "message").await;
    assert_eq!(caught_up["message"], ack["message"]);
    // And a fresh socket's resume has it too.
    let mut later = open(&b.base, &pair.mitra).await;
    send(
        &mut later,
        json!({"type": "resume", "chat_id": pair.chat, "after": 0}),
    )
    .await;
    assert_eq!(next(&mut later, "message").await["message"], ack["message"]);
}

#[tokio::test]
async fn a_gateway_killed_mid_chat_loses_no_acknowledged_message_the_client_resumes_on_the_other() {
    let redis = RedisServer::start().await;
    let app = app_on(&redis).await;
    let (mut a, b) = (
        Gateway::start(&app, &redis.url()).await,
        Gateway::start(&app, &redis.url()).await,
    );
    let pair = active_pair(&app, 5).await;
    let mut customer = open(&a.base, &pair.customer).await;
    let mut mitra = open(&b.base, &pair.mitra).await;
    send(&mut mitra, message(&pair.chat, "m-1", "satu")).await;
    let first = next(&mut mitra, "ack").await;
    let last_seen = next(&mut customer, "message").await["message"]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(Some(last_seen), first["message"]["id"].as_i64());

    a.kill();
    let mut acked = Vec::new();
    for n in 2..=4 {
        send(
            &mut mitra,
            message(&pair.chat, &format!("m-{n}"), "saat kamu pergi"),
        )
        .await;
        acked.push(
            next(&mut mitra, "ack").await["message"]["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let mut customer = open(&b.base, &pair.customer).await;
    send(
        &mut customer,
        json!({"type": "resume", "chat_id": pair.chat, "after": last_seen}),
    )
    .await;
    let mut resumed = Vec::new();
    for _ in 0..acked.len() {
        resumed.push(
            next(&mut customer, "message").await["message"]["id"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_eq!(resumed, acked, "every acknowledged message, in order");
}

#[tokio::test]
async fn a_chat_event_reaches_both_sides_sockets_with_its_id_and_no_customer_identity() {
    let redis = RedisServer::start().await;
    let app = app_on(&redis).await;
    let (a, b) = (
        Gateway::start(&app, &redis.url()).await,
        Gateway::start(&app, &redis.url()).await,
    );
    let pair = active_pair(&app, 6).await;
    let mut customer = open(&a.base, &pair.customer).await;
    let mut mitra = open(&b.base, &pair.mitra).await;

    let ended = app
        .call(
            reqwest::Method::POST,
            &format!("/api/client/chats/{}/end", pair.chat),
            Some(&pair.customer),
            None,
        )
        .await;
    assert_eq!(ended.status, reqwest::StatusCode::NO_CONTENT);

    let to_customer = next(&mut customer, "event").await;
    let to_mitra = next(&mut mitra, "event").await;
    assert_eq!(to_customer, to_mitra, "one event, the same frame to both");
    assert_eq!(to_mitra["name"], "chat.ended");
    assert_eq!(to_mitra["data"]["chat_id"], json!(pair.chat));
    assert_eq!(to_mitra["data"]["ended_by"], "customer");
    assert!(to_mitra["id"].is_i64());
    assert!(
        !to_mitra.to_string().contains(&pair.customer_id),
        "{to_mitra}"
    );
}
