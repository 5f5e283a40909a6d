-- wrk script for bench/relay: replays the request mix written by make_payloads.py, round-robin.
-- BENCH_DIR must point at that directory. BENCH_DELAY_MS (bench/e2e) makes each connection wait
-- that long after each answer before its next request: a paced load instead of a flood.
local dir = os.getenv("BENCH_DIR")
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "")
local requests = {}
local index = 0

local function split(line)
  local fields = {}
  for field in string.gmatch(line, "[^\t]+") do fields[#fields + 1] = field end
  return fields
end

init = function(args)
  for line in io.lines(dir .. "/manifest.txt") do
    local fields = split(line)
    local headers = {}
    for i = 2, #fields - 1, 2 do headers[fields[i]] = fields[i + 1] end
    local file = io.open(dir .. "/" .. fields[#fields], "rb")
    local body = file:read("*a")
    file:close()
    requests[#requests + 1] = wrk.format("POST", fields[1], headers, body)
  end
  -- Threads start at different offsets so they do not send the same events in lockstep.
  index = math.random(#requests)
end

if pause then
  delay = function() return pause end
end

request = function()
  index = index % #requests + 1
  return requests[index]
end
