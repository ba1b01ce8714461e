#!/usr/bin/env bash
# Command 1 of the README: the whole stack on this machine. Starts (or
# installs) Postgres and Valkey/Redis when none is reachable, creates the
# database and migrates it, then runs the core, the Xendit double on :3900,
# public-gateway on :3000 and internal-cc on :3001 until Ctrl-C. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/lib.sh

env_file=.local/dev.env
mkdir -p .local
if [ ! -f "$env_file" ]; then
  # Development-only secrets, generated once, never committed (.local/ is ignored).
  cat >"$env_file" <<ENV
AUTH_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')
CC_BOOTSTRAP_ADMIN_EMAIL=admin@halobestie.local
CC_BOOTSTRAP_ADMIN_PASSWORD=$(head -c 12 /dev/urandom | base64 | tr -d '/+=\n')
ENV
  log "wrote development secrets to $env_file"
fi
# Secrets added since a file was first written are appended when missing.
add_secret() { # NAME [PREFIX]
  grep -q "^$1=" "$env_file" || echo "$1=${2:-}$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')" >>"$env_file"
}
add_secret CORE_SERVICE_SECRET
# The Xendit double accepts exactly this key and sends this token with callbacks.
add_secret XENDIT_SECRET_KEY xnd_development_
add_secret XENDIT_CALLBACK_TOKEN
# The FCM double accepts exactly this bearer token from the gateway.
add_secret FCM_ACCESS_TOKEN
set -a
# shellcheck disable=SC1090
source "$env_file"
DATABASE_URL=${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/halobestie}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
CORE_GRPC_ADDR=${CORE_GRPC_ADDR:-127.0.0.1:50051}
CORE_GRPC_URL=${CORE_GRPC_URL:-http://$CORE_GRPC_ADDR}
# One core serves both edges here; in production each edge has its own.
CORE_SURFACE=${CORE_SURFACE:-all}
CC_ALLOWED_ORIGINS=${CC_ALLOWED_ORIGINS:-http://localhost:5173}
# Payments go to the local Xendit double, which calls the gateway's webhook.
XENDIT_DOUBLE_ADDR=${XENDIT_DOUBLE_ADDR:-127.0.0.1:3900}
XENDIT_API_BASE_URL=http://$XENDIT_DOUBLE_ADDR
XENDIT_CALLBACK_URL=${XENDIT_CALLBACK_URL:-http://127.0.0.1:3000/api/shared/webhooks/xendit}
PAYMENT_SUCCESS_REDIRECT_URL=${PAYMENT_SUCCESS_REDIRECT_URL:-halobestie://payments/success}
PAYMENT_FAILURE_REDIRECT_URL=${PAYMENT_FAILURE_REDIRECT_URL:-halobestie://payments/failure}
# Push goes to the local FCM double, which logs what it would deliver.
FCM_DOUBLE_ADDR=${FCM_DOUBLE_ADDR:-127.0.0.1:3950}
FCM_API_BASE_URL=http://$FCM_DOUBLE_ADDR
FCM_PROJECT_ID=${FCM_PROJECT_ID:-halobestie-local}
LOG_FORMAT=${LOG_FORMAT:-text}
RUST_LOG=${RUST_LOG:-info}
set +a

ensure_postgres "$DATABASE_URL"
ensure_redis "$REDIS_URL"

log "building (debug, whole workspace)"
cargo build --workspace --bins
bin=$(debug_bin_dir)/debug
"$bin/halo-core" migrate

pids=()
stop() {
  trap - INT TERM EXIT
  log "stopping"
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

"$bin/halo-core" & pids+=($!)
"$bin/xendit-double" & pids+=($!)
"$bin/fcm-double" & pids+=($!)
HOST=127.0.0.1 PORT=3000 "$bin/public-gateway" & pids+=($!)
HOST=127.0.0.1 PORT=3001 "$bin/internal-cc" & pids+=($!)

for _ in $(seq 1 50); do
  curl -fs 127.0.0.1:3000/readyz >/dev/null 2>&1 && curl -fs 127.0.0.1:3001/readyz >/dev/null 2>&1 && break
  sleep 0.2
done
cat >&2 <<INFO

  Halo Bestie is up.
    public-gateway  http://127.0.0.1:3000   (OpenAPI: /openapi.json, health: /healthz /readyz)
    internal-cc     http://127.0.0.1:3001   (OpenAPI: /openapi.json)
    core (gRPC)     $CORE_GRPC_ADDR          (grpcurl -plaintext $CORE_GRPC_ADDR list)
    Postgres        $DATABASE_URL
    Valkey/Redis    $REDIS_URL
    Xendit double   $XENDIT_API_BASE_URL   (an invoice's invoice_url is its pay page: Pay / Expire buttons)
                    callbacks to $XENDIT_CALLBACK_URL
    FCM double      $FCM_API_BASE_URL   (logs "FCM double: would deliver" for each push)
  CC admin: $CC_BOOTSTRAP_ADMIN_EMAIL / $CC_BOOTSTRAP_ADMIN_PASSWORD   (secrets in $env_file)
  OTP codes are logged as "[OTP STUB] phone=... code=...".
  Stop everything with Ctrl-C.

INFO
wait -n "${pids[@]}" || true
