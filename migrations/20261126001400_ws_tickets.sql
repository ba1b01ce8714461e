-- One-time socket tickets (issue 11), for clients that cannot set headers
-- on a WebSocket handshake (browsers): a ticket lives 30 seconds and opens
-- one socket. Owner: public-gateway (realtime). Only a hash is stored.
CREATE TABLE ws_tickets (
    ticket_hash bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id),
    user_type   text NOT NULL CHECK (user_type IN ('customer', 'mitra')),
    session_id  uuid NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX ws_tickets_by_user ON ws_tickets (user_id);
