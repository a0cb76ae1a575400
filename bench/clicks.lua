-- POST /v1/clicks with a unique click id per request; counts answers by class.
-- The request is assembled by hand rather than with wrk.format: the load generator shares the
-- machine's two cores with the server and PostgreSQL, and every microsecond it spends is taken
-- from them.
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local head = "POST /v1/clicks HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n" ..
  "User-Agent: Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) bench\r\nContent-Length: "
local fmt = '{"campaign":"bench","click_id":"b%d-%d","fbclid":"IwAR0bench%d",' ..
  '"fbp":"fb.1.1596403881668.1116446470","em":"user%d@example.com","event_ids":{"Lead":"lead-%d-%d"}}'

function init(args)
  n = 0
  ok = 0
  bad = 0
  busy = 0
end

function request()
  n = n + 1
  local body = string.format(fmt, tid, n, n, n, tid, n)
  return head .. #body .. "\r\n\r\n" .. body
end

function response(status, headers, body)
  if status == 201 or status == 200 then
    ok = ok + 1
  elseif status == 503 then
    busy = busy + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local o, b, s = 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    b = b + t:get("bad")
    s = s + t:get("busy")
  end
  io.write(string.format("RESULT ok=%d bad=%d busy=%d errors=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f\n",
    o, b, s, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    o / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
