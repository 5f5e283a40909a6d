# The COPY ceiling that bench/worker and bench/e2e both measure: stored events rows (the same
# columns, the same payloads) exported, then COPYed by one client into one table shaped like a day
# partition (the same indexes, column storage, toast_tuple_target). Logged, like the partitions:
# the worker pays for WAL, so an UNLOGGED ceiling would flatter PostgreSQL, not the worker.
# Needs the caller's sql() (psql on the bench database) and common.sh's psql_admin.

# measure_copy_ceiling WORK_DIR [MAX_ROWS]: prints "rows rows_per_second bytes".
measure_copy_ceiling() {
  local work="$1" limit="${2:-}" columns rows start end stored
  columns="project_id, event_id, day, issue_id, received_at, timestamp, platform, level, title, culprit, environment"
  columns="$columns, release, sdk_name, sdk_version, client_ip, hashes, data, payload, tags"
  # One line each: \copy is a psql meta-command and ends at a newline.
  sql -c "\\copy (SELECT $columns FROM events${limit:+ LIMIT $limit}) TO '$work/events.copy'" >&2
  rows=$(wc -l <"$work/events.copy")
  sql -c "CREATE TABLE copy_ceiling (LIKE events INCLUDING DEFAULTS INCLUDING INDEXES INCLUDING COMPRESSION
    INCLUDING STORAGE) WITH (toast_tuple_target = 512)" >&2
  # The run's dirty pages are flushed now, not by a checkpoint in the middle of the COPY.
  psql_admin -c "CHECKPOINT" >/dev/null
  start=$(date +%s.%N)
  sql -c "\\copy copy_ceiling ($columns) FROM '$work/events.copy'" >&2
  end=$(date +%s.%N)
  stored=$(sql -c "SELECT count(*) FROM copy_ceiling")
  [ "$stored" = "$rows" ] || die "COPY stored $stored of $rows rows"
  echo "$rows $(awk -v n="$rows" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", n / (b - a) }') $(stat -c %s "$work/events.copy")"
}
