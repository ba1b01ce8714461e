# Sourced by the benchmarks that drive the gateway (webhook.sh,
# matching.sh): halo-core and public-gateway from "$bin" on the migrated
# database $DATABASE_URL, logs in "$WORK", pids appended to PIDS. Sets
# `url` to the gateway once it is ready. Payments are on, against an
# address nothing listens on: no order is due for reconciliation during a
# run, so Xendit is never called.
start_gateway_stack() {
  local core_port gateway_port
  core_port=$(free_port) gateway_port=$(free_port)
  export AUTH_JWT_SECRET CORE_SERVICE_SECRET XENDIT_CALLBACK_TOKEN
  AUTH_JWT_SECRET=$(secret) CORE_SERVICE_SECRET=$(secret) XENDIT_CALLBACK_TOKEN=$(secret)
  export CORE_GRPC_ADDR=127.0.0.1:$core_port CORE_GRPC_URL=http://127.0.0.1:$core_port CORE_SURFACE=public
  export XENDIT_SECRET_KEY=xnd_development_bench XENDIT_API_BASE_URL=http://127.0.0.1:9
  export RUST_LOG=warn
  "$bin/halo-core" >"$WORK/core.log" 2>&1 & PIDS+=($!)
  HOST=127.0.0.1 PORT=$gateway_port "$bin/public-gateway" >"$WORK/gateway.log" 2>&1 & PIDS+=($!)
  url=http://127.0.0.1:$gateway_port
  for _ in $(seq 1 100); do curl -fs "$url/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fs "$url/readyz" >/dev/null || { log "the gateway did not become ready"; exit 1; }
}
