//! The socket's frames: JSON text objects with a `type`. The same
//! `message` / `ack` / `error` frames as the reference relay (a message's
//! `sender` is a role, never a user id), plus typing, read receipts,
//! resume and heartbeats. `socket-frames.schema.json` (in this crate) is generated
//! from these types (a test keeps it current).

use halo_chats::{ChatId, Message, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 4000;
/// Longest `client_msg_id`, in characters.
pub const MAX_CLIENT_MSG_ID_CHARS: usize = 128;

/// What an app sends.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// A message for the chat; acknowledged once stored. Resending the same
    /// `client_msg_id` gets the same ack and stores nothing.
    Message {
        #[schema(value_type = Uuid)]
        chat_id: ChatId,
        #[schema(min_length = 1, max_length = 128)]
        client_msg_id: String,
        #[schema(min_length = 1, max_length = 4000)]
        body: String,
    },
    /// The sender is typing; passed on to the other side, never stored.
    Typing {
        #[schema(value_type = Uuid)]
        chat_id: ChatId,
    },
    /// The sender has read the chat up to message `up_to`.
    Read {
        #[schema(value_type = Uuid)]
        chat_id: ChatId,
        up_to: i64,
    },
    /// Sends every message of the chat after `after` (the last id the app
    /// has), as `message` frames, oldest first.
    Resume {
        #[schema(value_type = Uuid)]
        chat_id: ChatId,
        after: i64,
    },
    /// A mitra app's presence heartbeat (as `POST
    /// /api/mitra/presence/heartbeat`); ignored from a customer.
    Heartbeat,
}

/// What the server sends.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    /// The app's message is stored.
    Ack {
        client_msg_id: &'a str,
        message: &'a Message,
    },
    /// A message of one of the user's chats (from the other side, or sent
    /// again on `resume`). Delivery is at least once: drop ids already seen.
    Message { message: &'a Message },
    /// The other side is typing.
    Typing {
        #[schema(value_type = Uuid)]
        chat_id: ChatId,
        sender: Role,
    },
    /// Someone read the chat up to `up_to` (the other side, or the user on
    /// another device).
    Read {
        #[schema(value_type = Uuid)]
        chat_id: ChatId,
        reader: Role,
        up_to: i64,
    },
    /// Something happened to one of the user's chats (`chat.offered`,
    /// `chat.accepted`, `chat.ending_soon`, `chat.ended`,
    /// `extension.requested`, …, as listed in the README). `id` grows and is
    /// the same on every delivery: drop ids already seen. Live news only:
    /// the chat's state is in the REST API.
    Event {
        id: i64,
        name: &'a str,
        #[schema(value_type = Object)]
        data: &'a serde_json::Value,
    },
    /// A frame was refused; the socket stays open.
    Error {
        code: ErrorCode,
        message: &'a str,
        /// The refused message's id, when the frame was a message.
        #[serde(skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<&'a str>,
    },
}

/// Why a frame was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON.
    BadJson,
    /// Not an object, or an unknown `type`.
    UnknownType,
    /// A field is missing or of the wrong type.
    BadFrame,
    BadChatId,
    BadClientMsgId,
    /// Empty, or over 4,000 characters.
    BadBody,
    /// Not a chat the user takes part in.
    Forbidden,
    /// The chat is not active (not started, or ended): read-only.
    ChatNotActive,
    /// Too many messages on one socket: at most 20 per 10 s (the
    /// deployment may set another limit).
    RateLimited,
    /// The server failed; retry the frame.
    Internal,
}

impl ServerFrame<'_> {
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("frames serialise")
    }
}

/// Frames as JSON Schema, for the apps: `{"client": ..., "server": ...}`
/// with their definitions.
pub fn schema_document() -> serde_json::Value {
    use utoipa::openapi::ComponentsBuilder;
    let mut schemas = Vec::new();
    <ClientFrame as ToSchema>::schemas(&mut schemas);
    <ServerFrame as ToSchema>::schemas(&mut schemas);
    let components = ComponentsBuilder::new()
        .schema_from::<ClientFrame>()
        .schema_from::<ServerFrame>()
        .schemas_from_iter(schemas)
        .build();
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Halo Bestie socket frames (GET /api/shared/ws)",
        "description": "Text frames, one JSON object each. `client` is what an app sends, `server` what it receives. \
                        References point into `components.schemas`.",
        "client": {"$ref": "#/components/schemas/ClientFrame"},
        "server": {"$ref": "#/components/schemas/ServerFrame"},
        "components": components,
    })
}
