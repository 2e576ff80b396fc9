-- wrk script: sends each pre-generated request exactly once (file from bench_ingest_gen.py),
-- counts answers by status and duplicates, and stops when every request has been answered.
local requests, total, next_index = {}, 0, 1
answered, ok, dup, other = 0, 0, 0, 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(os.getenv("BENCH_REQUESTS"), "rb"))
  local data = file:read("*a")
  file:close()
  local pos = 1
  while pos <= #data do
    local nl = string.find(data, "\n", pos, true)
    local len = tonumber(string.sub(data, pos, nl - 1))
    table.insert(requests, string.sub(data, nl + 1, nl + len))
    pos = nl + 1 + len
  end
  total = #requests
end

local function now()
  local pipe = io.popen("date +%s.%N")
  local value = tonumber(pipe:read("*l"))
  pipe:close()
  return value
end

local calls = 0

function request()
  -- wrk discards the request of the very first call (it builds it before any connection is
  -- ready), so that one is a health check rather than a webhook that would never be sent.
  calls = calls + 1
  if calls == 1 then return wrk.format("GET", "/healthz") end
  if next_index == 1 then started = now() end
  if next_index <= total then
    local r = requests[next_index]
    next_index = next_index + 1
    return r
  end
  return wrk.format("GET", "/healthz")
end

function response(status, headers, body)
  -- Filler requests sent after the last webhook are health checks; they are not counted.
  if status == 200 and string.find(body, '"status":"ok"', 1, true) then return end
  if answered < total then
    answered = answered + 1
    if status == 200 then
      ok = ok + 1
      if string.find(body, '"duplicate":true', 1, true) then dup = dup + 1 end
    else
      other = other + 1
    end
  end
  if answered >= total and not finished then
    -- wrk keeps its main thread asleep for the whole -d; tell the driver script we are done.
    finished = now()
    local marker = assert(io.open(os.getenv("BENCH_DONE"), "w"))
    marker:write(string.format("%.6f\n", finished - started))
    marker:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests_)
  for _, t in ipairs(threads) do
    io.write(string.format("BENCH answered=%d ok=%d duplicates=%d non200=%d\n",
      t:get("answered"), t:get("ok"), t:get("dup"), t:get("other")))
  end
  io.write(string.format("BENCH p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("BENCH wrk_requests=%d\n", summary.requests))
end
