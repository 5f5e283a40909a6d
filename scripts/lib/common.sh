# Shared by dev.sh and test.sh. Source it; it defines functions and sets no traps.
# shellcheck shell=bash

ROOKERY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Every Debian 12 package Rookery needs to build, run and test. Keep this list honest: CI runs on
# a fresh machine and installs exactly this.
ROOKERY_PACKAGES=(
  g++ cmake ninja-build ccache pkg-config
  librdkafka-dev libpqxx-dev rapidjson-dev catch2 libboost-dev libprotobuf-dev protobuf-compiler
  libspdlog-dev zlib1g-dev libsodium-dev libbrotli-dev libzstd-dev libcurl4-openssl-dev libmimalloc-dev libxxhash-dev
  postgresql postgresql-client
  python3 python3-sentry-sdk python3-yaml python3-aiosmtpd python3-zstandard curl procps iproute2 iptables
  ruby ruby-sentry-ruby ruby-sentry-raven nodejs chromium
  clang-format docker-compose
)

log() { printf '\033[1;34m[rookery]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[rookery]\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
  local missing=()
  for package in "${ROOKERY_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# build <dir> [cmake args...]: configure once, then build everything (ccache makes rebuilds cheap).
build() {
  local dir="$1"
  shift
  export CCACHE_DIR="${CCACHE_DIR:-$ROOKERY_ROOT/.rookery/ccache}"
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S "$ROOKERY_ROOT" -B "$dir" -G Ninja "$@" >/dev/null
  else
    cmake "$dir" "$@" >/dev/null
  fi
  cmake --build "$dir" --parallel "$(nproc)"
}

# build_web_ui: the web UI (web/, React + Vite) into web/dist, which rookery-web serves. `npm ci`
# runs only when package-lock.json is newer than the installed packages, the build only when a
# source is newer than the last build's stamp: an unchanged UI costs two find calls.
build_web_ui() {
  local web="$ROOKERY_ROOT/web" stamp="$ROOKERY_ROOT/web/.build-stamp"
  command -v npm >/dev/null || die "npm is missing: it comes with Debian's nodejs package"
  if [ ! -f "$web/node_modules/.package-lock.json" ] ||
    [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
    log "installing the web UI's npm packages (npm ci)"
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in web/ failed"
  fi
  if [ -f "$stamp" ] && [ -f "$web/dist/index.html" ] &&
    [ -z "$(find "$web/src" "$web/public" "$web/index.html" "$web/package.json" "$web/package-lock.json" \
      "$web/vite.config.ts" "$web/tsconfig.json" -newer "$stamp" -print -quit)" ]; then
    return 0
  fi
  log "building the web UI (npm run build)"
  # The stamp is taken before the build, so a source saved during the build triggers the next one.
  touch "$stamp.new"
  (cd "$web" && npm run build --silent >/dev/null) || die "the web UI build failed: cd web && npm run build"
  mv "$stamp.new" "$stamp"
}

pg_cluster_online() {
  pg_lsclusters --no-header 2>/dev/null | awk '$1 == "15" && $2 == "main" { print $4 }' | grep -q online
}

# Starts the machine's PostgreSQL 15 if it is down. Prints "started" when this call started it.
ensure_postgres() {
  if pg_cluster_online; then
    return 0
  fi
  if ! pg_lsclusters --no-header 2>/dev/null | awk '{print $1" "$2}' | grep -q '^15 main$'; then
    as_root pg_createcluster 15 main >/dev/null
  fi
  as_root pg_ctlcluster 15 main start
  for _ in $(seq 1 50); do
    pg_cluster_online && { echo started; return 0; }
    sleep 0.2
  done
  die "PostgreSQL 15 did not start"
}

psql_admin() {
  as_root su postgres -c "psql -v ON_ERROR_STOP=1 -qAt $(printf '%q ' "$@")"
}

# ensure_role <name> <password> [CREATEDB]
ensure_role() {
  local name="$1" password="$2" extra="${3:-}"
  if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$name'")" != "1" ]; then
    psql_admin -c "CREATE ROLE $name LOGIN PASSWORD '$password' $extra"
  fi
}

# ensure_database <name> <owner>
ensure_database() {
  local name="$1" owner="$2"
  if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$name'")" != "1" ]; then
    psql_admin -c "CREATE DATABASE $name OWNER $owner"
  fi
}

# wait_http <url> <seconds>: until the URL answers 2xx.
wait_http() {
  local url="$1" seconds="$2"
  for _ in $(seq 1 $((seconds * 10))); do
    curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
