#!/usr/bin/env bash
# Installs what is missing, builds with -Werror, and runs every test (unit and integration) with
# ctest. Integration tests start their own database, dev broker and services on free ports, so
# they do not clash with a running `scripts/dev.sh up`, and clean up after themselves.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

BUILD="${ROOKERY_BUILD_DIR:-$ROOKERY_ROOT/build}"
install_packages
log "building in $BUILD"
build "$BUILD" -DROOKERY_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
build_web_ui

PG_STARTED="$(ensure_postgres)"
cleanup() {
  if [ "$PG_STARTED" = "started" ]; then
    as_root pg_ctlcluster 15 main stop || true
  fi
}
trap cleanup EXIT

# A role that may create the throw-away databases the integration tests use.
ensure_role rookery_test rookery_test CREATEDB
export ROOKERY_TEST_DATABASE_ADMIN_URL="postgresql://rookery_test:rookery_test@localhost:5432/postgres"

log "running tests"
cd "$BUILD"
ctest --output-on-failure --parallel "$(nproc)" "$@"
