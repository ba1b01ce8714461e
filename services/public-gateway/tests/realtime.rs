//! The socket over real connections: two gateway processes sharing a
//! private redis-server, a customer on one and their mitra on the other.

mod common;

use std::process::{Child, Command, Stdio};

use common::sockets::{
    active_pair, closed_with, connect, connect_with_ticket, message, next, open, send,
};
use common::{TestApp, spawn_app_configured};
use futures_util::SinkExt;
use halo_testkit::RedisServer;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

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
        Self::start_with(app, redis_url, &[]).await
    }

    async fn start_with(app: &TestApp, redis_url: &str, extra: &[(&str, &str)]) -> Self {
        let port = halo_testkit::free_port();
        let mut env = vec![("REDIS_URL", redis_url)];
        env.extend_from_slice(extra);
        let env = app.edge_env(&env);
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

#[tokio::test]
async fn across_instances_a_recipient_with_no_socket_anywhere_is_pushed_and_one_with_a_socket_is_not()
 {
    let redis = RedisServer::start().await;
    let app = app_on(&redis).await;
    let fcm = halo_push::double::FcmDouble::start("fcm-token").await;
    let push_env = [
        ("FCM_PROJECT_ID", "halo-test"),
        ("FCM_API_BASE_URL", fcm.url()),
        ("FCM_ACCESS_TOKEN", "fcm-token"),
    ];
    let (a, b) = (
        Gateway::start_with(&app, &redis.url(), &push_env).await,
        Gateway::start_with(&app, &redis.url(), &push_env).await,
    );
    let pair = active_pair(&app, 7).await;
    let registered = app
        .call(
            reqwest::Method::POST,
            "/api/shared/devices",
            Some(&pair.mitra),
            Some(json!({"token": "mitra-phone", "platform": "android"})),
        )
        .await;
    assert_eq!(registered.status, reqwest::StatusCode::NO_CONTENT);
    let mut customer = open(&a.base, &pair.customer).await;

    send(
        &mut customer,
        message(&pair.chat, "offline-1", "kamu di mana?"),
    )
    .await;
    next(&mut customer, "ack").await;
    let pushed = halo_testkit::eventually(std::time::Duration::from_secs(5), || async {
        !fcm.delivered().is_empty()
    })
    .await;
    assert!(
        pushed.is_some(),
        "no instance had a socket of the mitra: pushed"
    );
    assert_eq!(fcm.delivered()[0]["data"]["event"], "message");

    let mut mitra = open(&b.base, &pair.mitra).await;
    send(
        &mut customer,
        message(&pair.chat, "online-1", "oh, sudah online"),
    )
    .await;
    next(&mut mitra, "message").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        fcm.delivered().len(),
        1,
        "a socket on another instance means no push"
    );
}

#[tokio::test]
async fn a_browser_opens_the_socket_with_a_one_time_ticket_instead_of_a_header() {
    let redis = RedisServer::start().await;
    let app = app_on(&redis).await;
    let pair = active_pair(&app, 8).await;
    let issued = app
        .call(
            reqwest::Method::POST,
            "/api/shared/ws/ticket",
            Some(&pair.customer),
            None,
        )
        .await;
    assert_eq!(
        issued.status,
        reqwest::StatusCode::CREATED,
        "{:?}",
        issued.body
    );
    assert_eq!(issued.body["expires_in"], 30);
    let ticket = issued.body["ticket"].as_str().unwrap().to_owned();

    let mut socket = connect_with_ticket(&app.base, &ticket)
        .await
        .expect("the ticket opens a socket");
    send(&mut socket, message(&pair.chat, "t-1", "lewat tiket")).await;
    assert_eq!(
        next(&mut socket, "ack").await["message"]["sender"],
        "customer"
    );

    for used in [ticket.as_str(), "made-up"] {
        let refused = connect_with_ticket(&app.base, used)
            .await
            .expect_err("a ticket works once, a made-up one never");
        assert!(
            matches!(&refused, WsError::Http(r) if r.status() == 401),
            "{refused:?}"
        );
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM ws_tickets")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0, "a used ticket is gone");
}
