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

-- With a users file (`user signature` per line), each request names the next signed user; each
-- thread takes every n-th line so no two threads send the same user.
local users = nil
function init(args)
  prefix = "b" .. tid .. "-" .. math.random(1, 1e9) .. "-"
  local file, nthreads = args[1], tonumber(args[2] or "1")
  scores = (args[3] == "1") and 7 or 11
  -- A pause (ms) before each request of a connection: paces the load below saturation, where a
  -- p99 says how the edge answers at a given rate, not how long wrk's queue is.
  pause = tonumber(args[4] or "0") or 0
  if file and file ~= "" then
    users = {}
    local i = 0
    for line in io.lines(file) do
      if i % nthreads == tid then
        local u, sig = line:match("^(%S+) (%S+)$")
        users[#users + 1] = '"user":{"id":"' .. u .. '","signature":"' .. sig .. '"},'
      end
      i = i + 1
    end
  end
end

function delay()
  return pause
end

function request()
  counter = counter + 1
  local id = prefix .. counter
  local user = users and users[(counter - 1) % #users + 1] or ""
  local body = '{' .. user .. '"id":"' .. id .. '","rev":1,"site":"bench","survey":"checkout","score":' .. (counter % scores) ..
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
