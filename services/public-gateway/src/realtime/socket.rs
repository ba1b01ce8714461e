//! `GET /api/shared/ws`: one socket per device carries all the user's
//! chats. Frames are handled one at a time in the order they arrive (acks
//! come back in order); frames for the user from any instance are written
//! as they come. A bad frame gets an `error` frame and the socket stays
//! up; a binary frame or one over 16 KiB closes it (1008).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{
    CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade, close_code,
};
use axum::extract::{Query, State};
use axum::response::Response;
use halo_auth::Auth;
use halo_chats::{ChatError, ChatId, Message, Outgoing, Role};
use halo_mitras::Heartbeats;
use halo_proto::text::refused_in_paragraph;
use halo_proto::{ApiError, ErrorKind};
use halo_push::{Notification, PushKind};
use serde_json::Value;
use sqlx::PgPool;
use tokio::time::Instant;
use uuid::Uuid;

use crate::routes::app_role;

use super::Floor;
use super::frames::{ClientFrame, ErrorCode, MAX_BODY_CHARS, MAX_CLIENT_MSG_ID_CHARS, ServerFrame};
use super::hub::Hub;
use super::writer::MessageWriter;

/// The largest text frame read; larger ones close the socket (1008).
pub const MAX_FRAME_BYTES: usize = 16 * 1024;
/// The socket's initial read buffer; it grows for a larger frame (and
/// keeps that size).
const READ_BUFFER_BYTES: usize = 256;
/// A socket that has sent nothing (not even a pong) this long is gone:
/// three pings ([`super::hub::PING_EVERY_SECONDS`]) unanswered.
const IDLE_LIMIT: Duration = Duration::from_secs(75);
/// The window of the per-socket message limit
/// (`SOCKET_MESSAGES_PER_10_SECONDS`).
const RATE_WINDOW: Duration = Duration::from_secs(10);

/// What the instance's sockets share (an axum `Extension`).
#[derive(Clone)]
pub struct SocketShared {
    pub hub: Hub,
    pub writer: MessageWriter,
    pub floor: Floor,
    pub heartbeats: Heartbeats,
    /// How many messages one socket may send per 10 s
    /// (`SOCKET_MESSAGES_PER_10_SECONDS`).
    pub message_limit: u32,
}
/// Messages one `resume` or catch-up query returns; `resume` pages on.
const PAGE: u32 = 200;

/// Opens the socket: the same bearer token as REST, checked before the
/// upgrade (a missing or bad one is a 401 and no socket), or, for a client
/// that cannot set the header, a one-time `ticket` from
/// `POST /api/shared/ws/ticket`. Frames and their JSON Schemas:
/// `services/public-gateway/socket-frames.schema.json`.
#[utoipa::path(get, path = "/api/shared/ws", operation_id = "open_socket", tag = "realtime", security(("bearer" = []), ()),
    params(SocketQuery),
    responses(
        (status = 101, description = "switching to the WebSocket protocol (RFC 6455); frames as in socket-frames.schema.json"),
        (status = 400, description = "`not_a_websocket_upgrade`", body = halo_web::ErrorBody),
        (status = 401, description = "`missing_token`, `invalid_token`, `token_expired`, or `invalid_ticket` \
            (unknown, used or expired)", body = halo_web::ErrorBody),
        (status = 403, description = "`wrong_user_type`: a CC token", body = halo_web::ErrorBody)))]
pub async fn open(
    State(db): State<PgPool>,
    Extension(shared): Extension<SocketShared>,
    auth: Option<Auth>,
    Query(query): Query<SocketQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    // The header wins: a bad token is a 401 even with a ticket.
    let (user, is_mitra) = match (auth, query.ticket) {
        (Some(auth), _) => (auth.user_id, app_role(&auth)? == Role::Mitra),
        (None, Some(ticket)) => super::tickets::redeem(&db, &ticket).await?,
        (None, None) => return Err(halo_auth::missing_token()),
    };
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::new(
            ErrorKind::InvalidInput,
            "not_a_websocket_upgrade",
            format!("open the socket with a WebSocket upgrade request: {rejection}"),
        )
    })?;
    Ok(upgrade
        // Read a little past the limit so an oversized frame is seen and
        // refused with 1008, not cut off by the protocol layer.
        .max_message_size(4 * MAX_FRAME_BYTES)
        .max_frame_size(4 * MAX_FRAME_BYTES)
        // Most sockets sit idle: small buffers that grow for a big frame,
        // not the protocol layer's 128 KiB each (measured:
        // deploy/bench/realtime.sh), and every frame written at once.
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .on_upgrade(move |socket| {
            let session = Session {
                db,
                floor: shared.floor.get(),
                shared,
                user,
                is_mitra,
                chats: HashMap::new(),
                seen: HashMap::new(),
                window: (Instant::now(), 0),
            };
            session.run(socket)
        }))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SocketQuery {
    /// A one-time ticket from `POST /api/shared/ws/ticket`, instead of the
    /// `Authorization` header.
    pub ticket: Option<String>,
}

/// Why the loop ended, for the close frame.
enum Ending {
    /// The app closed, or the connection dropped.
    Gone,
    Close(u16, &'static str),
}

struct Session {
    db: PgPool,
    shared: SocketShared,
    user: Uuid,
    is_mitra: bool,
    /// Chats this socket has used: the user's role and the other side.
    chats: HashMap<ChatId, (Role, Uuid)>,
    /// The newest message from the other side this socket has, per chat.
    seen: HashMap<ChatId, i64>,
    /// Messages before this (the newest id when the socket opened, see
    /// [`Floor`]) are the app's to resume; catch-up looks only after it.
    floor: i64,
    /// The rate window's start and the messages sent in it.
    window: (Instant, u32),
}

/// What woke the socket's loop.
enum Event {
    FromApp(Option<Result<WsMessage, axum::Error>>),
    /// A frame from the hub; `None` once the socket fell too far behind.
    ForApp(Option<Arc<str>>),
    Ping,
    CatchUp,
}

impl Session {
    /// The socket's loop. It waits for an [`Event`] and hands it to a boxed
    /// future: what every idle socket keeps is then only the waiting, not
    /// the state of answering (sends, queries). Not an `async fn`, whose
    /// future would hold the session and the socket twice (the arguments,
    /// and the body's copies of them): an idle socket's future is most of
    /// its memory.
    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn's future holds its arguments twice"
    )]
    fn run(mut self, mut socket: WebSocket) -> impl Future<Output = ()> {
        async move {
            let registration = self.shared.hub.join(self.user);
            let mut pings = registration.pings();
            let mut catch_ups = self.shared.hub.catch_ups();
            let mut last_heard = Instant::now();
            let ending = loop {
                let event = tokio::select! {
                    frame = socket.recv() => Event::FromApp(frame),
                    frame = registration.next_frame() => Event::ForApp(frame),
                    // `Lagged` is a missed tick: act on it as on one.
                    _ = pings.recv() => Event::Ping,
                    _ = catch_ups.recv() => Event::CatchUp,
                };
                if let Some(ending) = Box::pin(self.on(event, &mut socket, &mut last_heard)).await {
                    break ending;
                }
            };
            if let Ending::Close(code, reason) = ending {
                let close = WsMessage::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                }));
                let _ = Box::pin(socket.send(close)).await;
            }
        }
    }

    /// Acts on one event and writes what it answers; `Some` ends the socket.
    async fn on(
        &mut self,
        event: Event,
        socket: &mut WebSocket,
        last_heard: &mut Instant,
    ) -> Option<Ending> {
        let replies = match event {
            Event::FromApp(frame) => {
                *last_heard = Instant::now();
                match frame {
                    Some(Ok(WsMessage::Text(text))) if text.len() > MAX_FRAME_BYTES => {
                        return Some(Ending::Close(
                            close_code::POLICY,
                            "frames are at most 16 KiB",
                        ));
                    }
                    Some(Ok(WsMessage::Text(text))) => self.handle(text.as_str()).await,
                    Some(Ok(WsMessage::Binary(_))) => {
                        return Some(Ending::Close(close_code::POLICY, "frames are JSON text"));
                    }
                    Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => return None,
                    Some(Ok(WsMessage::Close(_)) | Err(_)) | None => return Some(Ending::Gone),
                }
            }
            Event::ForApp(Some(frame)) => {
                self.note_delivered(&frame);
                vec![frame.to_string()]
            }
            Event::ForApp(None) => {
                return Some(Ending::Close(
                    close_code::AGAIN,
                    "too far behind; reconnect and resume",
                ));
            }
            Event::Ping => {
                if last_heard.elapsed() > IDLE_LIMIT {
                    return Some(Ending::Close(close_code::AWAY, "no answer to pings"));
                }
                let ping = socket.send(WsMessage::Ping(Default::default())).await;
                return ping.is_err().then_some(Ending::Gone);
            }
            Event::CatchUp => self.catch_up().await,
        };
        for reply in replies {
            if socket.send(WsMessage::Text(reply.into())).await.is_err() {
                return Some(Ending::Gone);
            }
        }
        None
    }

    /// One frame from the app, and what to answer.
    async fn handle(&mut self, text: &str) -> Vec<String> {
        match parse(text) {
            Ok(frame) => self.act(frame).await,
            Err(refusal) => vec![refusal.frame()],
        }
    }

    async fn act(&mut self, frame: ClientFrame) -> Vec<String> {
        match frame {
            ClientFrame::Message {
                chat_id,
                client_msg_id,
                body,
            } => vec![self.send_message(chat_id, client_msg_id, body).await],
            ClientFrame::Typing { chat_id } => match self.counterpart(chat_id).await {
                Ok(Some((role, other))) => {
                    let frame = ServerFrame::Typing {
                        chat_id,
                        sender: role,
                    };
                    self.shared.hub.send_to(other, frame.to_text().into());
                    Vec::new()
                }
                Ok(None) => vec![Refusal::forbidden(None).frame()],
                Err(_) => vec![Refusal::internal(None).frame()],
            },
            ClientFrame::Read { chat_id, up_to } => {
                match halo_chats::mark_read(&self.db, self.user, chat_id, up_to).await {
                    Ok(Some(receipt)) => {
                        let frame = ServerFrame::Read {
                            chat_id,
                            reader: receipt.reader,
                            up_to: receipt.up_to,
                        };
                        self.shared
                            .hub
                            .send_to(receipt.other, frame.to_text().into());
                        Vec::new()
                    }
                    Ok(None) => vec![Refusal::forbidden(None).frame()],
                    Err(err) => {
                        tracing::warn!(error = %err, "storing a read receipt failed");
                        vec![Refusal::internal(None).frame()]
                    }
                }
            }
            ClientFrame::Resume { chat_id, after } => self.resume(chat_id, after).await,
            ClientFrame::Heartbeat => {
                if self.is_mitra {
                    self.shared.heartbeats.beat(self.user);
                }
                Vec::new()
            }
        }
    }

    async fn send_message(&mut self, chat: ChatId, client_msg_id: String, body: String) -> String {
        if !self.within_rate() {
            return Refusal {
                code: ErrorCode::RateLimited,
                message: "too many messages in 10 seconds; wait and resend",
                client_msg_id: Some(client_msg_id),
            }
            .frame();
        }
        let outgoing = Outgoing {
            sender: self.user,
            chat,
            client_msg_id: client_msg_id.clone(),
            body,
        };
        match self.shared.writer.send(outgoing).await {
            Ok(sent) => {
                // At least once: a resend is delivered again; apps drop
                // ids they have.
                let delivery = ServerFrame::Message {
                    message: &sent.message,
                };
                self.shared.hub.send_or_push(
                    delivery.to_text().into(),
                    Notification {
                        user: sent.recipient,
                        chat_id: chat.0,
                        kind: PushKind::Message,
                    },
                );
                ServerFrame::Ack {
                    client_msg_id: &client_msg_id,
                    message: &sent.message,
                }
                .to_text()
            }
            Err(ChatError::NotFound) => Refusal::forbidden(Some(client_msg_id)).frame(),
            Err(ChatError::NotActive) => Refusal {
                code: ErrorCode::ChatNotActive,
                message: "the chat is not active: an ended chat is read-only",
                client_msg_id: Some(client_msg_id),
            }
            .frame(),
            Err(err) => {
                tracing::warn!(error = %err, "storing a message failed");
                Refusal::internal(Some(client_msg_id)).frame()
            }
        }
    }

    fn within_rate(&mut self) -> bool {
        let (started, count) = &mut self.window;
        if started.elapsed() >= RATE_WINDOW {
            *started = Instant::now();
            *count = 0;
        }
        *count += 1;
        *count <= self.shared.message_limit
    }

    async fn counterpart(&mut self, chat: ChatId) -> Result<Option<(Role, Uuid)>, sqlx::Error> {
        if let Some(known) = self.chats.get(&chat) {
            return Ok(Some(*known));
        }
        let found = halo_chats::counterpart(&self.db, self.user, chat).await?;
        if let Some(found) = found {
            self.chats.insert(chat, found);
        }
        Ok(found)
    }

    /// Every message of the chat after `after`, oldest first.
    async fn resume(&mut self, chat: ChatId, mut after: i64) -> Vec<String> {
        let mut frames = Vec::new();
        loop {
            let page = match halo_chats::history(&self.db, self.user, chat, after, PAGE).await {
                Ok(Some(page)) => page,
                Ok(None) => return vec![Refusal::forbidden(None).frame()],
                Err(err) => {
                    tracing::warn!(error = %err, "resuming a chat failed");
                    frames.push(Refusal::internal(None).frame());
                    return frames;
                }
            };
            let full = page.len() == PAGE as usize;
            for message in &page {
                after = message.id;
                self.note_message(message);
                frames.push(ServerFrame::Message { message }.to_text());
            }
            if !full {
                return frames;
            }
        }
    }

    /// The messages this socket missed while the fan-out was down.
    async fn catch_up(&mut self) -> Vec<String> {
        let seen: Vec<(ChatId, i64)> = self.seen.iter().map(|(c, id)| (*c, *id)).collect();
        match halo_chats::missed(&self.db, self.user, self.floor, &seen, PAGE).await {
            Ok(missed) => missed
                .iter()
                .map(|message| {
                    self.note_message(message);
                    ServerFrame::Message { message }.to_text()
                })
                .collect(),
            Err(err) => {
                tracing::debug!(error = %err, "catching up failed; trying again");
                Vec::new()
            }
        }
    }

    fn note_message(&mut self, message: &Message) {
        let newest = self.seen.entry(message.chat_id).or_default();
        *newest = (*newest).max(message.id);
    }

    /// Keeps `seen` current for message frames from the hub.
    fn note_delivered(&mut self, frame: &Arc<str>) {
        #[derive(serde::Deserialize)]
        struct Peek {
            message: Option<Seen>,
        }
        #[derive(serde::Deserialize)]
        struct Seen {
            id: i64,
            chat_id: ChatId,
        }
        if let Ok(Peek {
            message: Some(seen),
        }) = serde_json::from_str::<Peek>(frame)
        {
            let newest = self.seen.entry(seen.chat_id).or_default();
            *newest = (*newest).max(seen.id);
        }
    }
}

/// A refused frame.
struct Refusal {
    code: ErrorCode,
    message: &'static str,
    client_msg_id: Option<String>,
}

impl Refusal {
    fn new(code: ErrorCode, message: &'static str) -> Self {
        Self {
            code,
            message,
            client_msg_id: None,
        }
    }

    fn forbidden(client_msg_id: Option<String>) -> Self {
        Self {
            code: ErrorCode::Forbidden,
            message: "not a chat you take part in",
            client_msg_id,
        }
    }

    fn internal(client_msg_id: Option<String>) -> Self {
        Self {
            code: ErrorCode::Internal,
            message: "the server failed; send the frame again",
            client_msg_id,
        }
    }

    fn frame(&self) -> String {
        ServerFrame::Error {
            code: self.code,
            message: self.message,
            client_msg_id: self.client_msg_id.as_deref(),
        }
        .to_text()
    }
}

/// Reads a frame, naming what is wrong with it the way the reference
/// relay does (`bad_json`, `unknown_type`, `bad_chat_id`,
/// `bad_client_msg_id`, `bad_body`).
fn parse(text: &str) -> Result<ClientFrame, Refusal> {
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return Err(Refusal::new(
            ErrorCode::BadJson,
            "a frame is one JSON object",
        ));
    };
    let kind = value.get("type").and_then(Value::as_str);
    if !matches!(
        kind,
        Some("message" | "typing" | "read" | "resume" | "heartbeat")
    ) {
        return Err(Refusal::new(
            ErrorCode::UnknownType,
            "type is one of message, typing, read, resume, heartbeat",
        ));
    }
    if kind == Some("message") {
        check_message(&value)?;
    } else if kind != Some("heartbeat") && !has_chat_id(&value) {
        return Err(Refusal::new(
            ErrorCode::BadChatId,
            "chat_id is a chat's UUID",
        ));
    }
    serde_json::from_value(value).map_err(|_| {
        Refusal::new(
            ErrorCode::BadFrame,
            "a field is missing or of the wrong type (read and resume take integer ids)",
        )
    })
}

fn has_chat_id(value: &Value) -> bool {
    value
        .get("chat_id")
        .and_then(Value::as_str)
        .is_some_and(|id| id.parse::<Uuid>().is_ok())
}

fn check_message(value: &Value) -> Result<(), Refusal> {
    let client_msg_id = value.get("client_msg_id").and_then(Value::as_str);
    let with_id = |code, message| Refusal {
        code,
        message,
        client_msg_id: client_msg_id.map(str::to_owned),
    };
    if !has_chat_id(value) {
        return Err(with_id(ErrorCode::BadChatId, "chat_id is a chat's UUID"));
    }
    if !client_msg_id.is_some_and(|id| {
        (1..=MAX_CLIENT_MSG_ID_CHARS).contains(&id.chars().count()) && !id.contains('\0')
    }) {
        return Err(with_id(
            ErrorCode::BadClientMsgId,
            "client_msg_id is a string of 1 to 128 characters",
        ));
    }
    let body = value.get("body").and_then(Value::as_str);
    if !body.is_some_and(|body| {
        (1..=MAX_BODY_CHARS).contains(&body.chars().count())
            && !body.chars().any(refused_in_paragraph)
    }) {
        return Err(with_id(
            ErrorCode::BadBody,
            "body is 1 to 4000 characters, without control characters but line breaks and tabs",
        ));
    }
    Ok(())
}
