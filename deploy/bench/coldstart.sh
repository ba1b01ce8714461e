#!/usr/bin/env bash
# Cold start and size of the release binaries: for each edge, the time from
# exec to the first 200 from /readyz (which needs Postgres and the core), the
# median of RUNS starts; and each binary's size. Cloud Run scales from zero,
# so this is latency a user can feel.
#
#   deploy/bench/coldstart.sh            # builds release if needed; RUNS=7
#
# Needs Postgres at DATABASE_URL (default: the local stack's database).
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/lib.sh

RUNS=${RUNS:-7}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/halobestie}
export AUTH_JWT_SECRET=${AUTH_JWT_SECRET:-coldstart-only-secret-0123456789abcdef}
export CORE_GRPC_ADDR=127.0.0.1:${CORE_PORT:-50061} RUST_LOG=warn
export CORE_GRPC_URL=http://$CORE_GRPC_ADDR
bin=target/release

ensure_postgres "$DATABASE_URL"
cargo build --release --workspace --bins --locked >&2
"$bin/halo-core" migrate >/dev/null

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
"$bin/halo-core" & pids+=($!)
for _ in $(seq 1 100); do reachable 127.0.0.1 "${CORE_GRPC_ADDR##*:}" && break; sleep 0.05; done

now_us() { echo $(( $(date +%s%N) / 1000 )); }

# start_to_ready BINARY PORT: microseconds from exec to /readyz 200.
start_to_ready() {
  local started pid elapsed=""
  started=$(now_us)
  HOST=127.0.0.1 PORT=$2 "$bin/$1" & pid=$!
  for _ in $(seq 1 2000); do
    if curl -fs -o /dev/null "http://127.0.0.1:$2/readyz"; then elapsed=$(( $(now_us) - started )); break; fi
    sleep 0.002
  done
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  echo "${elapsed:?$1 never became ready}"
}

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

echo "| binary | release size | cold start to /readyz 200 (median of $RUNS) |"
echo "|---|---|---|"
for edge in public-gateway:3100 internal-cc:3101; do
  name=${edge%%:*} port=${edge##*:}
  ms=$(for _ in $(seq 1 "$RUNS"); do start_to_ready "$name" "$port"; done | median | awk '{printf "%.1f ms", $1/1000}')
  echo "| $name | $(du -h "$bin/$name" | cut -f1) | $ms |"
done
echo "| halo-core | $(du -h "$bin/halo-core" | cut -f1) | (sidecar; starts in parallel) |"
