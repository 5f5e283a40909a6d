#!/usr/bin/env bash
# bench/web: latency of the web API's issue list, search and issue detail over a seeded database
# (1,000,000 events in 20,000 issues across 10 projects, spread over 30 days), and the compressed
# size of the JavaScript and CSS the UI loads first.
#   bench/web/run.sh [--reseed] [seconds per endpoint, default 10] [connections, default 4]
# Goals (issue #6): every issue list, search and issue detail request answers with p95 < 150 ms;
# the UI's first load is < 300 KB of compressed JavaScript.
#
# The database (rookery_bench_web) is seeded once and kept for the next runs; it is seeded again
# when the seed scripts, the migrations or the sizes change, when it is older than
# BENCH_MAX_AGE_HOURS (default 6: the data ages), or with --reseed (do that after a change to what
# the worker stores). Seeding: the real pipeline (rookery-bench-preload's sentry-python
# events → dev broker → rookery-worker) stores a few events, one issue per group, and seed_*.sql
# grows that to the full size in SQL from those very payloads, computing every aggregate the way
# the worker does; see seed_prepare.sql. BENCH_EVENTS / BENCH_ISSUES / BENCH_DAYS change the size.
#
# Then rookery-web (its defaults: 1 I/O thread, 4 database threads) serves the API, and wrk, one
# thread with <connections> keep-alive connections and an API token, asks each endpoint in turn
# for <seconds>, walking a list of URLs (10 projects, 100 issues: the 50 with the most events and 50
# at random). It prints p50/p95/p99 per endpoint and p95 against the goal. For scale, the same
# client asks /healthz (no database), /readyz (a SELECT 1 through the same pool) and
# /api/0/organizations/ (token check and a small query) before and after: on a shared machine
# those move with the neighbours, and so does everything else.
# BENCH_ONLY=<regex> runs only the endpoints whose names match.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

RESEED=0
if [ "${1:-}" = "--reseed" ]; then
  RESEED=1
  shift
fi
SECONDS_PER_RUN="${1:-10}"
CONNECTIONS="${2:-4}"
EVENTS="${BENCH_EVENTS:-1000000}"
ISSUES="${BENCH_ISSUES:-20000}"
DAYS="${BENCH_DAYS:-30}"
PROJECTS=10
TEMPLATE_GROUPS=50   # issues the real pipeline makes (5 per project), 10 events each
TEMPLATE_EVENTS=500
GOAL_MS=150
UI_GOAL_KB=300
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${ROOKERY_BUILD_DIR:-$ROOKERY_ROOT/build}"
WORK="$(mktemp -d /tmp/rookery-bench-web.XXXXXX)"
DB="rookery_bench_web"
export ROOKERY_DATABASE_URL="postgresql://rookery_test:rookery_test@localhost:5432/$DB"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

sql() { psql "$ROOKERY_DATABASE_URL" -v ON_ERROR_STOP=1 -qAtF ' ' "$@"; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
install_packages
command -v wrk >/dev/null || { as_root apt-get install -y -qq wrk >/dev/null; }
# Only what the bench runs: configure like build() does, then these targets.
export CCACHE_DIR="${CCACHE_DIR:-$ROOKERY_ROOT/.rookery/ccache}"
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S "$ROOKERY_ROOT" -B "$BUILD" -G Ninja -DROOKERY_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD" --parallel "$(nproc)" --target rookery-web rookery-admin rookery-worker rookery-devbroker \
  rookery-bench-preload >/dev/null
build_web_ui
ensure_postgres >/dev/null
ensure_role rookery_test rookery_test CREATEDB

# -- the database -----------------------------------------------------------------------------------

SIGNATURE="bench/web seed $EVENTS events $ISSUES issues $DAYS days $(cat "$BENCH"/seed_*.sql \
  "$ROOKERY_ROOT"/libs/db/migrations/*.sql "$ROOKERY_ROOT/bench/worker/preload.cpp" | sha1sum | cut -c1-12)"
CURRENT="$(psql_admin -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$DB'")"

# The real pipeline stores the templates: a few sentry-python events per project.
store_templates() {
  local project_args=() broker_pid worker_pid stored=0 waited=0
  while read -r project_id key_id; do project_args+=(--project "$project_id:$key_id"); done < <(
    sql -c "SELECT p.id, min(k.id) FROM projects p JOIN project_keys k ON k.project_id = p.id GROUP BY p.id ORDER BY p.id")
  "$BUILD/services/devbroker/rookery-devbroker" --bootstrap-file "$WORK/broker" >"$WORK/devbroker.log" 2>&1 &
  broker_pid=$!
  PIDS+=("$broker_pid")
  for _ in $(seq 1 100); do [ -s "$WORK/broker" ] && break; sleep 0.1; done
  [ -s "$WORK/broker" ] || die "dev broker did not start: $(tail -n 5 "$WORK/devbroker.log")"
  "$BUILD/bench/worker/rookery-bench-preload" --brokers "$(cat "$WORK/broker")" --topic rookery.raw-events \
    --count $TEMPLATE_EVENTS --groups $TEMPLATE_GROUPS "${project_args[@]}" >/dev/null 2>"$WORK/preload.log" ||
    die "preload failed: $(cat "$WORK/preload.log")"
  ROOKERY_KAFKA_BROKERS="$(cat "$WORK/broker")" ROOKERY_WORKER_PORT=0 ROOKERY_LOG_LEVEL=warn \
    "$BUILD/services/worker/rookery-worker" >"$WORK/worker.log" 2>&1 &
  worker_pid=$!
  PIDS+=("$worker_pid")
  while [ "$stored" -lt $TEMPLATE_EVENTS ]; do
    sleep 0.5
    waited=$((waited + 1))
    [ $waited -lt 240 ] || die "the worker stored $stored of $TEMPLATE_EVENTS events: $(tail -n 5 "$WORK/worker.log")"
    stored=$(sql -c "SELECT coalesce(sum(times_seen), 0) FROM issues")
  done
  kill -TERM "$worker_pid" "$broker_pid"
  wait "$worker_pid" "$broker_pid" || true
}

seed() {
  local started=$SECONDS parts=2 pids=() part
  log "seeding $DB: $EVENTS events in $ISSUES issues across $PROJECTS projects over $DAYS days"
  psql_admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
  psql_admin -c "CREATE DATABASE $DB OWNER rookery_test" >/dev/null
  "$BUILD/services/admin/rookery-admin" migrate 2>/dev/null
  for p in $(seq 1 $PROJECTS); do
    "$BUILD/services/admin/rookery-admin" bootstrap --email bench@example.com --org bench --project "p$p" \
      --platform python >/dev/null 2>&1
  done
  sql -c "DELETE FROM api_tokens"
  store_templates
  # The worker stores payloads zstd-compressed (migration 0011), which SQL cannot open: the seed
  # reads its templates as jsonb, so their JSON is copied into `data` here. The seeded events then
  # carry `data`, the pre-0011 form, which the API reads more slowly than a compressed payload
  # (jsonb to text against a few µs of zstd), so the figures err on the slow side.
  sql -c "\\copy (SELECT project_id, event_id, day, encode(payload, 'hex') FROM events WHERE payload IS NOT NULL) TO '$WORK/payloads.tsv'"
  /usr/bin/python3 - "$WORK/payloads.tsv" "$WORK/templates.sql" <<'PYTHON'
import json, sys, zstandard
source, target = sys.argv[1], sys.argv[2]
decompressor = zstandard.ZstdDecompressor()
with open(source) as rows, open(target, "w") as out:
    for line in rows:
        project_id, event_id, day, payload = line.rstrip("\n").split("\t")
        text = decompressor.decompress(bytes.fromhex(payload)).decode("utf8")
        json.loads(text)  # refuse to seed from anything but JSON
        quoted = "'" + text.replace("'", "''") + "'"
        out.write(f"UPDATE events SET data = {quoted}::jsonb, payload = NULL "
                  f"WHERE project_id = {project_id} AND event_id = '{event_id}' AND day = '{day}';\n")
PYTHON
  sql -f "$WORK/templates.sql" >/dev/null
  log "templates stored by the worker after $((SECONDS - started)) s; planning the rest"
  sql -v events="$EVENTS" -v issues="$ISSUES" -v days="$DAYS" -f "$BENCH/seed_prepare.sql" >"$WORK/seed.log"
  log "writing the events ($((SECONDS - started)) s)"
  for part in $(seq 0 $((parts - 1))); do
    sql -v part="$part" -v parts="$parts" -f "$BENCH/seed_events.sql" >>"$WORK/seed.log" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || die "seeding the events failed: $(tail -n 5 "$WORK/seed.log")"; done
  log "counting the aggregates ($((SECONDS - started)) s)"
  sql -f "$BENCH/seed_finish.sql" >>"$WORK/seed.log"
  log "vacuum and analyze ($((SECONDS - started)) s)"
  psql_admin -d "$DB" -c "VACUUM (ANALYZE)"
  read -r issues events < <(sql -c "SELECT count(*), sum(times_seen) FROM issues")
  if [ "$issues" != "$ISSUES" ] || [ "$events" != "$EVENTS" ] || [ "$(sql -c "SELECT count(*) FROM events")" != "$EVENTS" ]; then
    die "seeded $issues issues and $events events, not $ISSUES and $EVENTS"
  fi
  psql_admin -c "COMMENT ON DATABASE $DB IS '$SIGNATURE seeded at $(date +%s)'" >/dev/null
  SEED_SECONDS=$((SECONDS - started))
  log "seeded in $SEED_SECONDS s"
}

SEED_SECONDS=""
# Kept, the data ages: issues "seen in the last 24 hours" become fewer by the hour.
SEEDED_AT="${CURRENT##*seeded at }"
if [ $RESEED = 1 ] || [ "${CURRENT% seeded at *}" != "$SIGNATURE" ] || ! [[ "$SEEDED_AT" =~ ^[0-9]+$ ]] ||
  [ $(($(date +%s) - SEEDED_AT)) -gt $((${BENCH_MAX_AGE_HOURS:-6} * 3600)) ]; then
  seed
else
  log "reusing $DB ($SIGNATURE, seeded $((($(date +%s) - SEEDED_AT) / 60)) minutes ago)"
fi
DB_SIZE="$(sql -c "SELECT pg_size_pretty(pg_database_size('$DB'))")"

# A token of the organization's owner for this run only.
TOKEN="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
sql -c "DELETE FROM api_tokens WHERE name = 'bench/web'"
sql -c "INSERT INTO api_tokens (user_id, token_hash, name, scopes) SELECT min(user_id), sha256(convert_to('$TOKEN', 'UTF8')),
  'bench/web', ARRAY['org:read', 'project:read', 'event:read'] FROM organization_members"

# -- the web service ----------------------------------------------------------------------------------

PORT=$(free_port)
ROOKERY_WEB_PORT=$PORT ROOKERY_WEB_BIND=127.0.0.1 ROOKERY_WEB_PUBLIC_URL="http://127.0.0.1:$PORT" \
ROOKERY_SECRET_KEY="$TOKEN" ROOKERY_WEB_ASSETS_DIR="$ROOKERY_ROOT/web/dist" ROOKERY_LOG_LEVEL=warn \
  "$BUILD/services/web/rookery-web" >"$WORK/web.log" 2>&1 &
WEB_PID=$!
PIDS+=("$WEB_PID")
URL="http://127.0.0.1:$PORT"
wait_http "$URL/readyz" 30 || die "rookery-web not ready: $(tail -n 5 "$WORK/web.log")"

# -- the requests -------------------------------------------------------------------------------------

ORG=bench
sql -c "SELECT slug FROM projects ORDER BY id" >"$WORK/projects"
sql -c "(SELECT id FROM issues ORDER BY times_seen DESC, id LIMIT 50)
        UNION ALL (SELECT id FROM (SELECT id FROM issues ORDER BY times_seen DESC, id OFFSET 50) rest
                   ORDER BY md5(id::text) LIMIT 50)" >"$WORK/issues"
RELEASE="$(sql -c "SELECT value FROM issue_tag_values WHERE key = 'release' GROUP BY value ORDER BY count(*) DESC
                   OFFSET 3 LIMIT 1")"
USER_KEY="$(sql -c "SELECT user_key FROM issue_users GROUP BY user_key ORDER BY count(*), user_key LIMIT 1")"
RARE_WORD="$(sql -c "SELECT split_part(metadata->>'value', ' ', -1) FROM issues ORDER BY md5(id::text) LIMIT 1")"

ENDPOINTS=()  # name|path template; {p} a project slug, {i} an issue id
add() { if [[ "$1" =~ ${BENCH_ONLY:-.} ]]; then ENDPOINTS+=("$1|$2"); fi; }
enc() { /usr/bin/python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
# What the UI asks: its issue list sends query, sort and statsPeriod (24h unless chosen), no limit (100).
LIST="query=is%3Aunresolved&statsPeriod=24h"
add "project issues, last seen (UI default)" "/api/0/projects/$ORG/{p}/issues/?$LIST&sort=date"
add "project issues, first seen" "/api/0/projects/$ORG/{p}/issues/?$LIST&sort=new"
add "project issues, events" "/api/0/projects/$ORG/{p}/issues/?$LIST&sort=freq"
add "project issues, users" "/api/0/projects/$ORG/{p}/issues/?$LIST&sort=user"
add "project issues, 14d stats" "/api/0/projects/$ORG/{p}/issues/?query=is%3Aunresolved&statsPeriod=14d&sort=date"
add "project issues, all, no stats" "/api/0/projects/$ORG/{p}/issues/?query=&sort=date"
add "org issues, last seen" "/api/0/organizations/$ORG/issues/?$LIST&sort=date"
add "org issues, events" "/api/0/organizations/$ORG/issues/?$LIST&sort=freq"
add "search: free text (common)" "/api/0/projects/$ORG/{p}/issues/?statsPeriod=24h&query=$(enc 'is:unresolved timed out')"
add "search: free text (one issue)" "/api/0/projects/$ORG/{p}/issues/?statsPeriod=24h&query=$(enc "is:unresolved $RARE_WORD")"
add "search: level:warning" "/api/0/projects/$ORG/{p}/issues/?statsPeriod=24h&query=$(enc 'is:unresolved level:warning')"
add "search: browser.name:Chrome" "/api/0/projects/$ORG/{p}/issues/?statsPeriod=24h&query=$(enc 'is:unresolved browser.name:Chrome')"
add "search: environment:staging" "/api/0/projects/$ORG/{p}/issues/?statsPeriod=24h&query=$(enc 'is:unresolved environment:staging')"
add "search: user:<one> (org)" "/api/0/organizations/$ORG/issues/?statsPeriod=24h&query=$(enc "is:unresolved user:$USER_KEY")"
add "search: release:<one>" "/api/0/organizations/$ORG/issues/?statsPeriod=24h&query=$(enc "is:unresolved release:$RELEASE")"
add "search: org free text (one issue)" "/api/0/organizations/$ORG/issues/?statsPeriod=24h&query=$(enc "$RARE_WORD")"
add "issue" "/api/0/issues/{i}/"
add "issue latest event" "/api/0/issues/{i}/events/latest/"
add "issue tags" "/api/0/issues/{i}/tags/"
add "issue events (UI asks, 100 full)" "/api/0/issues/{i}/events/"
add "issue user tag values" "/api/0/issues/{i}/tags/user/values/"

paths_for() {  # <template> -> the URL list, one path a line
  local template="$1" p i
  if [[ "$template" == *"{p}"* ]]; then
    while read -r p; do echo "${template//\{p\}/$p}"; done <"$WORK/projects"
  elif [[ "$template" == *"{i}"* ]]; then
    while read -r i; do echo "${template//\{i\}/$i}"; done <"$WORK/issues"
  else
    echo "$template"
  fi
}

# CPU time (clock ticks) of rookery-web and of its PostgreSQL sessions: steadier than latency on a
# shared machine, where neighbours stretch every request's wall time.
ticks() { awk '{ sub(/.*\) /, ""); s += $12 + $13 } END { print s + 0 }' "$@" 2>/dev/null; }
server_ticks() {
  local files=("/proc/$WEB_PID/stat") pid
  for pid in "${BACKENDS[@]}"; do files+=("/proc/$pid/stat"); done
  ticks "${files[@]}"
}
BACKENDS=()
# The machine's CPU time, "<busy ticks> <all ticks>" of all cores (/proc/stat): what the server did
# not use of it was the neighbours' (and wrk's).
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }

# One wrk run: "<requests/s> <non-2xx> <p50 ms> <p95 ms> <p99 ms> <max ms> <server CPU ms per request>
# <% of the machine's CPU the others used>".
measure() {  # <paths file> <seconds>
  local out before after busy_before all_before busy_after all_after
  before=$(server_ticks)
  read -r busy_before all_before < <(machine_ticks)
  out=$(BENCH_PATHS="$1" BENCH_TOKEN="$TOKEN" wrk -t1 -c"$CONNECTIONS" -d"${2}s" --timeout 10s \
        -s "$BENCH/requests.lua" "$URL" 2>&1) || die "wrk failed: $out"
  read -r busy_after all_after < <(machine_ticks)
  after=$(server_ticks)
  echo "$out" | awk -v s="$2" -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" \
    -v others="$((busy_after - busy_before - (after - before)))" -v all="$((all_after - all_before))" '/^RESULT/ {
    printf "%.0f %d %.1f %.1f %.1f %.1f %.2f %.0f\n", $2 / s, $3 + $4, $5 / 1000, $6 / 1000, $7 / 1000, $8 / 1000,
           ($2 > 0 ? t * 1000 / hz / $2 : 0), (all > 0 ? 100 * others / all : 0) }'
}

# Every URL answers 200 before anything is timed (a 4xx is fast and would flatter the figures).
i=0
for endpoint in "${ENDPOINTS[@]}"; do
  paths_for "${endpoint#*|}" >"$WORK/paths.$i"
  while read -r path; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL$path")
    [ "$code" = 200 ] || die "$path answered $code"
  done < <(head -n 3 "$WORK/paths.$i")
  i=$((i + 1))
done

# The seeded issues render like the pipeline's own: the same JSON fields (recursively) in the issue
# and its tags, and in its events (all fields any of 20 events has: a user is there or not), for a
# template issue and a seeded issue of the same template. The seed adds only the browser context.
/usr/bin/python3 - "$URL" "$TOKEN" "$(sql -c "SELECT min(id) FROM issues")" "$(sql -c "SELECT i.id FROM issues i
  WHERE i.id > (SELECT min(id) FROM issues) + $TEMPLATE_GROUPS AND i.culprit = (SELECT culprit FROM issues ORDER BY id
  LIMIT 1) AND i.status = 'unresolved' AND i.times_seen >= 20 ORDER BY i.id LIMIT 1")" >"$WORK/shape" <<'EOF' ||
import json, sys, urllib.request
url, token, real, seeded = sys.argv[1:5]
def get(path):
    request = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(request))
def shape(value, prefix=""):
    if isinstance(value, dict):
        return set().union({prefix + "." + k for k in value}, *(shape(v, prefix + "." + k) for k, v in value.items()))
    if isinstance(value, list):
        return set().union(*(shape(v, prefix + "[]") for v in value)) if value else set()
    return set()
added = {"[].contexts.browser", "[].contexts.browser.name", "[].contexts.browser.version", "[].contexts.browser.type"}
differences = []
for path in ("/api/0/issues/%s/", "/api/0/issues/%s/tags/", "/api/0/issues/%s/events/?limit=20"):
    a, b = shape(get(path % real)), shape(get(path % seeded)) - added
    if a != b:
        differences.append("%s: only the worker's %s, only the seed's %s" % (path, sorted(a - b), sorted(b - a)))
tags = lambda issue: ",".join(sorted(t["key"] for t in get("/api/0/issues/%s/tags/" % issue)))
print("issue %s (worker) and %s (seeded): %s; tag keys %s vs %s" % (real, seeded,
      "same fields (the seed adds contexts.browser)" if not differences else "; ".join(differences),
      tags(real), tags(seeded)))
sys.exit(1 if differences else 0)
EOF
  die "shape check: $(cat "$WORK/shape")"
SHAPE="$(cat "$WORK/shape")"
log "$SHAPE"

log "warming up (every endpoint for a second)"
i=0
for endpoint in "${ENDPOINTS[@]}"; do measure "$WORK/paths.$i" 1 >/dev/null; i=$((i + 1)); done

mapfile -t BACKENDS < <(sql -c "SELECT pid FROM pg_stat_activity WHERE datname = '$DB' AND pid <> pg_backend_pid()
  AND backend_type = 'client backend'")

CEILING_NAMES=("/healthz (no database)" "/readyz (SELECT 1)" "/api/0/organizations/ (token, small query)")
printf '%s\n' /healthz >"$WORK/ceiling.0"
printf '%s\n' /readyz >"$WORK/ceiling.1"
printf '%s\n' /api/0/organizations/ >"$WORK/ceiling.2"
CEILING_BEFORE=()
for c in 0 1 2; do CEILING_BEFORE+=("$(measure "$WORK/ceiling.$c" "$SECONDS_PER_RUN")"); done

RESULTS=()
i=0
for endpoint in "${ENDPOINTS[@]}"; do
  log "${endpoint%%|*} ($SECONDS_PER_RUN s; load average $(cut -d' ' -f1-3 /proc/loadavg))"
  RESULTS+=("$(measure "$WORK/paths.$i" "$SECONDS_PER_RUN")")
  i=$((i + 1))
done
CEILING_AFTER=()
for c in 0 1 2; do CEILING_AFTER+=("$(measure "$WORK/ceiling.$c" "$SECONDS_PER_RUN")"); done

# -- the UI's first load --------------------------------------------------------------------------------

# The files index.html loads (scripts, module preloads, style sheets) and every module they import
# statically; the lazy routes' chunks are not part of the first load. Sizes as rookery-web serves
# them (gzip, from the precompressed copies), and brotli for comparison.
node "$BENCH/ui_size.mjs" "$ROOKERY_ROOT/web/dist" >"$WORK/ui" || die "ui_size.mjs failed"
SERVED_GZIP=0
while read -r kind file _; do
  [ "$kind" = file ] || continue
  bytes=$(curl -s -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: gzip' "$URL/$file")
  SERVED_GZIP=$((SERVED_GZIP + bytes))
done <"$WORK/ui"

# -- the report -------------------------------------------------------------------------------------------

ms() { awk -v v="$1" 'BEGIN { printf "%.1f", v }'; }
printf '\nbench/web  (%s events, %s issues, %s projects, %s days; database %s%s; %s connections, %s s per endpoint, %s cores)\n' \
  "$EVENTS" "$ISSUES" "$PROJECTS" "$DAYS" "$DB_SIZE" "${SEED_SECONDS:+, seeded in $SEED_SECONDS s}" "$CONNECTIONS" \
  "$SECONDS_PER_RUN" "$(nproc)"
printf '  load before %s, after %s\n' "$LOAD_BEFORE" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %s\n' "$SHAPE"
printf '\n  %-40s %7s %8s %8s %8s %8s %8s %6s %8s\n' "endpoint" "req/s" "p50 ms" "p95 ms" "p99 ms" "max ms" "CPU ms" \
  "others" "p95/goal"
for c in 0 1 2; do
  for when in before after; do
    if [ $when = before ]; then r=${CEILING_BEFORE[$c]}; else r=${CEILING_AFTER[$c]}; fi
    read -r rps bad p50 p95 p99 max cpu others <<<"$r"
    printf '  %-40s %7s %8s %8s %8s %8s %8s %5s%% %8s\n' "${CEILING_NAMES[$c]%% (*} ($when)" "$rps" "$p50" "$p95" "$p99" \
      "$max" "$cpu" "$others" "-"
  done
done
WORST=0
FAILED=0
i=0
for endpoint in "${ENDPOINTS[@]}"; do
  read -r rps bad p50 p95 p99 max cpu others <<<"${RESULTS[$i]}"
  ratio=$(awk -v p="$p95" -v g=$GOAL_MS 'BEGIN { printf "%.2f", p / g }')
  mark=""
  if awk -v p="$p95" -v g=$GOAL_MS 'BEGIN { exit !(p >= g) }'; then mark=" MISSED"; FAILED=$((FAILED + 1)); fi
  [ "$bad" = 0 ] || { mark="$mark ($bad errors)"; FAILED=$((FAILED + 1)); }
  printf '  %-40s %7s %8s %8s %8s %8s %8s %5s%% %8s%s\n' "${endpoint%%|*}" "$rps" "$p50" "$p95" "$p99" "$max" "$cpu" \
    "$others" "$ratio" "$mark"
  WORST=$(awk -v a="$WORST" -v b="$ratio" 'BEGIN { print (b > a ? b : a) }')
  i=$((i + 1))
done
printf '  worst p95/goal %s (goal: p95 < %s ms for every endpoint; %s missed). CPU ms: rookery-web and its\n' "$WORST" \
  "$GOAL_MS" "$FAILED"
printf '  PostgreSQL sessions per request; others: the CPU everything else (wrk included) used, in %% of the machine.\n'

read -r _ gzip_js brotli_js raw_js < <(grep '^js ' "$WORK/ui")
read -r _ gzip_css brotli_css raw_css < <(grep '^css ' "$WORK/ui")
kb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }
printf '\n  UI first load (%s files; lazy chunks excluded):\n' "$(grep -c '^file ' "$WORK/ui")"
printf '    JavaScript  %7s KB gzip, %7s KB brotli, %7s KB raw   (goal < %s KB compressed: %s)\n' \
  "$(kb "$gzip_js")" "$(kb "$brotli_js")" "$(kb "$raw_js")" "$UI_GOAL_KB" \
  "$(awk -v b="$gzip_js" -v g=$UI_GOAL_KB 'BEGIN { printf "%.2f of it", b / 1024 / g }')"
printf '    CSS         %7s KB gzip, %7s KB brotli, %7s KB raw\n' "$(kb "$gzip_css")" "$(kb "$brotli_css")" "$(kb "$raw_css")"
printf '    as served   %7s KB (gzip, JS and CSS, measured from rookery-web)\n' "$(kb "$SERVED_GZIP")"
[ "$FAILED" = 0 ] && awk -v b="$gzip_js" -v g=$UI_GOAL_KB 'BEGIN { exit !(b / 1024 < g) }'
