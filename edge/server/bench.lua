-- wrk script: POST valid responses with DISTINCT ids (so every request is a real insert),
-- distinct visitors (so the per-respondent rule does not turn them into duplicates).
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
  table.insert(threads, thread)
end

function init(args)
  prefix = "b" .. tid .. "-" .. math.random(1, 1e9) .. "-"
end

function request()
  counter = counter + 1
  local id = prefix .. counter
  local body = '{"id":"' .. id .. '","rev":1,"site":"bench","survey":"checkout","score":' .. (counter % 11) ..
    ',"visitor":"v' .. id .. '","comment":"bench","locale":"en","page":"https://shop.example/thanks"}'
  return wrk.format("POST", "/v1/responses", {["content-type"] = "application/json", ["origin"] = "https://shop.example"}, body)
end

local accepted = 0
function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 end
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local non2xx = summary.errors.status
  print(string.format("requests: %d  non-202: %d  socket errors: %d", summary.requests, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  print(string.format("accepted/s: %.0f", (summary.requests - non2xx) / secs))
  print(string.format("latency p50: %.2f ms  p99: %.2f ms  max: %.2f ms",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
