-- The rest of a chat's life (issue 10): extensions bought while it runs,
-- the customer's rating after it, reports from either side, and what the
-- mitra earned from it. The rules are in shared/chats.

-- Orders now also buy extensions of a running chat. An extension order
-- names its chat and holds no mitra slot (`mitra_id` NULL: the chat
-- already holds it), so `mitra_loads` never counts it. Owner: halo-orders.
ALTER TABLE orders
    ADD COLUMN kind text NOT NULL DEFAULT 'chat' CHECK (kind IN ('chat', 'extension')),
    ADD COLUMN chat_id uuid REFERENCES chats (id),
    ADD CONSTRAINT orders_extension_names_chat CHECK ((kind = 'extension') = (chat_id IS NOT NULL)),
    ADD CONSTRAINT orders_extension_holds_no_mitra CHECK (kind = 'chat' OR mitra_id IS NULL);

-- Owner: halo-chats. A customer's request for more time, and the mitra's
-- answer.
--   requested  waiting for the mitra until `respond_by`
--   accepted   the mitra said yes; `order_id`'s invoice is open. At
--              `ends_at` the chat is held open
--              `extension_payment_grace_seconds` for it
--   paid       the money arrived; the chat's `ends_at` moved forward
--   declined   the mitra said no
--   expired    unanswered by `respond_by`, its invoice lapsed, or the chat
--              ended first
CREATE TABLE chat_extensions (
    id               uuid PRIMARY KEY,
    chat_id          uuid NOT NULL REFERENCES chats (id),
    -- The tier asked for, copied at the request: the price the customer saw.
    tier_id          text NOT NULL,
    tier_label       text NOT NULL,
    duration_minutes integer NOT NULL CHECK (duration_minutes > 0),
    amount_idr       bigint NOT NULL CHECK (amount_idr > 0),
    status           text NOT NULL CHECK (status IN ('requested', 'accepted', 'paid', 'declined', 'expired')),
    respond_by       timestamptz NOT NULL,
    order_id         uuid UNIQUE REFERENCES orders (id),
    requested_at     timestamptz NOT NULL DEFAULT now(),
    answered_at      timestamptz,
    paid_at          timestamptz,
    closed_at        timestamptz,
    CHECK (status NOT IN ('accepted', 'paid') OR order_id IS NOT NULL)
);
-- "At most one pending per chat" is this index.
CREATE UNIQUE INDEX chat_extensions_one_pending ON chat_extensions (chat_id)
    WHERE status IN ('requested', 'accepted');
CREATE INDEX chat_extensions_unanswered ON chat_extensions (respond_by) WHERE status = 'requested';
CREATE INDEX chat_extensions_by_chat ON chat_extensions (chat_id, requested_at DESC);

-- An operator may now end a chat (from the CC, or by suspending its mitra).
ALTER TABLE chats DROP CONSTRAINT chats_ended_by_check;
ALTER TABLE chats ADD CONSTRAINT chats_ended_by_check
    CHECK (ended_by IN ('time', 'customer', 'mitra', 'operator'));
-- An offer withdrawn because its mitra was suspended.
ALTER TABLE chat_offers DROP CONSTRAINT chat_offers_outcome_check;
ALTER TABLE chat_offers ADD CONSTRAINT chat_offers_outcome_check
    CHECK (outcome IN ('accepted', 'declined', 'timed_out', 'withdrawn'));

-- Owner: halo-chats. The customer's rating of an ended chat: one per chat
-- (the primary key). The mitra's stats in `mitra_profiles` move in the
-- same transaction.
CREATE TABLE chat_ratings (
    chat_id    uuid PRIMARY KEY REFERENCES chats (id),
    mitra_id   uuid NOT NULL REFERENCES users (id),
    stars      smallint NOT NULL CHECK (stars BETWEEN 1 AND 5),
    note       text CHECK (char_length(note) <= 1000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chat_ratings_by_mitra ON chat_ratings (mitra_id, created_at DESC);

-- A rated mitra may have no profile yet (created from the CC later): the
-- rating makes the row, and the name still comes from `users` until the
-- CC sets one.
ALTER TABLE mitra_profiles ALTER COLUMN display_name DROP NOT NULL;

-- Owner: halo-chats; resolved by the CC (CC issue). A participant's
-- report about a chat, open until an operator resolves it.
CREATE TABLE chat_reports (
    id              uuid PRIMARY KEY,
    chat_id         uuid NOT NULL REFERENCES chats (id),
    reporter_type   text NOT NULL CHECK (reporter_type IN ('customer', 'mitra')),
    reporter_id     uuid NOT NULL REFERENCES users (id),
    reason          text NOT NULL CHECK (reason IN ('harassment', 'sexual_content', 'self_harm_risk',
                                                    'scam', 'other')),
    note            text CHECK (char_length(note) <= 2000),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    resolved_by     uuid REFERENCES users (id),
    resolution_note text,
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);
-- One open report per reporter per chat; a later one waits for the first
-- to be resolved.
CREATE UNIQUE INDEX chat_reports_one_open ON chat_reports (chat_id, reporter_id) WHERE status = 'open';
CREATE INDEX chat_reports_by_status ON chat_reports (status, created_at DESC, id DESC);

-- Owner: halo-chats. What a mitra earned, one row per order they served:
-- the chat's order when they accepted it, an extension's when it was paid.
-- The share is copied from `mitra_revenue_share_percent` at that moment,
-- so changing the knob never rewrites past earnings.
CREATE TABLE mitra_earnings (
    order_id      uuid PRIMARY KEY REFERENCES orders (id),
    mitra_id      uuid NOT NULL REFERENCES users (id),
    chat_id       uuid NOT NULL REFERENCES chats (id),
    gross_idr     bigint NOT NULL CHECK (gross_idr > 0),
    share_percent integer NOT NULL CHECK (share_percent BETWEEN 0 AND 100),
    -- Whole rupiah, rounded down.
    earned_idr    bigint NOT NULL CHECK (earned_idr BETWEEN 0 AND gross_idr),
    earned_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mitra_earnings_by_mitra ON mitra_earnings (mitra_id, earned_at);

-- Two minutes to finish paying an accepted extension after the chat's
-- time is up; mitras keep 70% of what customers pay.
INSERT INTO app_config (key, value) VALUES
    ('extension_payment_grace_seconds', '120'),
    ('mitra_revenue_share_percent', '70')
ON CONFLICT (key) DO NOTHING;
