-- wrk script: GETs the URLs listed in $BENCH_URLS (one per line) in random order with the bearer
-- token $BENCH_TOKEN; counts non-200 answers and prints p50/p99.
local urls = {}
local token = os.getenv("BENCH_TOKEN")
non200 = 0

function init(args)
  for line in io.lines(os.getenv("BENCH_URLS")) do table.insert(urls, line) end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)
end

function request()
  return wrk.format("GET", urls[math.random(#urls)], { ["Authorization"] = "Bearer " .. token })
end

function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("non200") end
  io.write(string.format("BENCH requests=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f non200=%d\n", summary.requests,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad))
end
