-- wrk script for tests/bench/token_flood_bench.sh: POST /v1/checkouts with tokens that are not
-- valid, in three kinds taking turns: malformed ("garbage-<n>"), well-formed and new each time
-- (the shape of a real token, 256 random bits), and one well-formed unknown token repeated.
-- Environment: VP_FLOOD_DELAY_MS (a pause before each request on a connection; with C connections
-- the rate is about C x 1000 / (delay + latency) per second; default none: as fast as possible).
-- done() prints flood_requests, flood_duration_us, flood_socket_errors and flood_status_<code>.

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local last_chars = "AEIMQUYcgkosw048" -- the 43rd character carries only 4 bits
local body = '{"visit_id":"FLOOD"}' -- never read: the token is refused first

wrk.method = "POST"
wrk.path = "/v1/checkouts"

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("seed", #threads)
end

local function well_formed_token()
  local t = {}
  for i = 1, 42 do
    local k = math.random(1, 64)
    t[i] = alphabet:sub(k, k)
  end
  local k = math.random(1, 16)
  return "vp_" .. table.concat(t) .. last_chars:sub(k, k)
end

function init(args)
  math.randomseed(os.time() * 100 + seed)
  counter = 0
  repeated = well_formed_token()
  statuses = {}
end

function request()
  counter = counter + 1
  local token
  if counter % 3 == 0 then
    token = "garbage-" .. counter
  elseif counter % 3 == 1 then
    token = well_formed_token()
  else
    token = repeated
  end
  return wrk.format(nil, nil,
    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, response_body)
  statuses[status] = (statuses[status] or 0) + 1
end

local pace = tonumber(os.getenv("VP_FLOOD_DELAY_MS") or "")
if pace ~= nil and pace > 0 then
  function delay()
    return pace
  end
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + n
    end
  end
  local e = summary.errors
  io.write(string.format("flood_requests=%d\n", summary.requests))
  io.write(string.format("flood_duration_us=%d\n", summary.duration))
  io.write(string.format("flood_socket_errors=%d\n", e.connect + e.read + e.write + e.timeout))
  for status, n in pairs(totals) do
    io.write(string.format("flood_status_%d=%d\n", status, n))
  end
end
