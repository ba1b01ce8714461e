#!/usr/bin/env bash
# deploy/bench/cc_lists.sh: the control center's lists at scale (issue 12):
# req/s, p50 and p99 of each list endpoint of internal-cc with CHATS chats
# (one paid order each) and MESSAGES messages seeded, release build.
#
# It creates and migrates a database, starts halo-core (CORE_SURFACE=
# internal, which creates the CC admin it signs in with) and internal-cc,
# and seeds the database in SQL: MITRAS mitras, CUSTOMERS customers, CHATS
# orders and chats over the last 90 days (UUIDv7 ids matching their
# created_at), MESSAGES messages, REPORTS reports, AUDIT audit entries,
# then VACUUM ANALYZE. While it measures, the online mitras' heartbeats
# are kept fresh. Per endpoint it runs wrk -t$THREADS -c$CONNECTIONS: WARMUP seconds
# discarded, then DURATION seconds with --latency. Requests with an id or a
# filter cycle through a list of values picked at random from the seed
# (deploy/bench/cc_lists.lua). CPU per request is the user + system time
# internal-cc, halo-core and the Postgres backends serving this database
# used during the run, divided by the requests wrk completed (wrk shares
# the cores with them). Every transcript read writes an audit row, as in
# production.
#
# Run as root (it may apt-get install wrk); needs PostgreSQL on
# 127.0.0.1:5432 (postgres/postgres), psql, curl, python3:
#   deploy/bench/cc_lists.sh                        # CHATS=100000 MESSAGES=1000000 DURATION=15 CONNECTIONS=8
#   BUILD=0 DURATION=5 WARMUP=1 deploy/bench/cc_lists.sh
#   KEEP_DB=1 deploy/bench/cc_lists.sh               # keep the seeded database and reuse it next time
#   CHATS=10000 MESSAGES=100000 deploy/bench/cc_lists.sh
# Prints a Markdown table; raw wrk output and logs are in /tmp/halo-bench-cc-lists/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION=${DURATION:-15} WARMUP=${WARMUP:-3} CONNECTIONS=${CONNECTIONS:-8} THREADS=${THREADS:-2}
BUILD=${BUILD:-1} KEEP_DB=${KEEP_DB:-0}
MITRAS=${MITRAS:-1000} CUSTOMERS=${CUSTOMERS:-50000} CHATS=${CHATS:-100000}
MESSAGES=${MESSAGES:-1000000} REPORTS=${REPORTS:-3000} AUDIT=${AUDIT:-100000}
WORK=/tmp/halo-bench-cc-lists
PG_ADMIN=postgres://postgres:postgres@127.0.0.1:5432
DB_NAME=halo_bench_cc_lists
export DATABASE_URL=$PG_ADMIN/$DB_NAME
ADMIN_EMAIL=bench@halobestie.id
# A throwaway database's admin; fixed so that KEEP_DB=1 can sign in again.
ADMIN_PASSWORD=bench-cc-lists-password
PIDS=()

BENCH=cc-lists
# shellcheck source=deploy/bench/stack.sh
source "$ROOT/deploy/bench/stack.sh"
cleanup() {
  stop
  if [ "$KEEP_DB" != 1 ]; then
    psql "$PG_ADMIN/postgres" -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT INT TERM

# CPU ticks (user + system) of the given pids, "pid ticks" per line.
ticks_of() { local p; for p in "$@"; do [ -r "/proc/$p/stat" ] && echo "$p $(awk '{print $14 + $15}' "/proc/$p/stat")"; done; true; }
pg_backends() {
  psql "$DATABASE_URL" -Atq -c "SELECT pid FROM pg_stat_activity WHERE datname = '$DB_NAME' AND pid <> pg_backend_pid()"
}
# Ticks used since a `ticks_of` snapshot (file $1) by the pids of that
# snapshot and by those given ($2...), a pid new since then counting in full.
ticks_since() {
  local before=$1; shift
  ticks_of "$@" | awk -v before="$before" '
    BEGIN { while ((getline line < before) > 0) { split(line, f, " "); t[f[1]] = f[2] } }
    { used += $2 - (($1 in t) ? t[$1] : 0) } END { print used + 0 }'
}

if ! command -v wrk >/dev/null; then
  log "installing wrk"; apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cd "$ROOT"
if [ "$BUILD" = 1 ]; then log "cargo build --release"; cargo build --release --workspace --locked; fi
bin=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/release
rm -rf "$WORK"; mkdir -p "$WORK/wrk" "$WORK/paths"

seed_tag="mitras=$MITRAS customers=$CUSTOMERS chats=$CHATS messages=$MESSAGES reports=$REPORTS audit=$AUDIT"
seeded=$(psql "$PG_ADMIN/postgres" -Atq -c \
  "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$DB_NAME'")
if [ "$KEEP_DB" = 1 ] && [ "$seeded" = "seeded: $seed_tag" ]; then
  log "reusing the seeded database $DB_NAME ($seed_tag)"; reuse=1
else
  psql "$PG_ADMIN/postgres" -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME" 2>/dev/null
  reuse=0
fi
"$bin/halo-core" migrate >"$WORK/migrate.log" 2>&1

# --- the stack: halo-core (internal surface) and internal-cc ---
core_port=$(free_port) cc_port=$(free_port)
export AUTH_JWT_SECRET CORE_SERVICE_SECRET
AUTH_JWT_SECRET=$(secret) CORE_SERVICE_SECRET=$(secret)
export CORE_GRPC_ADDR=127.0.0.1:$core_port CORE_GRPC_URL=http://127.0.0.1:$core_port CORE_SURFACE=internal
export CC_BOOTSTRAP_ADMIN_EMAIL=$ADMIN_EMAIL CC_BOOTSTRAP_ADMIN_PASSWORD=$ADMIN_PASSWORD
export CC_ALLOWED_ORIGINS=http://127.0.0.1:5173 RUST_LOG=warn
"$bin/halo-core" >"$WORK/core.log" 2>&1 & core_pid=$!; PIDS+=("$core_pid")
HOST=127.0.0.1 PORT=$cc_port "$bin/internal-cc" >"$WORK/internal-cc.log" 2>&1 & cc_pid=$!; PIDS+=("$cc_pid")
url=http://127.0.0.1:$cc_port
for _ in $(seq 1 100); do curl -fs "$url/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$url/readyz" >/dev/null || { log "internal-cc did not become ready (logs in $WORK)"; exit 1; }
# The core creates the admin in the background once it has started.
for _ in $(seq 1 100); do
  [ "$(psql "$DATABASE_URL" -Atq -c "SELECT count(*) FROM auth.cc_users WHERE email = '$ADMIN_EMAIL'")" = 1 ] && break
  sleep 0.2
done

# --- seed ---
if [ "$reuse" = 0 ]; then
  log "seeding $MITRAS mitras, $CUSTOMERS customers, $CHATS orders and chats, $MESSAGES messages, $REPORTS reports, $AUDIT audit entries"
  seed_started=$(date +%s.%N)
  psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 -v mitras="$MITRAS" -v customers="$CUSTOMERS" -v chats="$CHATS" \
    -v messages="$MESSAGES" -v reports="$REPORTS" -v audit="$AUDIT" -v admin_email="$ADMIN_EMAIL" \
    >"$WORK/seed.log" 2>&1 <<'SQL' || { log "seeding failed: $(tail -n 5 "$WORK/seed.log")"; exit 1; }
-- A UUIDv7 for `ts`: its 48-bit millisecond timestamp, version 7, random
-- bits, variant 10. Postgres 15 has no uuidv7(); 32 hex digits cast to uuid.
CREATE FUNCTION pg_temp.uuid7(ts timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT (lpad(to_hex(floor(extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7'
            || substr(md5(random()::text), 1, 3) || '8' || substr(md5(random()::text), 1, 15))::uuid
$$;
SET work_mem = '256MB';

-- Mitras, created 200 to 180 days ago; a third online, one in 50 suspended.
BEGIN;
CREATE TEMP TABLE seed_mitras AS
SELECT n, pg_temp.uuid7(ts) AS id, ts
FROM (SELECT n, now() - interval '200 days' + n * interval '20 days' / :mitras AS ts
      FROM generate_series(1, :mitras) n) s;
INSERT INTO users (id, user_type, phone, display_name, status, created_at, updated_at)
SELECT id, 'mitra', '+62811' || lpad(n::text, 8, '0'), 'Mitra ' || n,
       CASE WHEN n % 50 = 0 THEN 'suspended' ELSE 'active' END, ts, ts
FROM seed_mitras;
INSERT INTO mitra_profiles (mitra_id, display_name, bio, rating_count, rating_sum, created_at, updated_at)
SELECT id, 'Bestie ' || n, 'Pendengar yang sabar, siap menemani ceritamu.', n % 200, (n % 200) * 4, ts, ts
FROM seed_mitras;
INSERT INTO mitra_presence (mitra_id, status, status_changed_at, last_beat_at)
SELECT id, CASE WHEN n % 3 = 0 THEN 'online' ELSE 'offline' END, now(), now() FROM seed_mitras;
COMMIT;

-- Customers, created 180 to 90 days ago: one in ten anonymous (no phone,
-- no name), the rest with a phone +62812xxxxxxx (scattered: not in id
-- order) and a two-part name; one in 200 blocked.
BEGIN;
CREATE TEMP TABLE seed_customers AS
SELECT n, pg_temp.uuid7(ts) AS id, ts
FROM (SELECT n, now() - interval '180 days' + n * interval '90 days' / :customers AS ts
      FROM generate_series(1, :customers) n) s;
INSERT INTO users (id, user_type, is_anonymous, phone, display_name, status, created_at, updated_at)
SELECT id, 'customer', n % 10 = 0,
       CASE WHEN n % 10 <> 0 THEN '+62812' || lpad(((n::bigint * 7919) % 10000000)::text, 7, '0') END,
       CASE WHEN n % 10 <> 0 THEN
         (ARRAY['Rina', 'Dewi', 'Sari', 'Putri', 'Ayu', 'Indah', 'Wulan', 'Fitri', 'Nur', 'Lestari',
                'Maya', 'Intan', 'Nadia', 'Citra', 'Dian', 'Rizky', 'Bagus', 'Agus', 'Yoga', 'Fajar'])[1 + (n / 10) % 20]
         || ' ' ||
         (ARRAY['Santoso', 'Wijaya', 'Hartono', 'Saputra', 'Pratama', 'Kusuma', 'Hidayat', 'Nugroho',
                'Setiawan', 'Gunawan', 'Siregar', 'Nasution', 'Simanjuntak', 'Halim', 'Tanjung',
                'Wibowo', 'Susanto', 'Purnomo', 'Rahayu', 'Utami', 'Lubis', 'Harahap', 'Sihombing',
                'Putra', 'Permata'])[1 + (n / 200) % 25]
       END,
       CASE WHEN n % 200 = 7 THEN 'blocked' ELSE 'active' END, ts, ts
FROM seed_customers;
COMMIT;

-- One paid order and its chat each, over the last 90 days, by random
-- customers and mitras; three in ten chose their mitra. One in 50 was
-- never served (the order is refund_required); the newest 0.5% are
-- active; the rest ended, mostly at their time.
BEGIN;
CREATE TEMP TABLE seed_chats AS
SELECT s.n, s.ts AS ordered_at, pg_temp.uuid7(s.ts) AS order_id,
       pg_temp.uuid7(s.ts + interval '1 minute') AS chat_id, s.ts + interval '1 minute' AS chat_at,
       c.id AS customer_id, m.id AS served_by,
       CASE WHEN s.n % 50 = 17 THEN 'unserved'
            WHEN s.n > :chats - :chats / 200 THEN 'active'
            ELSE 'ended' END AS status,
       s.n % 10 < 3 AS chose
FROM (SELECT n, now() - interval '90 days' + n * interval '90 days' / :chats - interval '1 hour' AS ts,
             1 + floor(random() * :customers)::int AS customer_n, 1 + floor(random() * :mitras)::int AS mitra_n
      FROM generate_series(1, :chats) n) s
JOIN seed_customers c ON c.n = s.customer_n
JOIN seed_mitras m ON m.n = s.mitra_n;
INSERT INTO orders (id, customer_id, idempotency_key, request_hash, tier_id, tier_label, duration_minutes,
                    amount_idr, mitra_id, allow_fallback, status, invoice_id, invoice_url, expires_at,
                    paid_at, created_at, updated_at)
SELECT order_id, customer_id, 'bench-' || n, '\x00', 'chat_30', '30 menit', 30, 25000,
       CASE WHEN chose THEN served_by END, true,
       CASE WHEN status = 'unserved' THEN 'refund_required' ELSE 'paid' END,
       'inv-bench-' || n, 'https://checkout.xendit.co/web/inv-bench-' || n,
       ordered_at + interval '30 minutes', ordered_at + interval '50 seconds', ordered_at, chat_at
FROM seed_chats ORDER BY n;
INSERT INTO chats (id, order_id, customer_id, chosen_mitra_id, allow_fallback, duration_minutes, status,
                   mitra_id, match_deadline, started_at, ends_at, ended_at, ended_by, created_at, updated_at)
SELECT chat_id, order_id, customer_id, CASE WHEN chose THEN served_by END, true, 30, status,
       CASE WHEN status <> 'unserved' THEN served_by END,
       chat_at + interval '5 minutes',
       CASE WHEN status <> 'unserved' THEN chat_at + interval '20 seconds' END,
       CASE WHEN status <> 'unserved' THEN chat_at + interval '30 minutes 20 seconds' END,
       CASE WHEN status = 'ended' THEN chat_at + interval '30 minutes 20 seconds' END,
       CASE WHEN status = 'ended' THEN (CASE n % 10 WHEN 3 THEN 'customer' WHEN 6 THEN 'mitra' ELSE 'time' END) END,
       chat_at, chat_at + interval '30 minutes 20 seconds'
FROM seed_chats ORDER BY n;
INSERT INTO chat_offers (chat_id, mitra_id, offered_at, outcome)
SELECT chat_id, served_by, chat_at + interval '2 seconds',
       CASE WHEN status = 'unserved' THEN 'timed_out' ELSE 'accepted' END
FROM seed_chats ORDER BY n;
COMMIT;

-- Messages: each lands in a random served chat (about ten a chat),
-- customer and mitra in turn, 50 s apart, in time order.
BEGIN;
CREATE TEMP TABLE seed_served AS
SELECT row_number() OVER (ORDER BY n) AS k, chat_id, customer_id, served_by AS mitra_id,
       chat_at + interval '20 seconds' AS started_at
FROM seed_chats WHERE status <> 'unserved';
INSERT INTO chat_messages (chat_id, sender, sender_id, client_msg_id, body, created_at)
SELECT v.chat_id, CASE WHEN m.seq % 2 = 1 THEN 'customer' ELSE 'mitra' END,
       CASE WHEN m.seq % 2 = 1 THEN v.customer_id ELSE v.mitra_id END,
       'bench-' || m.j,
       'Pesan ' || m.seq || ': ' || left(repeat('aku cuma butuh teman cerita malam ini, ', 5), 10 + m.j % 150),
       v.started_at + m.seq * interval '50 seconds'
FROM (SELECT j, k, row_number() OVER (PARTITION BY k ORDER BY j) AS seq
      FROM (SELECT j, 1 + floor(random() * (SELECT count(*) FROM seed_served))::bigint AS k
            FROM generate_series(1, :messages) j) r) m
JOIN seed_served v USING (k)
ORDER BY v.started_at, m.seq;
COMMIT;

-- Reports on random served chats, from either side; a third still open.
BEGIN;
INSERT INTO chat_reports (id, chat_id, reporter_type, reporter_id, reason, note, status, created_at,
                          resolved_at, resolution_note)
SELECT pg_temp.uuid7(ts), chat_id, reporter_type,
       CASE WHEN reporter_type = 'customer' THEN customer_id ELSE mitra_id END,
       (ARRAY['harassment', 'sexual_content', 'self_harm_risk', 'scam', 'other'])[1 + i % 5],
       'Laporan dari bench', CASE WHEN i % 3 = 0 THEN 'open' ELSE 'resolved' END, ts,
       CASE WHEN i % 3 <> 0 THEN ts + interval '1 day' END,
       CASE WHEN i % 3 <> 0 THEN 'Sudah ditangani' END
FROM (SELECT row_number() OVER () AS i, chat_id, customer_id, mitra_id,
             started_at + interval '10 minutes' AS ts,
             CASE WHEN random() < 0.7 THEN 'customer' ELSE 'mitra' END AS reporter_type
      FROM (SELECT * FROM seed_served ORDER BY random() LIMIT :reports) r) s
ORDER BY ts;
COMMIT;

-- Earlier transcript reads by the admin (of chats spread over the seed),
-- in time order.
BEGIN;
INSERT INTO audit_log (at, actor_id, action, target_type, target_id, request_id, client_ip)
SELECT at, (SELECT id FROM auth.cc_users WHERE email = :'admin_email'), 'chat.transcript_read', 'chat',
       chat_id::text, md5(chat_id::text), '10.0.0.1'
FROM (SELECT v.chat_id, least(v.started_at + interval '1 hour' + random() * interval '1 day',
                               now() - interval '1 second') AS at
      FROM generate_series(1, :audit) j
      JOIN seed_served v ON v.k = 1 + (j * 7919) % (SELECT count(*) FROM seed_served)) s
ORDER BY at;
COMMIT;

-- As autovacuum would leave them: statistics and visibility maps.
VACUUM (ANALYZE);
SQL
  seed_seconds=$(awk -v a="$seed_started" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  psql "$PG_ADMIN/postgres" -q -c "COMMENT ON DATABASE $DB_NAME IS 'seeded: $seed_tag'"
  log "seeded in $(printf '%.1f' "$seed_seconds") s"
else
  seed_seconds=
fi
psql "$DATABASE_URL" -At -F ' ' -c "
  SELECT 'rows: users ' || (SELECT count(*) FROM users) || ', orders ' || (SELECT count(*) FROM orders)
         || ', chats ' || (SELECT count(*) FROM chats) || ', messages ' || (SELECT count(*) FROM chat_messages)
         || ', reports ' || (SELECT count(*) FROM chat_reports) || ', audit ' || (SELECT count(*) FROM audit_log)
         || '; database ' || pg_size_pretty(pg_database_size(current_database()))" | while read -r line; do log "$line"; done

# The online mitras beat as the gateways would write it (every 30 s,
# batched), so the mitra list and the dashboard count them as online.
( while true; do
    psql "$DATABASE_URL" -q -c "UPDATE mitra_presence SET last_beat_at = now() WHERE status = 'online'" >/dev/null 2>&1
    sleep 30
  done ) & PIDS+=($!)

# --- sign in ---
token=$(curl -fsS -X POST "$url/internal/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])') \
  || { log "could not sign in as $ADMIN_EMAIL (logs in $WORK)"; exit 1; }

# --- the requests: one file of paths per endpoint ---
P=$WORK/paths
q() { psql "$DATABASE_URL" -Atq -c "$1"; }
echo "/internal/chats?limit=50" >"$P/chats.txt"
echo "/internal/chats?status=ended&limit=50" >"$P/chats_ended.txt"
echo "/internal/chats?status=active&limit=50" >"$P/chats_active.txt"
q "SELECT '/internal/chats?limit=50&cursor=' || id FROM chats ORDER BY random() LIMIT 1000" >"$P/chats_cursor.txt"
q "SELECT '/internal/chats?limit=50&mitra_id=' || id FROM users WHERE user_type = 'mitra' ORDER BY random() LIMIT 200" \
  >"$P/chats_mitra.txt"
q "SELECT '/internal/chats?limit=50&customer_id=' || customer_id FROM chats ORDER BY random() LIMIT 1000" \
  >"$P/chats_customer.txt"
q "SELECT '/internal/chats?limit=50&from=' || to_char(f, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
          || '&to=' || to_char(f + interval '1 day', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
   FROM (SELECT (now() - random() * interval '89 days') AT TIME ZONE 'UTC' AS f FROM generate_series(1, 200)) s" \
  >"$P/chats_window.txt"
q "SELECT '/internal/chats/' || id || '/transcript?limit=100' FROM chats WHERE status <> 'unserved'
   ORDER BY random() LIMIT 1000" >"$P/transcript.txt"
echo "/internal/orders?limit=50" >"$P/orders.txt"
echo "/internal/orders?status=refund_required&limit=50" >"$P/orders_refund.txt"
for part in rina dewi wulan santoso ayu%20ha nadia%20w intan fajar%20lubis citra gunawan; do
  echo "/internal/customers?limit=50&q=$part"
done >"$P/customers_name.txt"
q "SELECT '/internal/customers?limit=50&q=%2B62812' || lpad(floor(random() * 1000)::text, 3, '0')
   FROM generate_series(1, 200)" >"$P/customers_phone_prefix.txt"
q "SELECT '/internal/customers?limit=50&q=' || replace(phone, '+', '%2B') FROM users
   WHERE user_type = 'customer' AND phone IS NOT NULL ORDER BY random() LIMIT 1000" >"$P/customers_phone.txt"
echo "/internal/mitras?limit=50" >"$P/mitras.txt"
echo "/internal/audit-log?limit=50" >"$P/audit_log.txt"
echo "/internal/reports?status=open&limit=50" >"$P/reports_open.txt"
echo "/internal/dashboard" >"$P/dashboard.txt"

# name|label, in the order run (the transcript reads write the audit log's newest rows).
ENDPOINTS=(
  "chats|GET /internal/chats"
  "chats_ended|GET /internal/chats?status=ended"
  "chats_active|GET /internal/chats?status=active"
  "chats_cursor|GET /internal/chats?cursor=<random chat>"
  "chats_mitra|GET /internal/chats?mitra_id=<random mitra>"
  "chats_customer|GET /internal/chats?customer_id=<random customer>"
  "chats_window|GET /internal/chats?from=&to= (a random day)"
  "transcript|GET /internal/chats/{id}/transcript?limit=100 (audited)"
  "orders|GET /internal/orders"
  "orders_refund|GET /internal/orders?status=refund_required"
  "customers_name|GET /internal/customers?q=<part of a name>"
  "customers_phone_prefix|GET /internal/customers?q=%2B62812ddd (phone prefix)"
  "customers_phone|GET /internal/customers?q=<full phone>"
  "mitras|GET /internal/mitras"
  "audit_log|GET /internal/audit-log"
  "reports_open|GET /internal/reports?status=open"
  "dashboard|GET /internal/dashboard"
)

# One check per endpoint before any load: its status and how many items.
for entry in "${ENDPOINTS[@]}"; do
  name=${entry%%|*}
  code=$(curl -s -o "$WORK/wrk/$name.first.json" -w '%{http_code}' -m 30 -H "Authorization: Bearer $token" \
    "$url$(head -n 1 "$P/$name.txt")")
  items=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(len(d["items"]) if "items" in d else "-")' \
    "$WORK/wrk/$name.first.json" 2>/dev/null || echo "?")
  echo "$code $items" >"$WORK/wrk/$name.first"
  [ "$code" = 200 ] || log "$name: $(head -n 1 "$P/$name.txt") answered $code: $(head -c 300 "$WORK/wrk/$name.first.json")"
done

hz=$(getconf CLK_TCK)
# wrk output -> requests, req/s, p50 ms, p99 ms, non-2xx
parse_wrk() {
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0
                        if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v }
    / requests in / { n = $1 } $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
    /^Requests\/sec:/ { rps = $2 } /Non-2xx or 3xx responses:/ { bad = $NF }
    END { printf "%d %.1f %.2f %.2f %d\n", n, rps, p50, p99, bad }' "$1"
}
per_request() { awk -v t="$1" -v n="$2" -v hz="$hz" 'BEGIN { if (n > 0) printf "%.0f", t / hz * 1e6 / n; else print "-" }'; }

TABLE=$WORK/results.md
{
  echo "| endpoint | first page | req/s | p50 ms | p99 ms | non-2xx | internal-cc µs/req | core µs/req | Postgres µs/req |"
  echo "|---|---|---|---|---|---|---|---|---|"
} >"$TABLE"
for entry in "${ENDPOINTS[@]}"; do
  name=${entry%%|*} label=${entry#*|}
  log "$label: wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up, ${DURATION}s"
  if [ "$WARMUP" -gt 0 ]; then
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s deploy/bench/cc_lists.lua "$url" \
      -- "$token" "$P/$name.txt" >"$WORK/wrk/$name.warmup.txt" 2>&1
  fi
  mapfile -t backends < <(pg_backends)
  ticks_of "$cc_pid" >"$WORK/cc.before"; ticks_of "$core_pid" >"$WORK/core.before"
  ticks_of "${backends[@]}" >"$WORK/pg.before"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s deploy/bench/cc_lists.lua "$url" \
    -- "$token" "$P/$name.txt" >"$WORK/wrk/$name.txt" 2>&1
  cc_used=$(ticks_since "$WORK/cc.before" "$cc_pid")
  core_used=$(ticks_since "$WORK/core.before" "$core_pid")
  mapfile -t backends_after < <(pg_backends)
  mapfile -t backends < <(printf '%s\n' "${backends[@]}" "${backends_after[@]}" | sort -u)
  pg_used=$(ticks_since "$WORK/pg.before" "${backends[@]}")
  read -r requests rps p50 p99 bad <<<"$(parse_wrk "$WORK/wrk/$name.txt")"
  read -r first_code first_items <"$WORK/wrk/$name.first"
  first="$first_items items"; [ "$first_items" = - ] && first=200
  [ "$first_code" = 200 ] || first="HTTP $first_code"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$first" "$rps" "$p50" "$p99" "$bad" \
    "$(per_request "$cc_used" "$requests")" "$(per_request "$core_used" "$requests")" \
    "$(per_request "$pg_used" "$requests")" >>"$TABLE"
done

echo
echo "internal-cc lists, $CHATS chats and $MESSAGES messages seeded${seed_seconds:+ (seeded in $(printf '%.0f' "$seed_seconds") s)};"
echo "wrk -t$THREADS -c$CONNECTIONS, ${DURATION}s per endpoint after ${WARMUP}s of warm-up; release build; nproc=$(nproc)."
echo
cat "$TABLE"
echo
# e.g. sqlx's "there is already a transaction in progress" after wrk dropped requests mid-flight
logged=$(grep '"path":"/internal/' "$WORK/internal-cc.log" | grep -c '"severity":"\(WARNING\|ERROR\)"' || true)
echo "internal-cc logged $logged warnings or errors while serving requests (RUST_LOG=warn)."
echo "Raw wrk output: $WORK/wrk/; logs: $WORK/."
