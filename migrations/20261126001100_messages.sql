-- Messages of a chat and how far each side has read (issue 11). The
-- rules are in shared/chats (messages.rs).

-- Owner: halo-chats, written by public-gateway's socket. A message is
-- stored before it is acknowledged; a resend with the same
-- (chat, sender, client_msg_id) is the same message. `id` is allocated
-- while the sender holds the chat's row lock, so within a chat ids are
-- committed in order: a reader that has seen id N has seen every earlier
-- message of that chat, and `after=N` never skips one.
CREATE TABLE chat_messages (
    id            bigserial PRIMARY KEY,
    chat_id       uuid NOT NULL REFERENCES chats (id),
    -- The sender's role in the chat: the other side never learns a user id.
    sender        text NOT NULL CHECK (sender IN ('customer', 'mitra')),
    sender_id     uuid NOT NULL REFERENCES users (id),
    client_msg_id text NOT NULL CHECK (char_length(client_msg_id) BETWEEN 1 AND 128),
    body          text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 4000),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (chat_id, sender_id, client_msg_id)
);
CREATE INDEX chat_messages_by_chat ON chat_messages (chat_id, id);

-- Owner: halo-chats. Each side's last-read pointer (read receipts).
CREATE TABLE chat_reads (
    chat_id      uuid NOT NULL REFERENCES chats (id),
    reader       text NOT NULL CHECK (reader IN ('customer', 'mitra')),
    last_read_id bigint NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (chat_id, reader)
);
