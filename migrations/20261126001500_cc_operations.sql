-- The control center's operations (issue 12): the audit log, recorded
-- refunds, and the indexes its lists page through. Every CC list is sorted
-- by id, newest first (all ids are UUIDv7 or serials, so by creation), and
-- pages with `id < cursor`.

-- Owner: halo-audit (shared/audit). Written by internal-cc and halo-core,
-- always in the transaction of the action it records (a rolled-back action
-- leaves no entry, a committed one always has one); never updated.
--   action      `<target_type>.<verb>`, e.g. `mitra.suspend`, `chat.transcript_read`
--   before/after the target's fields the action changed, where it changes any
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    uuid NOT NULL REFERENCES auth.cc_users (id),
    action      text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    target_type text NOT NULL,
    target_id   text NOT NULL,
    before      jsonb,
    after       jsonb,
    request_id  text,
    client_ip   text
);
CREATE INDEX audit_log_by_actor ON audit_log (actor_id, id DESC);
CREATE INDEX audit_log_by_target ON audit_log (target_type, target_id, id DESC);
CREATE INDEX audit_log_by_action ON audit_log (action, id DESC);
CREATE INDEX audit_log_by_time ON audit_log (at);

-- Owner: halo-orders. A refund made in Xendit's dashboard, recorded by an
-- admin: we never move money, we remember who said it moved and where.
ALTER TABLE orders
    ADD COLUMN refund_reference text CHECK (char_length(refund_reference) BETWEEN 1 AND 200),
    ADD COLUMN refund_note      text CHECK (char_length(refund_note) <= 2000),
    ADD COLUMN refunded_at      timestamptz,
    ADD COLUMN refunded_by      uuid REFERENCES auth.cc_users (id),
    ADD CONSTRAINT orders_refund_recorded CHECK ((status = 'refunded') = (refunded_at IS NOT NULL));
CREATE INDEX orders_by_status ON orders (status, id DESC);
CREATE INDEX orders_by_time ON orders (created_at);
-- Revenue today on the dashboard.
CREATE INDEX orders_paid_at ON orders (paid_at) WHERE paid_at IS NOT NULL;

-- Reports are resolved by operators, who live in auth.cc_users.
ALTER TABLE chat_reports
    DROP CONSTRAINT chat_reports_resolved_by_fkey,
    ADD CONSTRAINT chat_reports_resolved_by_fkey FOREIGN KEY (resolved_by) REFERENCES auth.cc_users (id);
CREATE INDEX chat_reports_by_status_id ON chat_reports (status, id DESC);
DROP INDEX chat_reports_by_status;
CREATE INDEX chat_reports_by_chat ON chat_reports (chat_id);

-- The chat lists (the apps' and the CC's) page in id order, so the
-- per-participant indexes move from created_at to id.
CREATE INDEX chats_by_status ON chats (status, id DESC);
CREATE INDEX chats_by_mitra_id ON chats (mitra_id, id DESC);
CREATE INDEX chats_by_customer_id ON chats (customer_id, id DESC);
DROP INDEX chats_by_mitra;
DROP INDEX chats_by_customer;
CREATE INDEX chats_by_time ON chats (created_at);

-- The CC's mitra and customer lists.
CREATE INDEX users_by_type ON users (user_type, id DESC);
