-- The end of a chat (issue 10): the server ends it at `ends_at`, warns
-- `chat_end_warning_seconds` before, and either side may end it early.
-- Owner: halo-chats.
ALTER TABLE chats
    -- When `chat.ending_soon` was written; NULL until then.
    ADD COLUMN warned_at timestamptz,
    -- Who ended it: `time` (the server, at ends_at), `customer` or `mitra`.
    ADD COLUMN ended_by text CHECK (ended_by IN ('time', 'customer', 'mitra')),
    ADD CONSTRAINT chats_ended_has_end CHECK (status <> 'ended' OR (ended_at IS NOT NULL AND ended_by IS NOT NULL));
CREATE INDEX chats_to_end ON chats (ends_at) WHERE status = 'active';
CREATE INDEX chats_by_mitra ON chats (mitra_id, created_at DESC);
