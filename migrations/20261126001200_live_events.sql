-- Live events (issue 11): every outbox event meant for the apps is relayed
-- to its chat's participants' sockets once, by whichever gateway instance
-- claims it. `order.paid` is the matcher's, never relayed.
-- Owner: public-gateway's relay (the column); the rows stay the domain's.
ALTER TABLE outbox ADD COLUMN relayed_at timestamptz;
-- What was written before the relay existed is history, not news.
UPDATE outbox SET relayed_at = now();
CREATE INDEX outbox_unrelayed ON outbox (id) WHERE relayed_at IS NULL AND topic <> 'order.paid';
