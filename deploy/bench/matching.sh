#!/usr/bin/env bash
# deploy/bench/matching.sh: paid webhook → chat offer latency (issue 10),
# ORDERS concurrent paid orders over MITRAS available mitras, the callbacks
# spread over GATEWAYS gateway instances (PROFILE: release by default, or
# debug).
#
# It starts halo-core and public-gateway on a fresh database, seeds MITRAS
# online mitras and ORDERS open "anyone" orders, then sends all their PAID
# callbacks at once (ORDERS parallel curls). The latency of each order is
# measured on the server: from the callback's `payment_events.received_at`
# to the `chat_offers.offered_at` of its chat's first offer. With MITRAS ×
# max_customers_per_mitra (3) ≥ ORDERS every order is offered at once.
# The matcher runs each second on every instance, and at once on the
# instance whose webhook marked an order paid (its doorbell).
#
# Needs PostgreSQL on 127.0.0.1:5432 (postgres/postgres), psql, curl:
#   deploy/bench/matching.sh                 # ORDERS=200 MITRAS=100 GATEWAYS=1
#   GATEWAYS=2 BUILD=0 deploy/bench/matching.sh
#   BUILD=0 PROFILE=debug deploy/bench/matching.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ORDERS=${ORDERS:-200} MITRAS=${MITRAS:-100} BUILD=${BUILD:-1} PROFILE=${PROFILE:-release}
WORK=/tmp/halo-bench-matching
PG_ADMIN=postgres://postgres:postgres@127.0.0.1:5432
DB_NAME=halo_bench_matching
export DATABASE_URL=$PG_ADMIN/$DB_NAME
PIDS=()

BENCH=matching
# shellcheck source=deploy/bench/stack.sh
source "$ROOT/deploy/bench/stack.sh"

cd "$ROOT"
if [ "$BUILD" = 1 ]; then
  log "cargo build ($PROFILE)"; cargo build --workspace --bins $([ "$PROFILE" = release ] && echo --release)
fi
bin=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/$PROFILE
rm -rf "$WORK"; mkdir -p "$WORK"

psql "$PG_ADMIN/postgres" -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME" 2>/dev/null
"$bin/halo-core" migrate >"$WORK/migrate.log" 2>&1

start_gateway_stack

log "seeding $MITRAS online mitras and $ORDERS open orders"
psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO users (id, user_type, phone)
SELECT gen_random_uuid(), 'mitra', '+62812' || lpad(i::text, 8, '0') FROM generate_series(1, $MITRAS) AS i;
INSERT INTO mitra_presence (mitra_id, status) SELECT id, 'online' FROM users WHERE user_type = 'mitra';
INSERT INTO users (id, user_type, is_anonymous) VALUES ('00000000-0000-7000-8000-000000000001', 'customer', true);
INSERT INTO orders (id, customer_id, idempotency_key, request_hash, tier_id, tier_label, duration_minutes,
                    amount_idr, allow_fallback, status, invoice_id, invoice_url, expires_at, reconcile_at)
SELECT gen_random_uuid(), '00000000-0000-7000-8000-000000000001', 'bench-' || i, '\x00', 'chat_30', '30 menit',
       30, 25000, true, 'pending_payment', 'inv' || i, 'http://127.0.0.1:9/inv' || i,
       now() + interval '1 hour', now() + interval '1 hour'
FROM generate_series(1, $ORDERS) AS i;
SQL
psql "$DATABASE_URL" -At -F ' ' -c "SELECT id, invoice_id FROM orders" >"$WORK/orders.txt"

log "sending $ORDERS PAID callbacks at once over ${#urls[@]} gateway instance(s)"
n=0
while read -r order invoice; do
  # One line per callback: the instance it goes to, then its body.
  printf '%s {"id":"%s","external_id":"%s","status":"PAID","amount":25000,"currency":"IDR"}\n' \
    "${urls[$(( n++ % ${#urls[@]} ))]}" "$invoice" "$order"
done <"$WORK/orders.txt" >"$WORK/callbacks.txt"
# shellcheck disable=SC2016 # expanded by the inner shell
xargs -P "$ORDERS" -d '\n' -n 1 sh -c 'curl -s -o /dev/null -w "%{http_code}\n" -X POST "${0%% *}/api/shared/webhooks/xendit" \
  -H "content-type: application/json" -H "x-callback-token: $XENDIT_CALLBACK_TOKEN" -d "${0#* }"' \
  <"$WORK/callbacks.txt" >"$WORK/codes.txt"
log "webhook answers: $(sort "$WORK/codes.txt" | uniq -c | tr '\n' ' ')"

for _ in $(seq 1 100); do
  offered=$(psql "$DATABASE_URL" -At -c "SELECT count(DISTINCT chat_id) FROM chat_offers")
  [ "$offered" -ge "$ORDERS" ] && break; sleep 0.1
done
psql "$DATABASE_URL" -At -F ' ' <<'SQL'
WITH first_offer AS (SELECT chat_id, min(offered_at) AS offered_at FROM chat_offers GROUP BY chat_id),
latency AS (
    SELECT extract(epoch FROM f.offered_at - p.received_at) * 1000 AS ms
    FROM payment_events p JOIN chats c ON c.order_id = p.order_id JOIN first_offer f ON f.chat_id = c.id
    WHERE p.outcome = 'paid')
SELECT 'orders offered: ' || count(*),
       'p50 ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric) || ' ms',
       'p99 ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric) || ' ms',
       'max ' || round(max(ms)::numeric) || ' ms'
FROM latency;
SELECT 'most customers offered to one mitra: ' || max(n) FROM (SELECT count(*) AS n FROM chats GROUP BY mitra_id) t;
SQL
psql "$PG_ADMIN/postgres" -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" || true
