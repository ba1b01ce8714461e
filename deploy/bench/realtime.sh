#!/usr/bin/env bash
# deploy/bench/realtime.sh: the socket relay (issue 11), ours and the
# reference Fastify relay (../shared/bench/fastify-ref) side by side in one
# run, both driven by the same Rust load generator (bench/wsload, speaking
# the reference's frames) and, with REFERENCE=1, also by the reference's
# own wsload.js; each as two instances over one Redis.
#
# For each server: relay latency sender -> receiver across the two
# instances at each of RATES messages/s over PAIRS connected pairs (the
# customer on instance A, the mitra on B, both sending), acks, losses, and
# the servers' CPU per message, with the machine's noise over each rate
# (CPU stolen by the hypervisor, time some task stalled on I/O: a run on a
# throttled disk or a busy host reads differently); then resident memory
# per idle socket with IDLE sockets on one instance. The reference's own
# wsload.js smoke check is run against ours first (same frames). Release
# build by default.
#
# Needs PostgreSQL on 127.0.0.1:5432 (postgres/postgres), psql,
# redis-server, Node 20 and npm (REFERENCE=0 skips the reference):
#   deploy/bench/realtime.sh                       # PAIRS=1000 RATES="1000 2000 3000 4000 5000 6000 12000" IDLE=10000
#   BUILD=0 REFERENCE=0 RATES=2000 deploy/bench/realtime.sh
#   PROFILE=debug PAIRS=50 RATES=200 DURATION=3 IDLE=200 deploy/bench/realtime.sh   # a quick try
#   RATES= deploy/bench/realtime.sh                 # idle memory only
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PAIRS=${PAIRS:-1000} RATES=${RATES-1000 2000 3000 4000 5000 6000 12000} DURATION=${DURATION:-20} WARMUP=${WARMUP:-3}
IDLE=${IDLE:-10000} HOLD=${HOLD:-10} BUILD=${BUILD:-1} REFERENCE=${REFERENCE:-1} PROFILE=${PROFILE:-release}
WORK=/tmp/halo-bench-realtime
REF_DIR=/tmp/fastify-ref
PG_ADMIN=postgres://postgres:postgres@127.0.0.1:5432
DB_NAME=halo_bench_realtime
# Without TLS, as the reference's driver connects: on loopback TLS only
# adds encryption to every statement of ours (sqlx prefers TLS when the
# server offers it, and Debian's Postgres does).
export DATABASE_URL=$PG_ADMIN/$DB_NAME?sslmode=disable
PIDS=()

BENCH=realtime
# shellcheck source=deploy/bench/stack.sh
source "$ROOT/deploy/bench/stack.sh"
wait_http() { for _ in $(seq 1 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; log "$1 not ready"; exit 1; }
# What a rate is read by, taken before and after it: the CPU seconds
# (user + system) the servers' processes have used, then the machine's own
# noise: CPU ticks stolen by the hypervisor and all ticks (/proc/stat),
# microseconds some task waited on I/O (/proc/pressure/io; -1 without
# PSI), and the time.
snapshot() { # PID...
  # shellcheck disable=SC2046 # one path per pid
  awk -v hz="$(getconf CLK_TCK)" '{ s += $14 + $15 } END { printf "%.3f ", s / hz }' $(printf '/proc/%s/stat ' "$@")
  awk '/^cpu /{ t = 0; for (i = 2; i <= 9; i++) t += $i; printf "%d %d ", $9, t }' /proc/stat
  if [ -r /proc/pressure/io ]; then awk -F'total=' 'NR == 1 { printf "%d ", $2 }' /proc/pressure/io; else printf -- "-1 "; fi
  date +%s.%N
}

need=$(( IDLE + 4 * PAIRS + 1024 ))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge "$need" ] || { log "ulimit -n $(ulimit -n) < $need"; exit 1; }

cd "$ROOT"
if [ "$BUILD" = 1 ]; then
  log "cargo build ($PROFILE)"; cargo build --workspace --bins $([ "$PROFILE" = release ] && echo --release)
fi
bin=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/$PROFILE
rm -rf "$WORK"; mkdir -p "$WORK"

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$WORK/redis.log" 2>&1 & PIDS+=($!)
export REDIS_URL=redis://127.0.0.1:$redis_port
fixture_pairs=$(( PAIRS > IDLE / 2 ? PAIRS : IDLE / 2 ))

# Runs the loads and the idle count against two instances; appends one
# JSON line per measurement to $WORK/results.jsonl.
measure() { # NAME URL_A URL_B PID_A PID_B FIXTURES
  local name=$1 url_a=$2 url_b=$3 pid_a=$4 pid_b=$5 fixtures=$6 rate before after
  for rate in $RATES; do
    log "$name: $rate messages/s over $PAIRS pairs, ${WARMUP}s warm-up + ${DURATION}s"
    before=$(snapshot "$pid_a" "$pid_b")
    "$bin/halo-wsload" load --fixtures "$fixtures" --url-a "$url_a" --url-b "$url_b" --pairs "$PAIRS" \
      --rate "$rate" --duration "$DURATION" --warmup "$WARMUP" >"$WORK/load.json"
    after=$(snapshot "$pid_a" "$pid_b")
    python3 - "$name" "$before" "$after" "$WARMUP" "$DURATION" "$WORK/load.json" >>"$WORK/results.jsonl" <<'PY'
import json, sys
name, warmup, duration = sys.argv[1], int(sys.argv[4]), int(sys.argv[5])
(cpu0, steal0, ticks0, io0, at0), (cpu1, steal1, ticks1, io1, at1) = ([float(v) for v in s.split()] for s in sys.argv[2:4])
r = json.load(open(sys.argv[6]))
# CPU over the whole run (warm-up, measured part, drain), per message sent in it.
sent_all = r["sent"] * (warmup + duration) / duration
r.update(server=name, cpu_us_per_message=round((cpu1 - cpu0) * 1e6 / max(sent_all, 1)),
         steal_pct=round(100 * (steal1 - steal0) / max(ticks1 - ticks0, 1), 1),
         io_stall_pct=None if io0 < 0 else round(100 * (io1 - io0) / ((at1 - at0) * 1e6), 1))
print(json.dumps(r))
PY
    tail -n1 "$WORK/results.jsonl" >&2
    if [ "$REFERENCE" = 1 ]; then
      log "$name: the reference's wsload.js at $rate messages/s"
      node "$REF_DIR/scripts/wsload.js" --fixtures "$fixtures" --pairs "$PAIRS" --rate "$rate" \
        --duration "$DURATION" --warmup "$WARMUP" --pid "$pid_a,$pid_b" --out "$WORK/wsload-js.json" \
        --url-a "${url_a/http:/ws:}/api/shared/ws" --url-b "${url_b/http:/ws:}/api/shared/ws" >&2
      python3 -c 'import json, sys; r = json.load(open(sys.argv[2])); print(json.dumps({"mode": "wsload.js", "server": sys.argv[1],
        "rate": int(sys.argv[3]), "delivery": r["delivery_ms"], "ack": r["ack_ms"], "lost": r["lost"]}))' \
        "$name" "$WORK/wsload-js.json" "$rate" >>"$WORK/results.jsonl"
    fi
  done
}

# On an instance that has served no load (a loaded one's freed memory
# would be reused), after 1,000 warm-up sockets.
idle() { # NAME URL PID FIXTURES
  [ "$IDLE" -gt 0 ] || return 0
  log "$1: $IDLE idle sockets on a fresh instance, after 1,000 warm-up sockets"
  "$bin/halo-wsload" idle --fixtures "$4" --url "$2" --count "$IDLE" --hold "$HOLD" --pid "$3" \
    | python3 -c 'import json, sys; r = json.load(sys.stdin); r["server"] = sys.argv[1]; print(json.dumps(r))' "$1" \
    | tee -a "$WORK/results.jsonl" >&2
}

# ---- ours ----
psql "$PG_ADMIN/postgres" -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME" 2>/dev/null
"$bin/halo-core" migrate >"$WORK/migrate.log" 2>&1
# SYNC_COMMIT=off shows what a WAL flush per message costs (a diagnosis,
# never production: an acknowledged message could be lost in a crash).
[ -z "${SYNC_COMMIT:-}" ] || psql "$DATABASE_URL" -q -c "ALTER DATABASE $DB_NAME SET synchronous_commit = $SYNC_COMMIT"
core_port=$(free_port)
export AUTH_JWT_SECRET CORE_SERVICE_SECRET
AUTH_JWT_SECRET=$(secret) CORE_SERVICE_SECRET=$(secret)
export CORE_GRPC_ADDR=127.0.0.1:$core_port CORE_GRPC_URL=http://127.0.0.1:$core_port CORE_SURFACE=public
# The per-socket limit (20 per 10 s) would cap a socket at 2 messages/s.
export SOCKET_MESSAGES_PER_10_SECONDS=1000000 RUST_LOG=warn
# Each instance as deployed: Cloud Run gives the gateway one vCPU
# (deploy/cloudrun), where tokio starts one worker thread; each of the
# reference's instances is one Node.js event loop.
export TOKIO_WORKER_THREADS=1
"$bin/halo-core" >"$WORK/core.log" 2>&1 & PIDS+=($!)
ports=() gateway_pids=()
for n in a b; do
  port=$(free_port)
  HOST=127.0.0.1 PORT=$port "$bin/public-gateway" >"$WORK/gateway-$n.log" 2>&1 & PIDS+=($!) gateway_pids+=($!)
  ports+=("$port")
done
for port in "${ports[@]}"; do wait_http "http://127.0.0.1:$port/readyz"; done
"$bin/halo-wsload" fixtures --out "$WORK/ours.json" --pairs "$fixture_pairs"
ours_a=http://127.0.0.1:${ports[0]} ours_b=http://127.0.0.1:${ports[1]}

if [ "$REFERENCE" = 1 ]; then
  [ -d "$REF_DIR" ] || cp -r "$ROOT/../shared/bench/fastify-ref" "$REF_DIR"
  (cd "$REF_DIR" && [ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null)
  log "the reference's wsload.js smoke check against ours"
  node "$REF_DIR/scripts/wsload.js" --fixtures "$WORK/ours.json" --smoke \
    --url-a "ws://127.0.0.1:${ports[0]}/api/shared/ws" --url-b "ws://127.0.0.1:${ports[1]}/api/shared/ws" >&2
fi
measure ours "$ours_a" "$ours_b" "${gateway_pids[0]}" "${gateway_pids[1]}" "$WORK/ours.json"
kill "${gateway_pids[@]}" 2>/dev/null || true
port=$(free_port)
HOST=127.0.0.1 PORT=$port "$bin/public-gateway" >"$WORK/gateway-idle.log" 2>&1 & PIDS+=($!)
idle_pid=$!
wait_http "http://127.0.0.1:$port/readyz"
idle ours "http://127.0.0.1:$port" "$idle_pid" "$WORK/ours.json"
for pid in "${PIDS[@]:1}"; do kill "$pid" 2>/dev/null || true; done
PIDS=("${PIDS[0]}")
psql "$PG_ADMIN/postgres" -q -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" || true

# ---- the reference ----
if [ "$REFERENCE" = 1 ]; then
  cd "$REF_DIR"
  scripts/db-setup.sh >/dev/null
  export DATABASE_URL=postgres://fastify_ref:fastify_ref@127.0.0.1:5432/fastify_ref
  export JWT_SECRET=bench-only-hs256-secret-do-not-use-in-prod-0123456789 NODE_ENV=production LOG_LEVEL=warn HOST=127.0.0.1
  [ -n "$(psql "$DATABASE_URL" -qtAc "SELECT to_regclass('public.users')")" ] || SEED_USERS=0 node scripts/seed.js >/dev/null
  CHAT_PAIRS=$fixture_pairs OUT=$WORK/reference.json node scripts/chat-fixtures.js >/dev/null
  ports=() ref_pids=()
  for n in a b; do
    port=$(free_port) internal=$(free_port)
    PORT=$port INTERNAL_PORT=$internal node src/server.js >"$WORK/reference-$n.log" 2>&1 & PIDS+=($!) ref_pids+=($!)
    wait_http "http://127.0.0.1:$internal/internal/health"
    ports+=("$port")
  done
  cd "$ROOT"
  measure reference "http://127.0.0.1:${ports[0]}" "http://127.0.0.1:${ports[1]}" "${ref_pids[0]}" "${ref_pids[1]}" "$WORK/reference.json"
  kill "${ref_pids[@]}" 2>/dev/null || true
  port=$(free_port) internal=$(free_port)
  (cd "$REF_DIR" && PORT=$port INTERNAL_PORT=$internal exec node src/server.js >"$WORK/reference-idle.log" 2>&1) & PIDS+=($!)
  idle_pid=$!
  wait_http "http://127.0.0.1:$internal/internal/health"
  idle reference "http://127.0.0.1:$port" "$idle_pid" "$WORK/reference.json"
fi

python3 - "$WORK/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("\n| server | messages/s | delivery p50 / p99 (ms) | ack p50 / p99 (ms) | lost | duplicates | errors "
      "| CPU per message (servers · generator) | machine: CPU stolen · I/O stall |")
print("|---|---|---|---|---|---|---|---|---|")
for r in rows:
    if r["mode"] == "load":
        d, a = r["delivery"], r["ack"]
        io = "n/a" if r["io_stall_pct"] is None else f"{r['io_stall_pct']} %"
        print(f"| {r['server']} | {r['rate']:,} | {d['p50_ms']:.2f} / {d['p99_ms']:.2f} | {a['p50_ms']:.2f} / {a['p99_ms']:.2f} "
              f"| {r['lost']} | {r['duplicates']} | {sum(r['errors'].values())} "
              f"| {r['cpu_us_per_message']} · {r['generator_cpu_us_per_message']:.0f} µs | {r['steal_pct']} % · {io} |")
js = [r for r in rows if r["mode"] == "wsload.js"]
if js:
    print("\nThe same servers driven by the reference's wsload.js:\n")
    print("| server | messages/s | delivery p50 / p99 (ms) | ack p50 / p99 (ms) | lost |")
    print("|---|---|---|---|---|")
    for r in js:
        d, a = r["delivery"], r["ack"]
        print(f"| {r['server']} | {r['rate']:,} | {d['p50']} / {d['p99']} | {a['p50']} / {a['p99']} | {r['lost']} |")
print("\n| server | idle sockets | resident memory per socket |")
print("|---|---|---|")
for r in rows:
    if r["mode"] == "idle":
        print(f"| {r['server']} | {r['sockets']:,} | {r['bytes_per_socket'] / 1024:.2f} KiB ({r['bytes_per_socket']:,.0f} bytes) |")
PY
