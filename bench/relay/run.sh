#!/usr/bin/env bash
# bench/relay: accepted events/s of the relay (warm key cache, dev broker, acks=all) against a bare
# Boost.Beast server that only reads the body and answers 200, same client, same machine, same run.
#   bench/relay/run.sh [seconds per run, default 10] [connections, default 256] [rounds, default 5]
# RELAY_THREADS sets the relay's I/O threads (default 2); RELAY_BINARY runs another relay build
# (an A/B comparison against an older commit) with this checkout's dev broker and ceiling.
# Ceiling and relay runs alternate for several rounds, so that a noisy neighbour slows both alike;
# it prints the median of each, their ratio (goal >= 0.50) and the relay's peak RSS (goal < 50 MB).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

SECONDS_PER_RUN="${1:-10}"
CONNECTIONS="${2:-256}"
ROUNDS="${3:-5}"
BUILD="${ROOKERY_BUILD_DIR:-$ROOKERY_ROOT/build}"
WORK="$(mktemp -d /tmp/rookery-bench-relay.XXXXXX)"
DB="rookery_bench_relay"
THREADS=2
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql_admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

install_packages
command -v wrk >/dev/null || { as_root apt-get install -y -qq wrk >/dev/null; }
build "$BUILD" -DROOKERY_WERROR=ON >/dev/null
ensure_postgres >/dev/null
ensure_role rookery_test rookery_test CREATEDB
psql_admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
psql_admin -c "CREATE DATABASE $DB OWNER rookery_test" >/dev/null
export ROOKERY_DATABASE_URL="postgresql://rookery_test:rookery_test@localhost:5432/$DB"
"$BUILD/services/admin/rookery-admin" migrate 2>/dev/null

# 10 projects with 5 keys each: the relay resolves every request from its in-memory cache.
for p in $(seq 1 10); do
  "$BUILD/services/admin/rookery-admin" bootstrap --email bench@example.com --org bench --project "p$p" >/dev/null 2>&1
done
psql "$ROOKERY_DATABASE_URL" -qc "INSERT INTO project_keys (project_id, public_key, secret_key)
  SELECT p.id, md5(random()::text), md5(random()::text) FROM projects p, generate_series(1, 4)"
psql "$ROOKERY_DATABASE_URL" -qAtF ' ' -c "SELECT project_id, public_key FROM project_keys" >"$WORK/keys"
log "generating the request mix"
/usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/make_payloads.py" "$WORK/payloads" "$WORK/keys" 2000

"$BUILD/services/devbroker/rookery-devbroker" --bootstrap-file "$WORK/broker" >"$WORK/devbroker.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 100); do [ -s "$WORK/broker" ] && break; sleep 0.1; done

RELAY_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
CEILING_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ROOKERY_KAFKA_BROKERS="$(cat "$WORK/broker")" ROOKERY_RELAY_PORT="$RELAY_PORT" ROOKERY_RELAY_BIND=127.0.0.1 \
ROOKERY_RELAY_THREADS=${RELAY_THREADS:-$THREADS} ROOKERY_RELAY_MAX_CONNECTIONS_PER_IP=0 ROOKERY_RELAY_MAX_REQUESTS_PER_SECOND_PER_IP=0 \
ROOKERY_LOG_LEVEL=warn "${RELAY_BINARY:-$BUILD/services/relay/rookery-relay}" >"$WORK/relay.log" 2>&1 &
RELAY_PID=$!
PIDS+=("$RELAY_PID")
"$BUILD/bench/relay/rookery-bench-beast-ceiling" "$CEILING_PORT" $THREADS &
CEILING_PID=$!
PIDS+=("$CEILING_PID")
BROKER_PID=${PIDS[0]}
wait_http "http://127.0.0.1:$RELAY_PORT/readyz" 30 || die "relay not ready: $(tail -5 "$WORK/relay.log")"

cpu_ticks() {  # <pid> -> user + system clock ticks so far
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

run_wrk() {  # <port> <server pid> -> "<2xx per second> <non-2xx count> <server CPU µs per 2xx> <broker CPU µs per 2xx>"
  local out server_before broker_before
  server_before=$(cpu_ticks "$2")
  broker_before=$(cpu_ticks "$BROKER_PID")
  out=$(BENCH_DIR="$WORK/payloads" wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --timeout 10s \
        -s "$(dirname "${BASH_SOURCE[0]}")/requests.lua" "http://127.0.0.1:$1" 2>&1)
  local total rps bad
  total=$(echo "$out" | awk '/requests in/ {print $1}')
  bad=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  bad=${bad:-0}
  rps=$(awk -v t="$total" -v b="$bad" -v s="$SECONDS_PER_RUN" 'BEGIN { printf "%.0f", (t - b) / s }')
  local per_tick_us=$((1000000 / $(getconf CLK_TCK)))
  local server_us broker_us
  server_us=$(awk -v d="$(($(cpu_ticks "$2") - server_before))" -v n="$((total - bad))" -v u="$per_tick_us" \
    'BEGIN { printf "%.1f", (n > 0 ? d * u / n : 0) }')
  broker_us=$(awk -v d="$(($(cpu_ticks "$BROKER_PID") - broker_before))" -v n="$((total - bad))" -v u="$per_tick_us" \
    'BEGIN { printf "%.1f", (n > 0 ? d * u / n : 0) }')
  echo "$rps $bad $server_us $broker_us"
}

log "warming up"
BENCH_DIR="$WORK/payloads" wrk -t1 -c16 -d3s -s "$(dirname "${BASH_SOURCE[0]}")/requests.lua" \
  "http://127.0.0.1:$RELAY_PORT" >/dev/null 2>&1
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
median_real() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
CEILINGS=()
RELAYS=()
CEILING_CPU=()
RELAY_CPU=()
BROKER_CPU=()
RELAY_BAD=0
for round in $(seq 1 "$ROUNDS"); do
  log "round $round/$ROUNDS: ceiling, then relay, ${SECONDS_PER_RUN}s each (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  read -r rate _ cpu _ < <(run_wrk "$CEILING_PORT" "$CEILING_PID")
  CEILINGS+=("$rate")
  CEILING_CPU+=("$cpu")
  read -r rate bad cpu broker_cpu < <(run_wrk "$RELAY_PORT" "$RELAY_PID")
  RELAYS+=("$rate")
  RELAY_CPU+=("$cpu")
  BROKER_CPU+=("$broker_cpu")
  RELAY_BAD=$((RELAY_BAD + bad))
done
CEILING=$(printf '%s\n' "${CEILINGS[@]}" | median)
RELAY=$(printf '%s\n' "${RELAYS[@]}" | median)
RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$RELAY_PID/status")

printf '\nbench/relay  (%s rounds of %s s per server, %s connections, %s server threads, %s cores)\n' \
  "$ROUNDS" "$SECONDS_PER_RUN" "$CONNECTIONS" "$THREADS" "$(nproc)"
printf '  beast ceiling   %8s req/s      (rounds: %s)\n' "$CEILING" "${CEILINGS[*]}"
printf '  relay accepted  %8s events/s   (rounds: %s; non-2xx: %s)\n' "$RELAY" "${RELAYS[*]}" "$RELAY_BAD"
printf '  ratio           %8s            (goal >= 0.50)\n' "$(awk -v r="$RELAY" -v c="$CEILING" 'BEGIN { printf "%.2f", r / c }')"
printf '  relay peak RSS  %8s MB         (goal < 50 MB)\n' "$(awk -v k="$RSS_KB" 'BEGIN { printf "%.1f", k / 1024 }')"
# CPU time per answered request is far steadier than throughput on a shared machine.
printf '  CPU per request ceiling %s µs, relay %s µs, dev broker %s µs (medians; relay rounds: %s)\n' \
  "$(printf '%s\n' "${CEILING_CPU[@]}" | median_real)" "$(printf '%s\n' "${RELAY_CPU[@]}" | median_real)" \
  "$(printf '%s\n' "${BROKER_CPU[@]}" | median_real)" "${RELAY_CPU[*]}"
printf '  load average    %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
