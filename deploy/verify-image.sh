#!/usr/bin/env bash
# deploy/verify-image.sh: build deploy/Dockerfile with podman and prove the image works, printing
# PASS/FAIL per check. Not part of scripts/test.sh or ctest: a cold build compiles the whole C++
# tree in Release (13.5 min cold on 2 busy cores); a rerun with nothing changed takes ~25 s (layer cache).
#
#   deploy/verify-image.sh [--no-build] [--no-live] [--stand-ins] [--image NAME]
#
#   --no-build   check the image already tagged NAME instead of building it
#   --no-live    skip the live smoke test (PostgreSQL, dev broker, the four services, one event)
#   --stand-ins  rebuild the local stand-in base images even if they exist
#   --image      tag to build and check (default localhost/rookery:verify)
#
# Needs root, podman (apt-get install podman debootstrap), and for the live test the machine's
# PostgreSQL 15, /usr/bin/python3 with python3-sentry-sdk and python3-yaml, and the dev broker
# (built here from build/ if missing). Everything runs with --network host on free ports.
#
# Base images: deploy/Dockerfile's FROM images are used as they are if podman has them or can pull
# them. Where it cannot (no Docker Hub, as on the development machine), the script makes local
# stand-ins under the same names and says so: debian:bookworm and debian:bookworm-slim from
# `debootstrap --variant=minbase bookworm` (one image for both), node:20-bookworm-slim from that
# plus this machine's Node.js 20 and npm (and its CA bundle, for a TLS-inspecting proxy). They stay
# in podman's store (labelled rookery.stand-in) so later runs skip them; remove them with
# `podman rmi localhost/node:20-bookworm-slim localhost/debian:bookworm-slim localhost/debian:bookworm`.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE=localhost/rookery:verify
BUILD=1 LIVE=1 STAND_INS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    --no-live) LIVE=0 ;;
    --stand-ins) STAND_INS=1 ;;
    --image) IMAGE="$2"; shift ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

WORK="$(mktemp -d /var/tmp/rookery-verify.XXXXXX)"
MIRROR="${ROOKERY_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SERVICES=(relay worker web cron)
BINARIES=(rookery-relay rookery-worker rookery-web rookery-cron rookery-admin)
PASSED=0 FAILED=0 STARTED=$SECONDS
CONTAINERS=() BROKER_PID="" DATABASE="" ROLE=rookery_verify

say() { printf '[verify %4ds] %s\n' $((SECONDS - STARTED)) "$*"; }
pass() { PASSED=$((PASSED + 1)); printf 'PASS  %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL  %s\n' "$*"; }
# check <description> <command...>: PASS when the command succeeds.
check() { local what="$1"; shift; if "$@"; then pass "$what"; else fail "$what"; return 1; fi; }

[ "$(id -u)" -eq 0 ] || { echo "run as root (podman, debootstrap, PostgreSQL roles)" >&2; exit 2; }
command -v podman >/dev/null || { echo "podman is missing: apt-get install podman debootstrap" >&2; exit 2; }

# runc, not crun: bookworm's crun refuses hybrid cgroup v1/v2 hosts. Explicit ulimits within this
# process's hard limits: without CAP_SYS_RESOURCE (sandboxes, CI runners) podman's defaults
# (nofile 1048576) cannot be set. nproc is capped at 32768, which such hosts accepted.
PODMAN=(podman)
command -v runc >/dev/null && PODMAN+=(--runtime "$(command -v runc)")
NPROC="$(ulimit -Hu)"; { [ "$NPROC" = unlimited ] || [ "$NPROC" -gt 32768 ]; } && NPROC=32768
NOFILE="$(ulimit -Hn)"; { [ "$NOFILE" = unlimited ] || [ "$NOFILE" -gt 1048576 ]; } && NOFILE=1048576
LIMITS=(--ulimit "nofile=$NOFILE:$NOFILE" --ulimit "nproc=$NPROC:$NPROC")
run() { "${PODMAN[@]}" run --rm --network host "${LIMITS[@]}" "$@"; }

cleanup() {
  local c
  for c in "${CONTAINERS[@]}"; do "${PODMAN[@]}" rm -f -t 0 "$c" >/dev/null 2>&1; done
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null
  if [ -n "$DATABASE" ]; then
    su postgres -c "psql -qAt -c 'DROP DATABASE IF EXISTS $DATABASE' -c 'DROP ROLE IF EXISTS $ROLE'" >/dev/null 2>&1
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- base images ---------------------------------------------------------------------------------
has_image() { "${PODMAN[@]}" image exists "$1"; }
pullable() { timeout 120 "${PODMAN[@]}" pull -q "docker.io/library/$1" >/dev/null 2>&1; }

make_debian_stand_in() {
  say "making stand-in debian:bookworm with debootstrap from $MIRROR"
  debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap.log"; return 1; }
  rm -rf "$WORK/rootfs/var/cache/apt/archives/"*.deb "$WORK/rootfs/var/lib/apt/lists/"*
  tar -C "$WORK/rootfs" -c . | "${PODMAN[@]}" import -q --change 'CMD ["bash"]' \
    --change 'LABEL rookery.stand-in=debootstrap-minbase-bookworm' - localhost/debian:bookworm >/dev/null || return 1
  rm -rf "$WORK/rootfs"
  "${PODMAN[@]}" tag localhost/debian:bookworm localhost/debian:bookworm-slim
}

make_node_stand_in() {
  local node npm_dir
  node="$(command -v node)" || { echo "no node on this machine for the node:20 stand-in" >&2; return 1; }
  "$node" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a===20&&b>=19?0:1)' ||
    { echo "the node:20 stand-in needs this machine's Node.js to be 20.19+" >&2; return 1; }
  npm_dir="$(npm root -g)/npm"
  say "making stand-in node:20-bookworm-slim from debian:bookworm + $node $("$node" --version)"
  mkdir -p "$WORK/node"
  cp "$node" "$WORK/node/node"
  cp -a "$npm_dir" "$WORK/node/npm"
  cp /etc/ssl/certs/ca-certificates.crt "$WORK/node/host-ca.crt" 2>/dev/null || : >"$WORK/node/host-ca.crt"
  cat >"$WORK/node/Containerfile" <<'EOF'
FROM debian:bookworm
LABEL rookery.stand-in=node-from-host
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY host-ca.crt /etc/ssl/certs/host-ca.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/host-ca.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
EOF
  "${PODMAN[@]}" build -q "${LIMITS[@]}" -t localhost/node:20-bookworm-slim "$WORK/node" >/dev/null
}

base_images() {
  if [ "$STAND_INS" = 1 ] || { ! has_image debian:bookworm && ! pullable debian:bookworm; }; then
    make_debian_stand_in || return 1
  fi
  has_image debian:bookworm-slim || pullable debian:bookworm-slim ||
    "${PODMAN[@]}" tag debian:bookworm localhost/debian:bookworm-slim || return 1
  if [ "$STAND_INS" = 1 ] || { ! has_image node:20-bookworm-slim && ! pullable node:20-bookworm-slim; }; then
    make_node_stand_in || return 1
  fi
  local ref label
  for ref in debian:bookworm debian:bookworm-slim node:20-bookworm-slim; do
    label="$("${PODMAN[@]}" image inspect -f '{{index .Labels "rookery.stand-in"}}' "$ref" 2>/dev/null)"
    if [ -n "$label" ]; then say "base image $ref: local stand-in ($label)"
    else say "base image $ref: as found or pulled (no rookery.stand-in label)"; fi
  done
}

# --- build ---------------------------------------------------------------------------------------
if [ "$BUILD" = 1 ]; then
  check "base images for every FROM in deploy/Dockerfile" base_images || true
  say "podman build -f deploy/Dockerfile -t $IMAGE (log: build.log; a cold build takes long)"
  build_started=$SECONDS
  "${PODMAN[@]}" build --network host "${LIMITS[@]}" -f "$ROOT/deploy/Dockerfile" -t "$IMAGE" "$ROOT" \
    >"$WORK/build.log" 2>&1
  rc=$?
  say "build finished in $((SECONDS - build_started)) s (rc $rc)"
  if [ $rc -eq 0 ]; then pass "deploy/Dockerfile builds (all three stages)"; else
    tail -40 "$WORK/build.log"; fail "deploy/Dockerfile builds"; cp "$WORK/build.log" /var/tmp/rookery-verify-build.log
    say "full log kept at /var/tmp/rookery-verify-build.log"; exit 1
  fi
fi
has_image "$IMAGE" || { fail "image $IMAGE exists"; exit 1; }

# --- the image as built --------------------------------------------------------------------------
say "image $IMAGE: $("${PODMAN[@]}" image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"
user="$("${PODMAN[@]}" image inspect -f '{{.Config.User}}' "$IMAGE")"
check "image runs as USER rookery (got '$user')" [ "$user" = rookery ]
uid="$(run "$IMAGE" id -u 2>&1)"
check "container process is uid 10001, not root (got '$uid')" [ "$uid" = 10001 ]
cmd="$("${PODMAN[@]}" image inspect -f '{{json .Config.Cmd}}' "$IMAGE")"
check "default command is rookery-relay (got $cmd)" [ "$cmd" = '["rookery-relay"]' ]
for binary in "${BINARIES[@]}"; do
  out="$(run "$IMAGE" sh -c "test -x /usr/local/bin/$binary && ldd /usr/local/bin/$binary" 2>&1)"
  missing="$(grep -c 'not found' <<<"$out")"
  check "$binary present, ldd resolves every library ($(grep -c '=>' <<<"$out") shared libs, $missing missing)" \
    test -n "$out" -a "$missing" = 0 || grep 'not found' <<<"$out"
done
out="$(run "$IMAGE" rookery-admin 2>&1)"; rc=$?
[ $rc -eq 2 ] && grep -q '^usage: rookery-admin' <<<"$out"; usage=$?
check "rookery-admin starts and prints its usage (rc $rc)" [ $usage -eq 0 ]
check "web UI assets at \$ROOKERY_WEB_ASSETS_DIR (index.html)" \
  run "$IMAGE" sh -c 'test "$ROOKERY_WEB_ASSETS_DIR" = /usr/share/rookery/web && test -s /usr/share/rookery/web/index.html'
check "runtime stage carries no compiler or -dev headers" \
  run "$IMAGE" sh -c '! command -v g++ && ! command -v cmake && ! test -d /usr/include/boost'
check "curl for compose's health checks is in the image" run "$IMAGE" sh -c 'curl --version >/dev/null'

# --- live smoke test -----------------------------------------------------------------------------
live() {
  local devbroker="${ROOKERY_DEVBROKER:-$ROOT/build/services/devbroker/rookery-devbroker}" pg_port
  if [ ! -x "$devbroker" ]; then
    say "building the dev broker into $ROOT/build (target rookery-devbroker only)"
    [ -f "$ROOT/build/build.ninja" ] || cmake -S "$ROOT" -B "$ROOT/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$ROOT/build" --target rookery-devbroker >"$WORK/devbroker-build.log" 2>&1 || { tail "$WORK/devbroker-build.log"; return 1; }
  fi
  /usr/bin/python3 -c 'import sentry_sdk, yaml' 2>/dev/null || { echo "needs python3-sentry-sdk python3-yaml" >&2; return 1; }
  if ! pg_lsclusters --no-header | awk '$1 == 15 && $2 == "main"' | grep -q online; then
    pg_ctlcluster 15 main start || return 1
  fi
  pg_port="$(pg_lsclusters --no-header | awk '$1 == 15 && $2 == "main" { print $3 }')"

  # A throwaway database owned by a throwaway role.
  local password
  password="$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  DATABASE="rookery_verify_$$"
  su postgres -c "psql -v ON_ERROR_STOP=1 -qAt" >/dev/null <<SQL || return 1
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$ROLE') THEN CREATE ROLE $ROLE LOGIN; END IF;
END \$\$;
ALTER ROLE $ROLE PASSWORD '$password';
CREATE DATABASE $DATABASE OWNER $ROLE;
SQL

  "$devbroker" --bootstrap-file "$WORK/broker.addr" >"$WORK/devbroker.log" 2>&1 &
  BROKER_PID=$!
  for _ in $(seq 1 100); do [ -s "$WORK/broker.addr" ] && break; sleep 0.1; done
  [ -s "$WORK/broker.addr" ] || { cat "$WORK/devbroker.log"; return 1; }

  # Each service gets the environment compose.yaml gives it (x-rookery-env and its own
  # `environment:`, ${VAR:-default} resolved), with the hosts pointed at this machine and free
  # ports; compose's own health-check commands are then run inside the containers.
  /usr/bin/python3 - "$ROOT/compose.yaml" "$WORK" "$ROLE" "$password" "$pg_port" "$DATABASE" \
    "$(cat "$WORK/broker.addr")" <<'PY' || return 1
import os, re, secrets, socket, sys, yaml
compose_file, work, role, password, pg_port, database, brokers = sys.argv[1:]
compose = yaml.safe_load(open(compose_file))
def resolve(value):
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: os.environ.get(m.group(1), m.group(2)), str(value))
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]
defaults = {"relay": 3000, "worker": 9101, "web": 9000, "cron": 9100}
ports = {name: free_port() for name in defaults}
secret = secrets.token_hex(32)
for name in ["migrate", *defaults]:
    service = compose["services"][name]
    env = {key: resolve(value) for key, value in service["environment"].items()}
    env["ROOKERY_DATABASE_URL"] = f"postgresql://{role}:{password}@127.0.0.1:{pg_port}/{database}"
    env["ROOKERY_KAFKA_BROKERS"] = brokers
    env["ROOKERY_SECRET_KEY"] = secret              # .env must set it; compose's default is empty
    env["ROOKERY_RELAY_PUBLIC_URL"] = f"http://127.0.0.1:{ports['relay']}"
    env["ROOKERY_WEB_PUBLIC_URL"] = f"http://127.0.0.1:{ports['web']}"
    env["ROOKERY_KAFKA_PARAM_SESSION_TIMEOUT_MS"] = "6000"  # a quick first group join
    for other, port in ports.items():
        env[f"ROOKERY_{other.upper()}_PORT"] = str(port)
    with open(f"{work}/{name}.env", "w") as f:
        os.fchmod(f.fileno(), 0o600)
        f.writelines(f"{key}={value}\n" for key, value in env.items())
    if name in defaults:
        test = service["healthcheck"]["test"]
        assert test[0] == "CMD", test
        command = [part.replace(f"localhost:{defaults[name]}", f"localhost:{ports[name]}") for part in test[1:]]
        open(f"{work}/{name}.health", "w").write("\n".join(command) + "\n")
        open(f"{work}/{name}.port", "w").write(str(ports[name]))
PY

  local out rc
  out="$(run --env-file "$WORK/migrate.env" "$IMAGE" rookery-admin migrate 2>&1)"; rc=$?
  check "rookery-admin migrate against PostgreSQL 15 ($(grep -o 'schema at version [0-9]* (was [0-9]*)' <<<"$out"))" [ $rc -eq 0 ] ||
    { echo "$out" | tail -5; return 1; }
  run --env-file "$WORK/migrate.env" "$IMAGE" rookery-admin bootstrap --org verify --project image \
    --platform python >"$WORK/bootstrap.out" 2>"$WORK/bootstrap.err"
  check "rookery-admin bootstrap prints a DSN and an API token" grep -q '^ROOKERY_DSN=http' "$WORK/bootstrap.out" ||
    { tail -5 "$WORK/bootstrap.err"; return 1; }

  local service name
  for service in "${SERVICES[@]}"; do
    name="rookery-verify-$service-$$"
    CONTAINERS+=("$name")
    "${PODMAN[@]}" run -d --name "$name" --network host "${LIMITS[@]}" --env-file "$WORK/$service.env" \
      "$IMAGE" "rookery-$service" >/dev/null || { fail "start $service"; continue; }
  done
  for service in "${SERVICES[@]}"; do
    name="rookery-verify-$service-$$"
    local healthy=0 health
    mapfile -t health <"$WORK/$service.health"
    for _ in $(seq 1 120); do
      "${PODMAN[@]}" exec "$name" "${health[@]}" >/dev/null 2>&1 && { healthy=1; break; }
      sleep 0.5
    done
    check "$service healthy by compose's own check ($(tr '\n' ' ' <"$WORK/$service.health"))" [ $healthy = 1 ] ||
      "${PODMAN[@]}" logs --tail 10 "$name"
  done
  uid="$("${PODMAN[@]}" exec "rookery-verify-relay-$$" id -u 2>&1)"
  check "running services are uid 10001 (relay: $uid)" [ "$uid" = 10001 ]

  local web_port
  web_port="$(cat "$WORK/web.port")"
  check "rookery-web serves the UI built in the image (GET / is the Vite index.html)" \
    sh -c "curl -fsS http://127.0.0.1:$web_port/ | grep -q '<script type=\"module\"'"

  # One exception from Python's Sentry SDK, through relay -> broker -> worker -> PostgreSQL, read
  # back through the web API.
  /usr/bin/python3 - "$WORK/bootstrap.out" "$web_port" <<'PY'
import json, sys, time, urllib.request, uuid, sentry_sdk
env = dict(line.strip().split("=", 1) for line in open(sys.argv[1]) if "=" in line)
web = f"http://127.0.0.1:{sys.argv[2]}"
tag = uuid.uuid4().hex[:8]
sentry_sdk.init(env["ROOKERY_DSN"])
try:
    raise ValueError(f"image verify {tag}")
except ValueError:
    event_id = sentry_sdk.capture_exception()
sentry_sdk.flush(10)
def api(path):
    request = urllib.request.Request(web + path, headers={"Authorization": f"Bearer {env['ROOKERY_API_TOKEN']}"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.load(answer)
title = f"ValueError: image verify {tag}"
for _ in range(120):
    issues = [i for i in api(f"/api/0/projects/{env['ROOKERY_ORG']}/{env['ROOKERY_PROJECT']}/issues/") if i["title"] == title]
    if issues:
        latest = api(f"/api/0/issues/{issues[0]['id']}/events/latest/")
        ok = latest.get("eventID") == event_id
        print(f"{'PASS' if ok else 'FAIL'}  SDK event {event_id} persisted: issue {issues[0]['id']} '{title}', "
              f"count {issues[0]['count']}, latest event {latest.get('eventID')}")
        sys.exit(0 if ok else 1)
    time.sleep(0.5)
print(f"FAIL  SDK event {event_id} not visible in the web API within 60 s")
sys.exit(1)
PY
  if [ $? -eq 0 ]; then PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); fi

  # compose stops with SIGTERM: every service must drain and exit 0.
  for service in "${SERVICES[@]}"; do
    name="rookery-verify-$service-$$"
    "${PODMAN[@]}" stop -t 20 "$name" >/dev/null 2>&1
    rc="$("${PODMAN[@]}" inspect -f '{{.State.ExitCode}}' "$name" 2>&1)"
    check "$service exits 0 on SIGTERM (got $rc)" [ "$rc" = 0 ] || "${PODMAN[@]}" logs --tail 10 "$name"
  done
}

if [ "$LIVE" = 1 ]; then
  say "live smoke test: PostgreSQL 15 + dev broker on this machine, services from the image"
  live || fail "live smoke test could not run to the end (see above)"
fi

say "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
