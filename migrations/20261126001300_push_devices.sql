-- Push devices (issue 11). Owner: halo-push (shared/push), written by
-- public-gateway: the apps register their FCM tokens; a logout removes its
-- session's; FCM's UNREGISTERED or invalid-token answers prune them.
CREATE TABLE push_devices (
    token      text PRIMARY KEY CHECK (char_length(token) BETWEEN 1 AND 4096),
    user_id    uuid NOT NULL REFERENCES users (id),
    -- The session that registered it (not a foreign key: sessions are
    -- pruned on their own schedule).
    session_id uuid NOT NULL,
    platform   text NOT NULL CHECK (platform IN ('android', 'ios')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_devices_by_user ON push_devices (user_id);
CREATE INDEX push_devices_by_session ON push_devices (session_id);
