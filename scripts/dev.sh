#!/usr/bin/env bash
# Runs the whole Rookery stack on this machine, without Docker:
#   scripts/dev.sh up       install, build (services and the web UI), start PostgreSQL + dev broker + relay, worker, web, cron
#                           (+ a local SMTP sink for alert mail)
#   scripts/dev.sh down     stop what `up` started
#   scripts/dev.sh status   show what runs
#   scripts/dev.sh logs [service]
# The Kafka broker here is the in-memory development broker (librdkafka's mock cluster): events
# not yet consumed are lost when it stops. It is for development and tests only; production runs
# real Kafka (compose.yaml).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

STATE="$ROOKERY_ROOT/.rookery"
RUN="$STATE/run"
LOGS="$STATE/logs"
BUILD="${ROOKERY_BUILD_DIR:-$ROOKERY_ROOT/build}"
RELAY_PORT="${ROOKERY_RELAY_PORT:-3000}"
WEB_PORT="${ROOKERY_WEB_PORT:-9000}"
DB_NAME="${ROOKERY_DEV_DATABASE:-rookery}"
DB_URL="postgresql://rookery:rookery@localhost:5432/$DB_NAME"
MAIL_PORT="${ROOKERY_DEV_MAIL_PORT:-1025}"
SERVICES=(relay worker web cron)

pid_alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

binary_for() {
  case "$1" in
    devbroker) echo "$BUILD/services/devbroker/rookery-devbroker" ;;
    *) echo "$BUILD/services/$1/rookery-$1" ;;
  esac
}

start_process() {
  local name="$1"
  shift
  if pid_alive "$name"; then
    return 0
  fi
  # setsid: the service outlives this shell and gets signals only from `down`.
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

# stop_processes <name>...: SIGTERM to all at once, then wait up to 15 s for each (SIGKILL after).
stop_processes() {
  local name pids=()
  for name in "$@"; do
    if pid_alive "$name"; then
      kill -TERM "$(cat "$RUN/$name.pid")" 2>/dev/null || true
    fi
  done
  for name in "$@"; do
    if pid_alive "$name"; then
      local pid
      pid="$(cat "$RUN/$name.pid")"
      for _ in $(seq 1 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      if kill -0 "$pid" 2>/dev/null; then
        log "$name did not stop within 15 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
    rm -f "$RUN/$name.pid"
  done
}

service_env() {
  export ROOKERY_DATABASE_URL="$DB_URL"
  export ROOKERY_KAFKA_BROKERS="$(cat "$RUN/broker.addr")"
  # The dev broker (librdkafka's mock) hands out partitions only when a member's session timeout,
  # less a second, has passed: a short timeout makes worker restarts take seconds, not a minute.
  export ROOKERY_KAFKA_PARAM_SESSION_TIMEOUT_MS="${ROOKERY_KAFKA_PARAM_SESSION_TIMEOUT_MS:-6000}"
  export ROOKERY_RELAY_PORT="$RELAY_PORT" ROOKERY_WEB_PORT="$WEB_PORT"
  export ROOKERY_RELAY_PUBLIC_URL="${ROOKERY_RELAY_PUBLIC_URL:-http://localhost:$RELAY_PORT}"
  export ROOKERY_WEB_PUBLIC_URL="${ROOKERY_WEB_PUBLIC_URL:-http://localhost:$WEB_PORT}"
  # Alert mail goes to the dev mail sink (a real SMTP server that prints what it receives).
  export ROOKERY_SMTP_URL="${ROOKERY_SMTP_URL:-smtp://127.0.0.1:$MAIL_PORT}"
  export ROOKERY_SMTP_STARTTLS="${ROOKERY_SMTP_STARTTLS:-none}"
  export ROOKERY_SMTP_FROM="${ROOKERY_SMTP_FROM:-rookery@localhost}"
  if [ ! -s "$STATE/secret_key" ]; then
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$STATE/secret_key")
  fi
  ROOKERY_SECRET_KEY="$(cat "$STATE/secret_key")"
  export ROOKERY_SECRET_KEY
}

cmd_up() {
  mkdir -p "$RUN" "$LOGS"
  install_packages
  log "building (first build takes a few minutes; later ones are incremental)"
  build "$BUILD" -DROOKERY_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
  build_web_ui
  if [ "$(ensure_postgres)" = "started" ]; then
    touch "$RUN/postgres.started-by-dev"
  fi
  ensure_role rookery rookery
  ensure_database "$DB_NAME" rookery

  if ! pid_alive devbroker; then
    # A new broker has a new address and an empty topic: restart everything that used the old one.
    stop_processes "${SERVICES[@]}"
    rm -f "$RUN/broker.addr"
    start_process devbroker "$(binary_for devbroker)" --bootstrap-file "$RUN/broker.addr"
    for _ in $(seq 1 100); do [ -s "$RUN/broker.addr" ] && break; sleep 0.1; done
    [ -s "$RUN/broker.addr" ] || die "dev broker did not start; see $LOGS/devbroker.log"
  fi
  service_env
  start_process mailsink /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$MAIL_PORT" -c aiosmtpd.handlers.Debugging
  "$(binary_for admin)" migrate 2>>"$LOGS/admin.log" || die "migration failed; see $LOGS/admin.log"
  if [ ! -s "$STATE/dev.env" ]; then
    log "first run: creating the admin user, organization, project, DSN key and API token"
    # A password set here (not only for a new user) so dev.env always holds a working login,
    # also when the database outlived an earlier checkout.
    local password
    password="$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    {
      "$(binary_for admin)" bootstrap --org rookery --project default --platform python --password "$password"
      echo "ROOKERY_ADMIN_PASSWORD=$password"
      echo "ROOKERY_RELAY_URL=$ROOKERY_RELAY_PUBLIC_URL"
      echo "ROOKERY_WEB_URL=$ROOKERY_WEB_PUBLIC_URL"
    } >"$STATE/dev.env.tmp" 2>>"$LOGS/admin.log" || die "bootstrap failed; see $LOGS/admin.log"
    mv "$STATE/dev.env.tmp" "$STATE/dev.env"
    chmod 600 "$STATE/dev.env"
  fi
  local worker_was_running=0 worker_log_lines=0
  pid_alive worker && worker_was_running=1
  [ -f "$LOGS/worker.log" ] && worker_log_lines=$(wc -l <"$LOGS/worker.log")
  for service in "${SERVICES[@]}"; do start_process "$service" "$(binary_for "$service")"; done
  if [ "$worker_was_running" = 0 ]; then
    # A new consumer-group member waits for the broker's initial rebalance delay (about 3 s)
    # before it owns partitions; only then does an event sent now show up within a second.
    for _ in $(seq 1 300); do
      tail -n +"$((worker_log_lines + 1))" "$LOGS/worker.log" 2>/dev/null | grep -q "kafka: assigned" && break
      sleep 0.1
    done
  fi
  wait_http "http://localhost:$RELAY_PORT/readyz" 30 || die "relay not ready; see $LOGS/relay.log"
  wait_http "http://localhost:$WEB_PORT/readyz" 30 || die "web not ready; see $LOGS/web.log"
  for service in worker cron; do pid_alive "$service" || die "$service exited; see $LOGS/$service.log"; done

  # shellcheck disable=SC1091
  source "$STATE/dev.env"
  cat <<MSG

Rookery is running.
  Web UI:     $ROOKERY_WEB_URL/ (sign in as $ROOKERY_ADMIN_EMAIL, or "Use an API token")
  DSN:        $ROOKERY_DSN
  API:        $ROOKERY_WEB_URL/api/0/projects/$ROOKERY_ORG/$ROOKERY_PROJECT/issues/
  API token:  in .rookery/dev.env (ROOKERY_API_TOKEN), with the admin login
  Alert mail: scripts/dev.sh logs mailsink (a local SMTP server that prints every message)
  Logs:       scripts/dev.sh logs [relay|worker|web|cron|devbroker|mailsink]
  Stop:       scripts/dev.sh down

Try it (Debian's python3 has python3-sentry-sdk):
  /usr/bin/python3 -c 'import sentry_sdk; sentry_sdk.init("$ROOKERY_DSN"); 1/0'
MSG
}

cmd_down() {
  # Services first (the relay flushes to the broker, the worker commits to it), then the broker.
  stop_processes "${SERVICES[@]}"
  stop_processes devbroker mailsink
  rm -f "$RUN/broker.addr"
  if [ -f "$RUN/postgres.started-by-dev" ]; then
    as_root pg_ctlcluster 15 main stop || true
    rm -f "$RUN/postgres.started-by-dev"
  fi
  log "stopped"
}

cmd_status() {
  local code=0
  for service in devbroker mailsink "${SERVICES[@]}"; do
    if pid_alive "$service"; then
      printf '%-10s running (pid %s)\n' "$service" "$(cat "$RUN/$service.pid")"
    else
      printf '%-10s stopped\n' "$service"
      code=3
    fi
  done
  if pg_cluster_online; then echo "postgres   running"; else echo "postgres   stopped"; fi
  return $code
}

cmd_logs() {
  if [ $# -gt 0 ]; then tail -n 100 -f "$LOGS/$1.log"; else tail -n 20 "$LOGS"/*.log; fi
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  logs) shift; cmd_logs "$@" ;;
  *) echo "usage: scripts/dev.sh up|down|status|logs [service]" >&2; exit 2 ;;
esac
