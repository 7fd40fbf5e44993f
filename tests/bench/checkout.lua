-- wrk script for tests/bench/ingest_bench.sh and token_flood_bench.sh: POST /v1/checkouts with a
-- unique visit_id per request.
-- Environment: VP_BENCH_TOKEN (bearer token, scope checkout:write), VP_BENCH_RUN (run prefix that
-- keeps visit ids of different runs apart; default: the current time), VP_BENCH_DELAY_MS (a pause
-- before each request on a connection: a paced client, as token_flood_bench.sh runs; default none).
-- done() prints machine-readable lines: wrk_201, wrk_non201, wrk_socket_errors,
-- wrk_duration_us, wrk_latency_p50_us, wrk_latency_p99_us, wrk_latency_max_us.

local token = os.getenv("VP_BENCH_TOKEN")
if token == nil or token == "" then
  error("VP_BENCH_TOKEN is not set")
end
local run = os.getenv("VP_BENCH_RUN") or tostring(os.time())

wrk.method = "POST"
wrk.path = "/v1/checkouts"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"

local checkout_body = dofile("tests/bench/checkout_body.lua")

-- Main state: give every thread its number.
local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
  table.insert(threads, thread)
end

-- Thread states (tid is set by setup before init runs).
function init(args)
  counter = 0
  prefix = "BENCH-" .. run .. "-" .. tostring(tid) .. "-"
end

function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, checkout_body(prefix .. counter))
end

local pace = tonumber(os.getenv("VP_BENCH_DELAY_MS") or "")
if pace ~= nil and pace > 0 then
  function delay()
    return pace
  end
end

-- No response() callback: a Lua call per response costs wrk CPU that the service then lacks on
-- a small machine. Every visit id is unique, so every 2xx is a 201; wrk counts statuses >= 400
-- as errors.status.
function done(summary, latency, requests)
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  local accepted = summary.requests - e.status - e.read - e.write - e.timeout
  io.write(string.format("wrk_201=%d\n", accepted))
  io.write(string.format("wrk_non201=%d\n", e.status))
  io.write(string.format("wrk_socket_errors=%d\n", socket_errors))
  io.write(string.format("wrk_duration_us=%d\n", summary.duration))
  io.write(string.format("wrk_latency_p50_us=%d\n", latency:percentile(50)))
  io.write(string.format("wrk_latency_p99_us=%d\n", latency:percentile(99)))
  io.write(string.format("wrk_latency_max_us=%d\n", latency.max))
end
