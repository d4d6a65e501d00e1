-- wrk script: POST /v1/responses with a fresh id and visitor per request (every answer is
-- "accepted", so each request does the full path: parse, validate, rate limit, DO dedup).
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local n = 0
function request()
  n = n + 1
  local id = string.format("b%d-%d-%d", tid, os.time() % 100000, n)
  local body = '{"id":"' .. id .. '","rev":1,"site":"bench","survey":"checkout","score":9,'
    .. '"comment":"Great shop, delivery was fast and the parcel well packed","locale":"en-GB",'
    .. '"visitor":"v' .. id .. '","page":"https://shop.example/checkout/thanks",'
    .. '"properties":{"plan":"pro","cart":"42.50"},"sent_at":"2026-11-23T10:00:00Z"}'
  return wrk.format("POST", "/v1/responses",
    { ["Content-Type"] = "application/json", ["Origin"] = "https://shop.example", ["X-Real-IP"] = "127.0.0.1" }, body)
end

bad = 0
function response(status, headers, body)
  if status ~= 202 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + (t:get("bad") or 0) end
  io.write(string.format("non202 %d\n", b))
end
