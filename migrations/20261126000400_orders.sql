-- Orders and their payment at Xendit: the order row, every callback Xendit
-- sent (raw, append-only), and the outbox that carries "order paid" to the
-- chats feature. Issue 9; the rules are in shared/orders.

-- Owner: halo-orders (shared/orders), used by public-gateway; internal-cc
-- will set `refunded`. One row per order; `status` moves only through the
-- guarded UPDATEs in shared/orders.
--   creating         the invoice is being asked for (no one can pay yet)
--   pending_payment  the invoice is open until `expires_at`
--   paid             the money arrived (also after a local expiry)
--   expired          the window passed without a payment
--   payment_mismatch a callback's invoice, amount or currency did not match
--   refund_required  paid, never served (set by the chats feature)
--   refunded         set from the CC
--   failed           the invoice could not be created; nothing is billable
CREATE TABLE orders (
    id               uuid PRIMARY KEY,
    customer_id      uuid NOT NULL REFERENCES users (id),
    idempotency_key  text NOT NULL CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
    -- SHA-256 of the normalised request: the same key with another body is refused.
    request_hash     bytea NOT NULL,
    tier_id          text NOT NULL,
    tier_label       text NOT NULL,
    duration_minutes integer NOT NULL CHECK (duration_minutes > 0),
    -- Whole rupiah, copied from the tier when ordered.
    amount_idr       bigint NOT NULL CHECK (amount_idr > 0),
    currency         text NOT NULL DEFAULT 'IDR' CHECK (currency = 'IDR'),
    mitra_id         uuid REFERENCES users (id),
    allow_fallback   boolean NOT NULL,
    status           text NOT NULL CHECK (status IN ('creating', 'pending_payment', 'paid', 'expired',
                         'payment_mismatch', 'refund_required', 'refunded', 'failed')),
    invoice_id       text UNIQUE,
    invoice_url      text,
    expires_at       timestamptz,
    -- When the sweeper next asks Xendit about this order (a callback may
    -- have been lost); NULL once nothing more can arrive.
    reconcile_at     timestamptz,
    reconcile_count  integer NOT NULL DEFAULT 0,
    paid_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- A key names one live attempt per customer; a failed attempt frees it so
-- a retry with the same key can succeed.
CREATE UNIQUE INDEX orders_idempotency ON orders (customer_id, idempotency_key)
    WHERE status <> 'failed';
CREATE INDEX orders_by_customer ON orders (customer_id, created_at DESC, id DESC);
-- Slot holds: open invoices per chosen mitra.
CREATE INDEX orders_holding_mitra ON orders (mitra_id)
    WHERE status IN ('creating', 'pending_payment');
CREATE INDEX orders_to_expire ON orders (expires_at) WHERE status = 'pending_payment';
CREATE INDEX orders_to_reconcile ON orders (reconcile_at) WHERE reconcile_at IS NOT NULL;
CREATE INDEX orders_abandoned ON orders (created_at) WHERE status = 'creating';

-- Owner: halo-orders. Every callback that presented the right token, as
-- received, with what processing made of it; never updated after insert
-- except `outcome` in the same transaction.
CREATE TABLE payment_events (
    id          bigserial PRIMARY KEY,
    provider    text NOT NULL DEFAULT 'xendit',
    received_at timestamptz NOT NULL DEFAULT now(),
    raw         text NOT NULL,
    invoice_id  text,
    external_id text,
    status      text,
    order_id    uuid REFERENCES orders (id),
    -- paid, duplicate, expired, ignored, mismatch, unknown_order, unreadable
    outcome     text NOT NULL
);
CREATE INDEX payment_events_by_order ON payment_events (order_id) WHERE order_id IS NOT NULL;

-- Owner: the domain crates, each writing its events in the transaction of
-- the state change (halo-orders: `order.paid`); the dispatcher of the chats
-- feature marks them delivered.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    topic        text NOT NULL,
    aggregate_id uuid NOT NULL,
    payload      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz
);
CREATE INDEX outbox_undelivered ON outbox (id) WHERE delivered_at IS NULL;

-- 30 minutes: long enough for a bank transfer, short enough to free a
-- mitra's held slot.
INSERT INTO app_config (key, value) VALUES ('payment_window_seconds', '1800')
ON CONFLICT (key) DO NOTHING;
