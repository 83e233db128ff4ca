-- wrk script shared by every scenario of scripts/bench.
--
-- Environment:
--   BENCH_METHOD        request method (default GET)
--   BENCH_BODY_FILE     file whose bytes are the request body (default: none)
--   BENCH_CONTENT_TYPE  Content-Type of the body (default application/json)
--   BENCH_OUT           where done() writes the results as one JSON object
--
-- The body is read once: every request is identical, so wrk spends no Lua time per request
-- (no request()/response() callbacks: they would slow the load generator down, and it shares
-- the cores with the server).

local method = os.getenv("BENCH_METHOD") or "GET"
local body_file = os.getenv("BENCH_BODY_FILE")

wrk.method = method
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE") or "application/json"
end

function done(summary, latency, requests)
  local out = os.getenv("BENCH_OUT")
  if not out or out == "" then return end
  local e = summary.errors
  local secs = summary.duration / 1e6
  local f = assert(io.open(out, "w"))
  f:write(string.format(
    '{"requests":%d,"duration_s":%.6f,"rps":%.2f,"bytes":%d,' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f,"stdev":%.1f},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, secs, summary.requests / secs, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, latency.stdev,
    e.connect, e.read, e.write, e.status, e.timeout))
  f:close()
end
