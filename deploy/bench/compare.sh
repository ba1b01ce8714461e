#!/usr/bin/env bash
# deploy/bench/compare.sh: our Rust services (halo-core + public-gateway, release
# build) against the reference Fastify stack, side by side in one run, on this machine.
#
# Per repetition it measures the reference, then ours (never both up at once: both
# serve on 127.0.0.1:3000), each started fresh on freshly reset tokens:
#   me       GET with a valid access token (token check + one primary-key read):
#            ours /api/client/me, reference /api/client/profile. wrk -t2 -c64 -d$DURATION
#   refresh  POST /api/shared/auth/refresh, bcrypt cost 10, a distinct never-used
#            refresh token per request. wrk -t2 -c64 -d$DURATION --timeout 60s
#   storm    /me (wrk -t1 -c16 -d10s) while a refresh wrk (-t2 -c64, started 3 s
#            earlier) saturates bcrypt, against a quiet /me run with the same -t1 -c16
# Output: deploy/bench/RESULTS.md (medians over repetitions, ratios ours / reference),
# raw wrk output in /tmp/halo-bench/results/, server logs in /tmp/halo-bench/logs/.
#
# Run as root (it may apt-get install wrk); needs PostgreSQL 15 on 127.0.0.1:5432
# (postgres/postgres), node 20 + npm, python3, curl, psql:
#   deploy/bench/compare.sh                       # REPS=2 DURATION=15
#   REPS=1 DURATION=10 BUILD=0 deploy/bench/compare.sh
# Knobs: REPS (2), DURATION (15 s), WARMUP (5 s of /me, discarded), BUILD (1: cargo
#   build --release first; 0: use target/release as is), REF_SRC (the read-only
#   reference, copied to /tmp/halo-bench/fastify-ref), REF_USERS (3000), OUR_USERS (4000).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/deploy/bench
REPS=${REPS:-2} DURATION=${DURATION:-15} WARMUP=${WARMUP:-5} BUILD=${BUILD:-1}
REF_SRC=${REF_SRC:-$ROOT/../shared/bench/fastify-ref} REF_USERS=${REF_USERS:-3000} OUR_USERS=${OUR_USERS:-4000}
WORK=/tmp/halo-bench
REF=$WORK/fastify-ref RES=$WORK/results TOK=$WORK/tokens LOGS=$WORK/logs
TSV=$RES/runs.tsv URL=http://127.0.0.1:3000 STORM_LEAD=3 STORM_ME=10
PG_ADMIN=postgres://postgres:postgres@127.0.0.1:5432
OUR_DB=$PG_ADMIN/halo_bench REF_DB=postgres://fastify_ref:fastify_ref@127.0.0.1:5432/fastify_ref
REF_JWT=compare-sh-reference-hs256-secret-0123456789
OUR_JWT=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))') # 43 chars, base64url
SERVER_PIDS=() BG_WRK=""

log() { printf '[compare %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

stop_servers() { # SIGTERM, then up to 15 s each before SIGKILL
  local pid _
  for pid in "${SERVER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${SERVER_PIDS[@]}"; do
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PIDS=()
}
cleanup() {
  if [ -n "$BG_WRK" ]; then kill "$BG_WRK" 2>/dev/null || true; fi
  stop_servers
}
trap cleanup EXIT
trap 'exit 130' INT TERM

check_tools() {
  local c
  for c in node npm psql curl python3 ss; do command -v "$c" >/dev/null || die "missing $c"; done
  if ! command -v wrk >/dev/null; then
    log "installing wrk"; apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  fi
  ports_free
}
ports_free() { # 3000, 3001 and 50051 must be free (waits up to 10 s each)
  local p _
  for p in 3000 3001 50051; do
    for _ in $(seq 1 50); do [ -z "$(ss -Hltn "sport = :$p")" ] && break; sleep 0.2; done
    [ -z "$(ss -Hltn "sport = :$p")" ] || die "port $p is in use (not by this script's servers)"
  done
}

setup_ref() {
  log "reference: copy to $REF, npm ci, database, seed ($REF_USERS sessions; slow only the first time)"
  rm -rf "$REF" && cp -r "$REF_SRC" "$REF" && rm -rf "$REF/node_modules" "$REF/results"
  (cd "$REF" && npm ci --no-audit --no-fund >"$LOGS/npm-ci.log" 2>&1) || die "npm ci failed: $LOGS/npm-ci.log"
  "$REF/scripts/db-setup.sh" >/dev/null
  (cd "$REF" && DATABASE_URL=$REF_DB SEED_USERS=$REF_USERS node scripts/seed.js) >"$LOGS/ref-seed.log"
}

# mint.js gives rotated sessions their seed secret back, then writes access.txt and
# refresh.txt (single-use tokens of every session but its 8 smoke ones) + refresh-smoke.txt
reset_ref() {
  (cd "$REF" && DATABASE_URL=$REF_DB JWT_SECRET=$REF_JWT OUT_DIR=$TOK/ref \
    MINT_REFRESH=$((REF_USERS - 8)) node scripts/mint.js) >>"$LOGS/ref-mint.log"
  split_refresh "$TOK/ref"
}

# refresh.txt -> refresh-a.txt (the refresh run) + refresh-b.txt (the storm)
split_refresh() {
  local n; n=$(wc -l <"$1/refresh.txt")
  head -n $((n / 2)) "$1/refresh.txt" >"$1/refresh-a.txt"
  tail -n +$((n / 2 + 1)) "$1/refresh.txt" >"$1/refresh-b.txt"
}

# `env "${OUR_ENV[@]}" binary &` forks once: $! is the server's own pid
OUR_ENV=(DATABASE_URL="$OUR_DB" AUTH_JWT_SECRET="$OUR_JWT" CORE_GRPC_ADDR=127.0.0.1:50051
  CORE_GRPC_URL=http://127.0.0.1:50051 HOST=127.0.0.1 PORT=3000 BCRYPT_COST=10 RUST_LOG=warn
  SHUTDOWN_DRAIN_SECONDS=2)

setup_ours() {
  if [ "$BUILD" = 1 ]; then
    log "ours: cargo build --release --workspace --bins"
    (cd "$ROOT" && cargo build --release --workspace --bins)
  fi
  env "${OUR_ENV[@]}" "$ROOT/target/release/halo-core" migrate >"$LOGS/ours-migrate.log" 2>&1 || die "migrate: $LOGS/ours-migrate.log"
  # one bcrypt cost-10 hash of SECRET, shared by every seeded session
  OUR_HASH=$(node -e 'console.log(require(process.argv[1]).hashSync(process.argv[2], 10))' \
    "$REF/node_modules/bcrypt" "$SECRET")
}

# fresh customers + sessions (generation 1, never refreshed), then the token files
reset_ours() {
  psql -q -v ON_ERROR_STOP=1 -v n="$OUR_USERS" -v hash="$OUR_HASH" "$OUR_DB" >/dev/null <<'SQL'
SET client_min_messages = warning;
TRUNCATE users, auth.sessions CASCADE;
WITH u AS (
  INSERT INTO users (id, user_type, is_anonymous, display_name)
  SELECT gen_random_uuid(), 'customer', false, 'Bench ' || g FROM generate_series(1, :n) g RETURNING id
), s AS (
  INSERT INTO auth.sessions (id, user_id, user_type, refresh_generation, expires_at)
  SELECT gen_random_uuid(), id, 'customer', 1, now() + interval '30 days' FROM u RETURNING id
)
INSERT INTO auth.refresh_tokens (session_id, generation, token_hash) SELECT id, 1, :'hash' FROM s;
ANALYZE users; ANALYZE auth.sessions; ANALYZE auth.refresh_tokens;
SQL
  mkdir -p "$TOK/ours"
  psql -Atc "SELECT id || '.1.$SECRET' FROM auth.sessions ORDER BY id" "$OUR_DB" >"$TOK/ours/all.txt"
  tail -n 1 "$TOK/ours/all.txt" >"$TOK/ours/refresh-smoke.txt"
  head -n -1 "$TOK/ours/all.txt" >"$TOK/ours/refresh.txt"
  split_refresh "$TOK/ours"
  psql -Atc "SELECT user_id || ' ' || id FROM auth.sessions ORDER BY id LIMIT 1000" "$OUR_DB" | python3 -c '
import base64, hashlib, hmac, json, sys, time
def b64(raw): return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
def part(obj): return b64(json.dumps(obj, separators=(",", ":")).encode())
key, now = sys.argv[1].encode(), int(time.time())
for line in sys.stdin:
    user, session = line.split()
    claims = {"sub": user, "user_type": "customer", "session_id": session, "iat": now, "exp": now + 6 * 3600}
    signing_input = part({"alg": "HS256", "typ": "JWT"}) + "." + part(claims)
    print(signing_input + "." + b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest()))
' "$OUR_JWT" >"$TOK/ours/access.txt"
}

start_server() { # ref|ours rep
  local ready=$URL/readyz _
  ports_free
  if [ "$1" = ref ]; then
    (cd "$REF" && exec env HOST=127.0.0.1 PORT=3000 INTERNAL_PORT=3001 DATABASE_URL="$REF_DB" \
      JWT_SECRET="$REF_JWT" PG_POOL_MAX=10 BCRYPT_COST=10 NODE_ENV=production LOG_LEVEL=warn \
      node src/server.js) >"$LOGS/ref-rep$2.log" 2>&1 &
    SERVER_PIDS+=($!) ready=http://127.0.0.1:3001/internal/health
  else
    env "${OUR_ENV[@]}" "$ROOT/target/release/halo-core" >"$LOGS/core-rep$2.log" 2>&1 &
    SERVER_PIDS+=($!)
    env "${OUR_ENV[@]}" "$ROOT/target/release/public-gateway" >"$LOGS/gateway-rep$2.log" 2>&1 &
    SERVER_PIDS+=($!)
  fi
  for _ in $(seq 1 100); do curl -fs -o /dev/null -m 1 "$ready" && return 0; sleep 0.2; done
  die "$1 not ready at $ready (logs in $LOGS)"
}

# one valid token of each kind must get a 200 before anything is measured
smoke() {
  local out=$LOGS/$SERVER-smoke code
  code=$(curl -s -o "$out-me.json" -w '%{http_code}' -m 5 \
    -H "Authorization: Bearer $(head -n 1 "$TOK/$SERVER/access.txt")" "$URL$ME_PATH")
  [ "$code" = 200 ] || die "$SERVER: GET $ME_PATH answered $code: $(cat "$out-me.json")"
  code=$(curl -s -o "$out-refresh.json" -w '%{http_code}' -m 10 -H 'Content-Type: application/json' \
    -d "{\"refresh_token\":\"$(head -n 1 "$TOK/$SERVER/refresh-smoke.txt")\"}" "$URL/api/shared/auth/refresh")
  [ "$code" = 200 ] || die "$SERVER: refresh answered $code: $(cat "$out-refresh.json")"
}

# wrk output -> rps, p50 ms, p99 ms, non-2xx, socket errors c/r/w/t, refresh tokens sent/exhausted
parse_wrk() {
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0
                        if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) } /^Requests\/sec:/ { rps = $2 }
    /Non-2xx or 3xx responses:/ { bad = $NF }
    /Socket errors:/ { gsub(",", ""); se = $4 "/" $6 "/" $8 "/" $10 }
    /^refresh tokens sent:/ { gsub(",", ""); tk = $4 "/" $6 }
    END { printf "%s\t%.2f\t%.2f\t%d\t%s\t%s\n", rps ? rps : 0, p50, p99, bad, se ? se : "0/0/0/0", tk ? tk : "-" }' "$1"
}

wrk_me() { # rep test threads conns seconds
  wrk -t"$3" -c"$4" -d"$5"s --latency -s "$HERE/bearer.lua" "$URL" -- "$TOK/$SERVER/access.txt" "$ME_PATH" \
    >"$RES/$SERVER-rep$1-$2.txt" 2>&1
}
wrk_refresh() { # rep test seconds token-file
  wrk -t2 -c64 -d"$3"s --timeout 60s --latency -s "$HERE/refresh.lua" "$URL" -- "$4" 2 \
    >"$RES/$SERVER-rep$1-$2.txt" 2>&1
}
record() { # rep test
  printf '%s\t%s\t%s\t%s\n' "$SERVER" "$1" "$2" "$(parse_wrk "$RES/$SERVER-rep$1-$2.txt")" >>"$TSV"
}

# waits (<= 30 s) until the server processes use < 10 % of a core (refresh leaves a queue)
wait_idle() {
  local before after _
  ticks() { local p s=0; for p in "${SERVER_PIDS[@]}"; do
    s=$((s + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$s"; }
  for _ in $(seq 1 30); do
    before=$(ticks); sleep 1; after=$(ticks)
    [ $((after - before)) -lt 10 ] && return 0
  done
  log "$SERVER still busy after 30 s; measuring anyway"
}

measure() { # ref|ours rep
  local r=$2
  SERVER=$1 ME_PATH=/api/client/me
  if [ "$1" = ref ]; then ME_PATH=/api/client/profile; reset_ref; else reset_ours; fi
  log "rep $r: $1 start, smoke, /me warm-up ${WARMUP}s, /me -t2 -c64 ${DURATION}s, /me -t1 -c16 ${STORM_ME}s"
  start_server "$1" "$r"
  smoke
  wrk_me "$r" warmup 2 64 "$WARMUP"
  wrk_me "$r" me 2 64 "$DURATION"; record "$r" me
  wrk_me "$r" me_quiet 1 16 "$STORM_ME"; record "$r" me_quiet
  log "rep $r: $1 refresh -t2 -c64 ${DURATION}s"
  wrk_refresh "$r" refresh "$DURATION" "$TOK/$1/refresh-a.txt"; record "$r" refresh
  wait_idle
  log "rep $r: $1 storm: refresh -t2 -c64, after ${STORM_LEAD}s /me -t1 -c16 ${STORM_ME}s"
  wrk_refresh "$r" refresh_storm $((STORM_LEAD + STORM_ME + 2)) "$TOK/$1/refresh-b.txt" &
  BG_WRK=$!
  sleep "$STORM_LEAD"
  wrk_me "$r" me_storm 1 16 "$STORM_ME"; record "$r" me_storm
  wait "$BG_WRK"; BG_WRK=""
  record "$r" refresh_storm
  stop_servers
}

write_results() {
  {
    cat <<EOF
# Rust services vs the Fastify reference

Generated by \`deploy/bench/compare.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'). Machine: nproc=$(nproc),
$(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/^Mem:/{print $2}') GiB RAM; node $(node -v),
$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), PostgreSQL $(psql -Atc 'SHOW server_version' "$PG_ADMIN/postgres").

Settings: REPS=$REPS, DURATION=${DURATION}s (me, refresh), WARMUP=${WARMUP}s (/me, discarded); storm: refresh
wrk -t2 -c64 started ${STORM_LEAD}s before a /me wrk -t1 -c16 -d${STORM_ME}s. Per repetition the reference, then
ours, each started fresh on reset tokens, never both at once; wrk shares the cores with the servers.
BCRYPT_COST=10; DB pools: the reference its PG_POOL_MAX=10, ours the gateway default (2 × cores); refresh runs use \`--timeout 60s\` and a never-used
token per request (reference: $REF_USERS seeded sessions; ours: $OUR_USERS). Ours = halo-core + public-gateway
(release, RUST_LOG=warn); reference = \`node src/server.js\` (NODE_ENV=production, LOG_LEVEL=warn). Figures are
medians over repetitions; ratio = ours / reference (req/s: above 1 is better for ours; latency: below 1 is).

Reading refresh rows: wrk counts completed requests of a closed loop with 64 in flight, so req/s includes the
ramp (first answers after a few seconds) and leaves out the requests still queued at the end; it understates
bcrypt capacity on both sides alike. Ours' gateway gives each core call a 10 s deadline: a refresh queued longer
fails (408 \`upstream_timeout\`, counted as non-2xx) where the reference keeps queueing.

EOF
    python3 - "$TSV" <<'PY'
import csv, statistics, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter="\t"))
def med(server, test, col):
    vals = [float(r[col]) for r in rows if r[0] == server and r[2] == test]
    return statistics.median(vals) if vals else float("nan")
def ratio(a, b): return f"{a / b:.2f}" if b else "n/a"
print("| test | ref req/s | ours req/s | ratio | ref p50 ms | ours p50 ms | ratio | ref p99 ms | ours p99 ms | ratio |")
print("|---" * 10 + "|")
for test, label in [("me", "GET /me (ref: /api/client/profile), -t2 -c64"), ("refresh", "POST refresh, -t2 -c64"),
                    ("me_quiet", "GET /me quiet, -t1 -c16"), ("me_storm", "GET /me during refresh storm, -t1 -c16"),
                    ("refresh_storm", "POST refresh (the storm itself), -t2 -c64")]:
    cells = []
    for col in (3, 4, 5):
        a, b = med("ref", test, col), med("ours", test, col)
        cells += [f"{a:,.2f}", f"{b:,.2f}", ratio(b, a)]
    print(f"| {label} | " + " | ".join(cells) + " |")
print("\n## /me under a refresh storm\n")
print("| server | quiet p99 ms | storm p99 ms | storm / quiet p99 | quiet req/s | storm req/s | refresh req/s meanwhile |")
print("|---" * 7 + "|")
for server, name in (("ref", "reference"), ("ours", "ours")):
    quiet, storm = med(server, "me_quiet", 5), med(server, "me_storm", 5)
    print(f"| {name} | {quiet:.2f} | {storm:.2f} | {ratio(storm, quiet)} | {med(server, 'me_quiet', 3):,.0f} | "
          f"{med(server, 'me_storm', 3):,.0f} | {med(server, 'refresh_storm', 3):.1f} |")
print("\n## Every run\n\nSocket errors: connect/read/write/timeout. Refresh tokens: sent/exhausted (a thread out"
      " of tokens sends a malformed one, counted as non-2xx).\n")
print("| server | rep | test | req/s | p50 ms | p99 ms | non-2xx | socket errors | refresh tokens |")
print("|---" * 9 + "|")
for r in rows: print("| " + " | ".join(r) + " |")
print("\nRaw wrk output: `/tmp/halo-bench/results/`; server logs: `/tmp/halo-bench/logs/`.")
PY
  } >"$HERE/RESULTS.md"
}

main() {
  check_tools
  rm -rf "$RES" "$LOGS" "$TOK" && mkdir -p "$RES" "$LOGS" "$TOK"
  : >"$TSV"
  setup_ref
  setup_ours
  local rep
  for rep in $(seq 1 "$REPS"); do
    measure ref "$rep"
    measure ours "$rep"
  done
  write_results
  log "done: $HERE/RESULTS.md; raw wrk output in $RES"
}
main "$@"
