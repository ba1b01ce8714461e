-- Mitras as customers see them, and whether they can take a chat now
-- (issue 10). The rules are in shared/mitras.

-- Owner: halo-mitras (shared/mitras); written by the CC's mitra management
-- (CC issue) and by the chats feature's ratings. `users` stays the core's:
-- this is the public face of a mitra, keyed by their user id. A mitra with
-- no row here is listed under the name they gave the core, with no photo.
CREATE TABLE mitra_profiles (
    mitra_id     uuid PRIMARY KEY REFERENCES users (id),
    display_name text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 60),
    photo_url    text CHECK (photo_url IS NULL OR photo_url ~ '^https://'),
    bio          text NOT NULL DEFAULT '' CHECK (char_length(bio) <= 1000),
    -- The stats of every rating (1..5 stars); the average is their quotient.
    rating_count integer NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
    rating_sum   bigint NOT NULL DEFAULT 0 CHECK (rating_sum BETWEEN rating_count AND 5 * rating_count),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Owner: halo-mitras, written by public-gateway. Kept apart from the
-- profile because heartbeats rewrite it all day: narrow rows, no index on
-- `last_beat_at`, so each batched update stays a HOT update.
--   status       what the mitra last said (PUT /api/mitra/presence); the truth
--   last_beat_at the newest heartbeat any gateway instance has flushed
--                (at most a second behind; see the README on heartbeats)
CREATE TABLE mitra_presence (
    mitra_id          uuid PRIMARY KEY REFERENCES users (id),
    status            text NOT NULL CHECK (status IN ('online', 'offline')),
    status_changed_at timestamptz NOT NULL DEFAULT now(),
    last_beat_at      timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 70);

-- 5 minutes of re-offers before a paid order is given up; the ending-soon
-- warning 2 minutes before a chat ends (issue 10).
INSERT INTO app_config (key, value) VALUES
    ('match_wait_seconds', '300'),
    ('chat_end_warning_seconds', '120')
ON CONFLICT (key) DO NOTHING;
