#!/usr/bin/env bash
# deploy/bench/webhook.sh: throughput and p99 of the Xendit webhook
# (POST /api/shared/webhooks/xendit) at 64 connections (CONNECTIONS), release build.
#
# It starts halo-core and public-gateway on a fresh database, seeds ORDERS
# open orders with invoices, and runs wrk (-t2 -c64 -d$DURATION --latency)
# posting PAID callbacks round-robin over them with the right token: the
# first callback per order stores the event, pays the order and writes its
# outbox row in one transaction; the rest are duplicates (stored, nothing
# changes). Every request is a token check, a JSON parse and one
# transaction; no third party is called.
#
# Run as root (it may apt-get install wrk); needs PostgreSQL on
# 127.0.0.1:5432 (postgres/postgres), psql, curl:
#   deploy/bench/webhook.sh                  # DURATION=15 ORDERS=20000
#   BUILD=0 DURATION=10 deploy/bench/webhook.sh
# Prints requests/s, p50 and p99; the raw wrk output is in /tmp/halo-bench-webhook/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION=${DURATION:-15} ORDERS=${ORDERS:-20000} BUILD=${BUILD:-1} CONNECTIONS=${CONNECTIONS:-64}
WORK=/tmp/halo-bench-webhook
PG_ADMIN=postgres://postgres:postgres@127.0.0.1:5432
DB_NAME=halo_bench_webhook
export DATABASE_URL=$PG_ADMIN/$DB_NAME
PIDS=()

BENCH=webhook
# shellcheck source=deploy/bench/stack.sh
source "$ROOT/deploy/bench/stack.sh"

if ! command -v wrk >/dev/null; then
  log "installing wrk"; apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cd "$ROOT"
if [ "$BUILD" = 1 ]; then log "cargo build --release"; cargo build --release --workspace --bins; fi
bin=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/release
rm -rf "$WORK"; mkdir -p "$WORK"

psql "$PG_ADMIN/postgres" -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME"
"$bin/halo-core" migrate >"$WORK/migrate.log" 2>&1

start_gateway_stack

log "seeding $ORDERS open orders"
psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO users (id, user_type, is_anonymous) VALUES ('00000000-0000-7000-8000-000000000001', 'customer', true);
INSERT INTO orders (id, customer_id, idempotency_key, request_hash, tier_id, tier_label, duration_minutes,
                    amount_idr, allow_fallback, status, invoice_id, invoice_url, expires_at, reconcile_at)
SELECT gen_random_uuid(), '00000000-0000-7000-8000-000000000001', 'bench-' || i, '\x00', 'chat_30', '30 menit',
       30, 25000, true, 'pending_payment', 'inv' || i, 'http://127.0.0.1:9/inv' || i,
       now() + interval '1 hour', now() + interval '1 hour'
FROM generate_series(1, $ORDERS) AS i;
SQL
psql "$DATABASE_URL" -At -F ' ' -c "SELECT id, invoice_id FROM orders" >"$WORK/orders.txt"

log "wrk -t2 -c$CONNECTIONS -d${DURATION}s POST /api/shared/webhooks/xendit"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s deploy/bench/callbacks.lua "$url" \
  -- "$WORK/orders.txt" "$XENDIT_CALLBACK_TOKEN" | tee "$WORK/wrk.txt"

rps=$(awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.txt")
p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.txt")
read -r events paid <<<"$(psql "$DATABASE_URL" -At -F ' ' -c \
  "SELECT (SELECT count(*) FROM payment_events), (SELECT count(*) FROM outbox WHERE topic = 'order.paid')")"
echo
echo "webhook at $CONNECTIONS connections: ${rps} req/s, p50 ${p50}, p99 ${p99}, non-2xx ${non2xx:-0}"
echo "stored events: $events; orders paid (one outbox row each): $paid"
psql "$PG_ADMIN/postgres" -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" || true
