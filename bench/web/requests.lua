-- wrk script of bench/web: GETs the paths listed in $BENCH_PATHS (one a line) in turn, with
-- $BENCH_TOKEN as the API token, and prints one line of figures (µs) when the run is done:
--   RESULT <requests> <non-2xx> <socket errors> <p50> <p95> <p99> <max> <mean>
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do
  if line ~= "" then paths[#paths + 1] = line end
end
local headers = { ["Accept"] = "application/json", ["Accept-Encoding"] = "identity" }
local token = os.getenv("BENCH_TOKEN") or ""
if token ~= "" then headers["Authorization"] = "Bearer " .. token end
local next_path = 0

request = function()
  next_path = next_path % #paths + 1
  return wrk.format("GET", paths[next_path], headers)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d %d\n", summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
