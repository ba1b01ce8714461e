-- Chats (issue 10): a paid order becomes a chat offered to one mitra at a
-- time until one accepts or `match_wait_seconds` passes. The rules are in
-- shared/chats.

-- Owner: halo-chats (shared/chats), written by public-gateway (the
-- dispatcher, the sweeper and the mitra's accept/decline).
--   offered   waiting for a mitra: `mitra_id` is the one offered to, until
--             `offer_expires_at`; NULL while nobody available is left to
--             offer to (retried every second until `match_deadline`)
--   active    accepted: `started_at` .. `ends_at`
--   ended     over
--   unserved  nobody accepted before `match_deadline`; the order is
--             `refund_required`
CREATE TABLE chats (
    id               uuid PRIMARY KEY,
    order_id         uuid NOT NULL UNIQUE REFERENCES orders (id),
    customer_id      uuid NOT NULL REFERENCES users (id),
    -- The mitra the customer chose, if any, and whether another may serve.
    chosen_mitra_id  uuid REFERENCES users (id),
    allow_fallback   boolean NOT NULL,
    duration_minutes integer NOT NULL CHECK (duration_minutes > 0),
    status           text NOT NULL CHECK (status IN ('offered', 'active', 'ended', 'unserved')),
    mitra_id         uuid REFERENCES users (id),
    offer_expires_at timestamptz,
    match_deadline   timestamptz NOT NULL,
    started_at       timestamptz,
    ends_at          timestamptz,
    ended_at         timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'active' OR (mitra_id IS NOT NULL AND started_at IS NOT NULL AND ends_at IS NOT NULL)),
    CHECK (status <> 'offered' OR (mitra_id IS NULL) = (offer_expires_at IS NULL))
);
-- A mitra's load: offered and active chats.
CREATE INDEX chats_holding_mitra ON chats (mitra_id) WHERE status IN ('offered', 'active');
CREATE INDEX chats_offer_timeouts ON chats (offer_expires_at) WHERE status = 'offered' AND mitra_id IS NOT NULL;
CREATE INDEX chats_waiting ON chats (match_deadline) WHERE status = 'offered' AND mitra_id IS NULL;
CREATE INDEX chats_by_customer ON chats (customer_id, created_at DESC);

-- Owner: halo-chats. Every offer of a chat to a mitra and how it ended;
-- the primary key is the rule "never the same mitra twice for one chat".
CREATE TABLE chat_offers (
    chat_id    uuid NOT NULL REFERENCES chats (id),
    mitra_id   uuid NOT NULL REFERENCES users (id),
    offered_at timestamptz NOT NULL DEFAULT now(),
    -- NULL while open; accepted, declined or timed_out.
    outcome    text CHECK (outcome IN ('accepted', 'declined', 'timed_out')),
    PRIMARY KEY (chat_id, mitra_id)
);
CREATE INDEX chat_offers_by_mitra ON chat_offers (mitra_id, offered_at DESC);

-- Owner: halo-mitras. How many customers each mitra holds now (mitras
-- holding none are absent): open invoices that chose them, paid orders
-- that chose them and wait for their chat (their `order.paid` event is not
-- yet delivered: the matcher marks it in the transaction that creates the
-- chat), and offered or active chats. Each part reads a partial index.
-- Capacity is `mitra_load(id) < max`, checked under
-- `pg_advisory_xact_lock(hashtextextended(id::text, 9))`, the lock every
-- writer that adds load takes (ordering and matching alike); matching
-- ranks every candidate at once from this view.
CREATE VIEW mitra_loads AS
    SELECT mitra_id, count(*) AS load FROM (
        SELECT o.mitra_id FROM orders o
        WHERE o.mitra_id IS NOT NULL AND o.status IN ('creating', 'pending_payment')
        UNION ALL
        SELECT (e.payload ->> 'mitra_id')::uuid FROM outbox e
        WHERE e.topic = 'order.paid' AND e.delivered_at IS NULL
        UNION ALL
        SELECT c.mitra_id FROM chats c WHERE c.status IN ('offered', 'active')
    ) held
    WHERE mitra_id IS NOT NULL
    GROUP BY mitra_id;

-- Owner: halo-mitras. One mitra's load, from the view.
CREATE FUNCTION mitra_load(mitra uuid) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT l.load FROM mitra_loads l WHERE l.mitra_id = mitra), 0)
$$;
-- Owner: halo-chats (an index on halo-orders' outbox, for mitra_load).
CREATE INDEX outbox_paid_awaiting_chat ON outbox (((payload ->> 'mitra_id')::uuid))
    WHERE topic = 'order.paid' AND delivered_at IS NULL;

-- Owner: halo-mitras. 0 available, 1 online and beating but full, 2
-- offline (said so, silent longer than `stale_after_seconds`, or not
-- active). Issue 10's definition of available, in one place.
CREATE FUNCTION mitra_rank(mitra uuid, stale_after_seconds double precision, max_customers bigint)
RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN NOT EXISTS (SELECT 1 FROM users u WHERE u.id = mitra AND u.user_type = 'mitra' AND u.status = 'active')
          OR NOT EXISTS (SELECT 1 FROM mitra_presence p WHERE p.mitra_id = mitra AND p.status = 'online'
                           AND p.last_beat_at > now() - make_interval(secs => stale_after_seconds))
            THEN 2
        WHEN mitra_load(mitra) < max_customers THEN 0
        ELSE 1
    END
$$;
