-- wrk script for the BFF benchmark: each request signs in as the next member (bearer token) or,
-- for login, posts the next member's credentials; a response with GraphQL errors or a null
-- member counts as bad. Set by environment: BENCH_BODY (JSON with {{EMAIL}} for login),
-- BENCH_TOKENS (file of bearer tokens, one a line), BENCH_PATH.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  tokens = {}
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    table.insert(tokens, line)
  end
  body = os.getenv("BENCH_BODY")
  path = os.getenv("BENCH_PATH")
  -- threads start at different members, so they do not walk in step
  n = (id * 7919) % #tokens
end

function request()
  n = n % #tokens + 1
  local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
  local sent = body
  if string.find(body, "{{EMAIL}}", 1, true) then
    sent = string.gsub(body, "{{EMAIL}}", "member" .. n .. "@bench.example")
  else
    headers["Authorization"] = "Bearer " .. tokens[n]
  end
  return wrk.format("POST", path, headers, sent)
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) or string.find(body, '"me":null', 1, true)
      or string.find(body, '"member":null', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total_bad = 0
  for _, thread in ipairs(threads) do
    total_bad = total_bad + thread:get("bad")
  end
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p99_ms": %.2f, "bad": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, total_bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
