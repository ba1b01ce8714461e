#!/usr/bin/env bash
# deploy/bench/heartbeats.sh: what 5,000 mitras beating every 30 s cost
# Postgres (issue 10), the batched way the gateway writes beats against one
# write per beat.
#
# One 30-second window of beats is MITRAS rows touched once each:
#   per beat  MITRAS single-row UPDATEs, each its own transaction (what a
#             write per request would do);
#   batched   30 UPDATEs of MITRAS/30 ids each (`... WHERE mitra_id =
#             ANY($1)`), one per second per instance, what
#             halo_mitras::Heartbeats::flush sends.
# It reports, per window, the statements, how long one client sending them
# in turn over loopback took (the sum of their latencies, commits included)
# and the WAL written. The
# HTTP side of a beat is a hash-set insert with no I/O and is not measured
# here.
#
# Needs PostgreSQL on 127.0.0.1:5432 (postgres/postgres) and psql; uses the
# debug halo-core binary for the migrations (BUILD=1 builds it first):
#   deploy/bench/heartbeats.sh               # MITRAS=5000 ROUNDS=3
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MITRAS=${MITRAS:-5000} ROUNDS=${ROUNDS:-3} BUILD=${BUILD:-0}
PG_ADMIN=postgres://postgres:postgres@127.0.0.1:5432
DB_NAME=halo_bench_heartbeats
export DATABASE_URL=$PG_ADMIN/$DB_NAME
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; psql "$PG_ADMIN/postgres" -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1 || true' EXIT

log() { printf '[heartbeat-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
cd "$ROOT"
if [ "$BUILD" = 1 ]; then cargo build --workspace --bins; fi
bin=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug

psql "$PG_ADMIN/postgres" -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1
"$bin/halo-core" migrate >/dev/null
psql "$DATABASE_URL" -q -c "
  INSERT INTO users (id, user_type, phone)
  SELECT gen_random_uuid(), 'mitra', '+62812' || lpad(n::text, 8, '0') FROM generate_series(1, $MITRAS) n;
  INSERT INTO mitra_presence (mitra_id, status) SELECT id, 'online' FROM users WHERE user_type = 'mitra';"
psql "$DATABASE_URL" -Atq -c "SELECT mitra_id FROM mitra_presence ORDER BY random()" >"$WORK/ids"

# One statement per line; psql in autocommit makes each its own transaction.
awk '{ printf "UPDATE mitra_presence SET last_beat_at = now() WHERE mitra_id = '"'"'%s'"'"';\n", $1 }' \
  "$WORK/ids" >"$WORK/per-beat.sql"
per_second=$(( (MITRAS + 29) / 30 ))
awk -v n="$per_second" '
  { ids = ids (ids == "" ? "" : ",") "\"" $1 "\"" }
  NR % n == 0 { printf "UPDATE mitra_presence SET last_beat_at = now() WHERE mitra_id = ANY('"'"'{%s}'"'"'::uuid[]);\n", ids; ids = "" }
  END { if (ids != "") printf "UPDATE mitra_presence SET last_beat_at = now() WHERE mitra_id = ANY('"'"'{%s}'"'"'::uuid[]);\n", ids }
' "$WORK/ids" >"$WORK/batched.sql"

# Prints "<statements> <milliseconds> <WAL bytes>" for one run of a file.
measure() {
  local file=$1 before after started ended
  before=$(psql "$DATABASE_URL" -Atq -c "SELECT pg_current_wal_lsn()")
  started=$(date +%s%N)
  psql "$DATABASE_URL" -q -f "$file" >/dev/null
  ended=$(date +%s%N)
  after=$(psql "$DATABASE_URL" -Atq -c "SELECT pg_current_wal_lsn()")
  local wal; wal=$(psql "$DATABASE_URL" -Atq -c "SELECT pg_wal_lsn_diff('$after', '$before')::bigint")
  echo "$(wc -l <"$file") $(( (ended - started) / 1000000 )) $wal"
}

log "$MITRAS mitras, one 30 s window of beats, $ROUNDS rounds each (median reported)"
for kind in per-beat batched; do
  results=()
  for _ in $(seq 1 "$ROUNDS"); do
    psql "$DATABASE_URL" -q -c "VACUUM mitra_presence" >/dev/null
    results+=("$(measure "$WORK/$kind.sql")")
  done
  printf '%s\n' "${results[@]}" | sort -n -k2 | sed -n "$(( (ROUNDS + 1) / 2 ))p" | {
    read -r statements ms wal
    printf '%-9s %6d statements per window, %6d ms sent in turn (%.1f%% of the 30 s), %8d bytes of WAL\n' \
      "$kind" "$statements" "$ms" "$(echo "$ms / 300" | bc -l)" "$wal"
  }
done
