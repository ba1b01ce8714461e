# Shared by run.sh and test.sh: make Postgres and Valkey/Redis reachable on
# a Debian/Ubuntu machine, installing them with apt when they are missing.
# shellcheck shell=bash

log() { printf '\033[1m[halo]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root for: $*"; return 1; fi
}

# host and port of a postgres:// or redis:// URL
# Where cargo put the debug binaries (honours CARGO_TARGET_DIR).
debug_bin_dir() {
  cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}

url_host() { local rest=${1#*://}; rest=${rest#*@}; rest=${rest%%/*}; echo "${rest%%:*}"; }
url_port() { local rest=${1#*://}; rest=${rest#*@}; rest=${rest%%/*}; [[ $rest == *:* ]] && echo "${rest##*:}" || echo "$2"; }

reachable() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# ensure_postgres URL: starts or installs a local Postgres when none answers
# at URL's host:port. A fresh install gets password "postgres" for the
# postgres role, matching the default URLs.
ensure_postgres() {
  local host port; host=$(url_host "$1"); port=$(url_port "$1" 5432)
  reachable "$host" "$port" && return 0
  case "$host" in 127.0.0.1|localhost) ;; *) log "Postgres at $host:$port is unreachable"; return 1 ;; esac
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    log "installing PostgreSQL (apt)"
    apt_install postgresql
  fi
  local version; version=$(ls /usr/lib/postgresql | sort -V | tail -n1)
  if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
    as_root pg_createcluster "$version" main >/dev/null
  fi
  local cluster; cluster=$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')
  log "starting PostgreSQL cluster $cluster"
  # shellcheck disable=SC2086
  as_root pg_ctlcluster --skip-systemctl-redirect $cluster start -- -o "-c listen_addresses=127.0.0.1 -c port=$port" 2>/dev/null \
    || as_root pg_ctlcluster $cluster start
  for _ in $(seq 1 30); do reachable "$host" "$port" && break; sleep 0.5; done
  reachable "$host" "$port" || { log "PostgreSQL did not come up on $port"; return 1; }
  as_root su postgres -c "psql -q -p $port -c \"ALTER ROLE postgres PASSWORD 'postgres'\"" >/dev/null 2>&1 || true
}

# ensure_redis_binary: the tests start private redis-server processes.
ensure_redis_binary() {
  command -v redis-server >/dev/null || command -v valkey-server >/dev/null && return 0
  log "installing redis-server (apt)"
  apt_install redis-server
}

# ensure_redis URL: starts or installs a local Valkey/Redis when none answers.
ensure_redis() {
  local host port; host=$(url_host "$1"); port=$(url_port "$1" 6379)
  reachable "$host" "$port" && return 0
  ensure_redis_binary
  local bin; bin=$(command -v valkey-server || command -v redis-server)
  log "starting $(basename "$bin") on $port"
  "$bin" --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no >/dev/null
  for _ in $(seq 1 20); do reachable "$host" "$port" && return 0; sleep 0.25; done
  log "Valkey/Redis did not come up on $port"; return 1
}

ensure_rust_components() {
  for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
      log "adding rustup component $component"
      rustup component add "$component"
    fi
  done
}

# ensure_cargo_machete: the test command fails on an unused dependency.
ensure_cargo_machete() {
  command -v cargo-machete >/dev/null && return 0
  log "installing cargo-machete"
  cargo install cargo-machete --version 0.9.2 --locked
}

# ensure_chromium: the CC browser test drives a real headless Chromium.
ensure_chromium() {
  if [ -z "${CHROMIUM_BIN:-}" ]; then
    CHROMIUM_BIN=$(command -v chromium || command -v chromium-browser || true)
  fi
  if [ -z "$CHROMIUM_BIN" ]; then
    log "installing chromium (apt)"
    apt_install --no-install-recommends chromium
    CHROMIUM_BIN=$(command -v chromium)
  fi
  export CHROMIUM_BIN
}
