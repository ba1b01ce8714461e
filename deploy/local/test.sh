#!/usr/bin/env bash
# Command 2 of the README: the whole suite. Formatting, clippy with
# -D warnings, then every test against a real Postgres (each test makes its
# own database) and real redis-server processes. Starts or installs what
# is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/lib.sh

export TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}
ensure_postgres "$TEST_DATABASE_URL"
ensure_redis_binary
ensure_rust_components
ensure_cargo_machete
ensure_chromium
export REDIS_SERVER_BIN=${REDIS_SERVER_BIN:-$(command -v valkey-server || command -v redis-server)}

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo machete (unused dependencies)"
cargo machete
log "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
log "cargo test"
cargo test --workspace --locked
deploy/local/contract.sh  # both OpenAPI documents validate; schemathesis against both edges
