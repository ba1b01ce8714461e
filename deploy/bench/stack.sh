# Sourced by every benchmark here: the helpers below, and for those that
# drive the gateway (webhook.sh, matching.sh) start_gateway_stack:
# halo-core and GATEWAYS (default 1) public-gateway
# instances from "$bin" on the migrated database $DATABASE_URL, logs in
# "$WORK", pids appended to PIDS. Sets `urls` to the gateways and `url` to
# the first once all are ready. Payments are on, against an
# address nothing listens on: no order is due for reconciliation during a
# run, so Xendit is never called.

# Set BENCH (the benchmark's name) and PIDS=() before sourcing.
log() { printf '[%s-bench %s] %s\n' "$BENCH" "$(date +%H:%M:%S)" "$*" >&2; }
stop() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
secret() { head -c 48 /dev/urandom | base64 | tr -d '/+=\n'; }

start_gateway_stack() {
  local core_port gateway_port n
  core_port=$(free_port)
  export AUTH_JWT_SECRET CORE_SERVICE_SECRET XENDIT_CALLBACK_TOKEN
  AUTH_JWT_SECRET=$(secret) CORE_SERVICE_SECRET=$(secret) XENDIT_CALLBACK_TOKEN=$(secret)
  export CORE_GRPC_ADDR=127.0.0.1:$core_port CORE_GRPC_URL=http://127.0.0.1:$core_port CORE_SURFACE=public
  export XENDIT_SECRET_KEY=xnd_development_bench XENDIT_API_BASE_URL=http://127.0.0.1:9
  export RUST_LOG=warn
  "$bin/halo-core" >"$WORK/core.log" 2>&1 & PIDS+=($!)
  urls=()
  for n in $(seq 1 "${GATEWAYS:-1}"); do
    gateway_port=$(free_port)
    HOST=127.0.0.1 PORT=$gateway_port "$bin/public-gateway" >"$WORK/gateway-$n.log" 2>&1 & PIDS+=($!)
    urls+=("http://127.0.0.1:$gateway_port")
  done
  for url in "${urls[@]}"; do
    for _ in $(seq 1 100); do curl -fs "$url/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
    curl -fs "$url/readyz" >/dev/null || { log "the gateway $url did not become ready"; exit 1; }
  done
  url=${urls[0]}
}
