#!/usr/bin/env bash
# bench/worker: persisted events/s of the worker(s) draining a preloaded raw-events topic into
# PostgreSQL, against PostgreSQL's COPY ceiling for the same rows, same machine, same run.
#   bench/worker/run.sh [events, default 50000] [workers, default 1]
# The topic is filled before the workers start (rookery-bench-preload: sentry-python events of
# 2-8 KB, 200 groups over 5 projects), so the rate is the worker's, not the producer's. It checks
# that every event was stored exactly once, then prints the worker's rate (first committed batch
# to last), the COPY ceiling, their ratio (goal: >= 10,000 events/s on 2 cores) and each worker's
# peak RSS (goal < 150 MB), with the CPU each process used.
# ROOKERY_WORKER_BATCH_SIZE / ROOKERY_WORKER_BATCH_WAIT_MS override the batch settings below.
# BENCH_PERF_DIR=<dir> also records `perf record -e cpu-clock -g` of the workers and their
# PostgreSQL backends from the first committed batch to the last, and leaves perf.data and a
# report by process and symbol there (BENCH_PERF_CALL_GRAPH=dwarf for call chains through code
# built without frame pointers; default fp). BENCH_KEEP=1 keeps the database and the exported rows.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/copy_ceiling.sh"

EVENTS="${1:-50000}"
WORKERS="${2:-1}"
BUILD="${ROOKERY_BUILD_DIR:-$ROOKERY_ROOT/build}"
WORK="$(mktemp -d /tmp/rookery-bench-worker.XXXXXX)"
DB="rookery_bench_worker"
ISSUE_GROUPS=200
PROJECTS=5
# The worker's defaults. The backlog fills every batch, so the wait never expires; the batch size
# sets how many events share one transaction, one fsync and one round of aggregate upserts (1000
# since session 6: ~15 % faster than 500 once the prefetch stopped stalling; see docs/benchmarks.md).
BATCH_SIZE="${ROOKERY_WORKER_BATCH_SIZE:-1000}"
BATCH_WAIT_MS="${ROOKERY_WORKER_BATCH_WAIT_MS:-100}"
# The dev broker keeps ~5 MB per partition and silently drops older data: stay under 60 % of it,
# counting ~6 KB per message (bodies average ~5 KB, plus the contract and batch overhead).
PARTITIONS=$(((EVENTS * 6000 + 3145727) / 3145728))
PARTITIONS=$((PARTITIONS < 128 ? 128 : PARTITIONS))
PIDS=()
WORKER_PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${BENCH_KEEP:-}" = "1" ]; then
    log "kept database $DB and $WORK (BENCH_KEEP=1)"
  else
    psql_admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

LOAD_BEFORE="$(uptime)"
install_packages
build "$BUILD" -DROOKERY_WERROR=ON >/dev/null
ensure_postgres >/dev/null
ensure_role rookery_test rookery_test CREATEDB
psql_admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
psql_admin -c "CREATE DATABASE $DB OWNER rookery_test" >/dev/null
export ROOKERY_DATABASE_URL="postgresql://rookery_test:rookery_test@localhost:5432/$DB"
"$BUILD/services/admin/rookery-admin" migrate 2>/dev/null
# An experiment's schema change, applied after the migrations (e.g. an index or constraint dropped).
[ -z "${BENCH_SQL_AFTER_MIGRATE:-}" ] || psql "$ROOKERY_DATABASE_URL" -v ON_ERROR_STOP=1 -q -c "$BENCH_SQL_AFTER_MIGRATE"
sql() { psql "$ROOKERY_DATABASE_URL" -v ON_ERROR_STOP=1 -qAtF ' ' "$@"; }

for p in $(seq 1 $PROJECTS); do
  "$BUILD/services/admin/rookery-admin" bootstrap --email bench@example.com --org bench --project "p$p" >/dev/null 2>&1
done
PROJECT_ARGS=()
while read -r project_id key_id; do PROJECT_ARGS+=(--project "$project_id:$key_id"); done < <(
  sql -c "SELECT p.id, min(k.id) FROM projects p JOIN project_keys k ON k.project_id = p.id GROUP BY p.id ORDER BY p.id")
[ ${#PROJECT_ARGS[@]} -eq $((2 * PROJECTS)) ] || die "expected $PROJECTS bootstrapped projects"

ROOKERY_DEVBROKER_PARTITIONS=$PARTITIONS "$BUILD/services/devbroker/rookery-devbroker" --bootstrap-file "$WORK/broker" \
  >"$WORK/devbroker.log" 2>&1 &
BROKER_PID=$!
PIDS+=("$BROKER_PID")
for _ in $(seq 1 100); do [ -s "$WORK/broker" ] && break; sleep 0.1; done
[ -s "$WORK/broker" ] || die "dev broker did not start: $(tail -n 5 "$WORK/devbroker.log")"
ROOKERY_KAFKA_BROKERS="$(cat "$WORK/broker")"
export ROOKERY_KAFKA_BROKERS

log "preloading $EVENTS events into $PARTITIONS partitions"
read -r PRODUCED GROUPS_USED MEAN_BYTES < <("$BUILD/bench/worker/rookery-bench-preload" --brokers "$ROOKERY_KAFKA_BROKERS" \
  --topic rookery.raw-events --count "$EVENTS" --groups $ISSUE_GROUPS "${PROJECT_ARGS[@]}" 2>"$WORK/preload.log") ||
  die "preload failed: $(cat "$WORK/preload.log")"
[ "$PRODUCED" = "$EVENTS" ] || die "preload delivered $PRODUCED of $EVENTS"
log "$(cat "$WORK/preload.log")"

# CPU time (ticks) of a process: utime + stime, fields 14 and 15 after the command name.
ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# The PostgreSQL processes that work for this run: our database's backends (the workers' sessions,
# autovacuum) and the cluster's shared writers (WAL writer, checkpointer, background writer).
pg_pids() {
  sql -c "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND (datname = '$DB' OR backend_type IN
    ('walwriter', 'checkpointer', 'background writer'))"
}
declare -A PG_TICKS_BEFORE
for pid in $(pg_pids); do PG_TICKS_BEFORE[$pid]=$(ticks "$pid"); done
BROKER_TICKS_BEFORE=$(ticks "$BROKER_PID")

log "starting $WORKERS worker(s), batches of $BATCH_SIZE / $BATCH_WAIT_MS ms"
for i in $(seq 1 "$WORKERS"); do
  ROOKERY_KAFKA_PARAM_SESSION_TIMEOUT_MS=6000 ROOKERY_WORKER_BATCH_SIZE="$BATCH_SIZE" ROOKERY_WORKER_PORT=0 \
  ROOKERY_WORKER_BATCH_WAIT_MS="$BATCH_WAIT_MS" ROOKERY_LOG_LEVEL=info \
  "$BUILD/services/worker/rookery-worker" >"$WORK/worker$i.log" 2>&1 &
  PIDS+=($!)
  WORKER_PIDS+=($!)
done

start_perf() {
  local pids backends
  mapfile -t backends < <(sql -c "SELECT pid FROM pg_stat_activity
    WHERE datname = '$DB' AND pid <> pg_backend_pid() OR backend_type = 'walwriter'")
  pids=$(printf '%s,' "${WORKER_PIDS[@]}" "${backends[@]}")
  mkdir -p "$BENCH_PERF_DIR"
  perf record -q -e cpu-clock --call-graph "${BENCH_PERF_CALL_GRAPH:-fp}" -p "${pids%,}" -o "$BENCH_PERF_DIR/perf.data" 2>"$BENCH_PERF_DIR/perf.log" &
  PERF_PID=$!
  PIDS+=("$PERF_PID")
}

# Done when the issues count every event; stuck when nothing moved for a minute.
STORED=0
LAST_PROGRESS=$SECONDS
PERF_PID=""
while [ "$STORED" -lt "$EVENTS" ]; do
  sleep 0.5
  for pid in "${WORKER_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || die "a worker exited: $(tail -n 5 "$WORK"/worker*.log)"; done
  now=$(sql -c "SELECT coalesce(sum(times_seen), 0) FROM issues")
  [ "$now" != "$STORED" ] && LAST_PROGRESS=$SECONDS
  STORED=$now
  [ $((SECONDS - LAST_PROGRESS)) -lt 60 ] || die "stuck at $STORED of $EVENTS events: $(tail -n 5 "$WORK"/worker*.log)"
  if [ -n "${BENCH_PERF_DIR:-}" ] && [ -z "$PERF_PID" ] && [ "$STORED" -gt 0 ]; then start_perf; fi
done
# Full batches leave their tag counts to a fold once a second (ROOKERY_WORKER_TAG_FOLD_MS): the
# CPU figures include the last fold, and the tag counts are checked too.
STORED_AT=$SECONDS
while [ "$(sql -c "SELECT count(*) FROM issue_tag_deltas")" != "0" ]; do
  [ $((SECONDS - STORED_AT)) -lt 30 ] || die "tag deltas still pending 30 s after the last event"
  sleep 0.2
done
FOLDED_AFTER=$((SECONDS - STORED_AT))
if [ -n "$PERF_PID" ]; then
  kill -INT "$PERF_PID"
  wait "$PERF_PID" || true
  perf report -i "$BENCH_PERF_DIR/perf.data" --no-children --sort comm,dso,sym --percent-limit 0.5 --stdio \
    2>/dev/null | grep -v '^$' >"$BENCH_PERF_DIR/report.txt" || true
  log "perf report: $BENCH_PERF_DIR/report.txt"
fi

WORKER_TICKS=0
RSS_LIST=()
for pid in "${WORKER_PIDS[@]}"; do
  WORKER_TICKS=$((WORKER_TICKS + $(ticks "$pid")))
  RSS_LIST+=("$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")")
done
PG_TICKS=0
for pid in $(pg_pids); do PG_TICKS=$((PG_TICKS + $(ticks "$pid") - ${PG_TICKS_BEFORE[$pid]:-0})); done
BROKER_TICKS=$(($(ticks "$BROKER_PID") - BROKER_TICKS_BEFORE))

# The rate runs from the first committed batch to the last (group join and start-up excluded), so
# the events of the first batch are not counted: they were written before the clock started.
read -r FIRST_INSERTED SPAN < <(cat "$WORK"/worker*.log | grep 'batch committed' | sort | awk '
  function secs(t) { split(substr(t, 12, 12), p, ":"); return p[1] * 3600 + p[2] * 60 + p[3] }
  NR == 1 { first = secs($1); match($0, /inserted=[0-9]+/); inserted = substr($0, RSTART + 9, RLENGTH - 9) }
  { last = secs($1); if (last < first) last += 86400 }
  END { printf "%d %.3f\n", inserted, last - first }')
WORKER_RATE=$(awk -v n="$EVENTS" -v f="$FIRST_INSERTED" -v s="$SPAN" 'BEGIN { printf "%.0f", (n - f) / s }')

# Exactly once: every event stored once, counted once, nothing dead-lettered.
read -r EVENT_ROWS DISTINCT_IDS < <(sql -c "SELECT count(*), count(DISTINCT event_id) FROM events")
read -r TIMES_SEEN ISSUES < <(sql -c "SELECT sum(times_seen), count(*) FROM issues")
HOURLY=$(sql -c "SELECT sum(count) FROM issue_hourly_counts")
DEAD=$(sql -c "SELECT count(*) FROM dead_letters")
LEVEL_TAGS=$(sql -c "SELECT sum(times_seen) FROM issue_tag_values WHERE key = 'level'")
CHECK="ok"
[ "$EVENT_ROWS" = "$EVENTS" ] && [ "$DISTINCT_IDS" = "$EVENTS" ] && [ "$TIMES_SEEN" = "$EVENTS" ] &&
  [ "$HOURLY" = "$EVENTS" ] && [ "$LEVEL_TAGS" = "$EVENTS" ] && [ "$ISSUES" = "$GROUPS_USED" ] && [ "$DEAD" = "0" ] ||
  CHECK="FAILED"

for pid in "${WORKER_PIDS[@]}"; do kill -TERM "$pid"; done
for pid in "${WORKER_PIDS[@]}"; do wait "$pid" || true; done
RESETS=$(cat "$WORK"/worker*.log | grep -o 'offset_resets=[0-9]*' | awk -F= '{ s += $2 } END { print s + 0 }')

log "measuring the COPY ceiling"
CEILING="$(measure_copy_ceiling "$WORK")"  # an assignment, so that a failure stops the script
read -r COPY_ROWS COPY_RATE COPY_BYTES <<<"$CEILING"
[ "$COPY_ROWS" = "$EVENTS" ] || die "the COPY ceiling read $COPY_ROWS of $EVENTS rows"

per_event() { awk -v t="$1" -v n="$EVENTS" 'BEGIN { printf "%.0f", t * 10000 / n }'; }  # ticks -> µs/event
cores() { awk -v t="$1" -v s="$SPAN" 'BEGIN { printf "%.2f", t / 100 / s }'; }
printf '\nbench/worker  (%s events of %s B mean body, %s groups, %s projects, %s worker(s), batches of %s, %s partitions, %s cores)\n' \
  "$EVENTS" "$MEAN_BYTES" "$GROUPS_USED" "$PROJECTS" "$WORKERS" "$BATCH_SIZE" "$PARTITIONS" "$(nproc)"
printf '  load before     %s\n  load after      %s\n' "${LOAD_BEFORE#*load average: }" "$(uptime | sed 's/.*load average: //')"
printf '  worker          %8s events/s   (%.1f s from first to last committed batch; goal >= 10000)\n' "$WORKER_RATE" "$SPAN"
printf '  COPY ceiling    %8s rows/s     (%s rows, %s MB, one \\copy into a logged table)\n' "$COPY_RATE" "$COPY_ROWS" \
  "$((COPY_BYTES / 1048576))"
printf '  ratio           %8s\n' "$(awk -v w="$WORKER_RATE" -v c="$COPY_RATE" 'BEGIN { printf "%.2f", w / c }')"
printf '  worker peak RSS %8s MB         (goal < 150 MB)\n' "${RSS_LIST[*]}"
printf '  CPU per event   worker %s µs, PostgreSQL %s µs, dev broker %s µs (cores busy: %s, %s, %s)\n' \
  "$(per_event "$WORKER_TICKS")" "$(per_event "$PG_TICKS")" "$(per_event "$BROKER_TICKS")" \
  "$(cores "$WORKER_TICKS")" "$(cores "$PG_TICKS")" "$(cores "$BROKER_TICKS")"
printf '  exactly once    %s (events %s, distinct ids %s, sum(times_seen) %s, hourly %s, level tags %s, issues %s of %s groups, dead letters %s, offset resets %s)\n' \
  "$CHECK" "$EVENT_ROWS" "$DISTINCT_IDS" "$TIMES_SEEN" "$HOURLY" "$LEVEL_TAGS" "$ISSUES" "$GROUPS_USED" "$DEAD" "$RESETS"
printf '  tag counts      all folded %s s after the last event was stored\n' "$FOLDED_AFTER"
[ "$CHECK" = "ok" ] && [ "$RESETS" = "0" ]
