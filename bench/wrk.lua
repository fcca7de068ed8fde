-- wrk script for bench/run.py: the request from the environment, the results as one JSON line.
--   WRK_METHOD  GET (default) or POST
--   WRK_BODY    a JSON request body (sent with Content-Type: application/json)
--   WRK_TOKEN   a bearer token (sent as Authorization: Bearer ...)
-- No response() callback: counting in Lua would cost the client CPU that the
-- server shares; wrk itself counts socket errors and HTTP statuses above 399.

wrk.method = os.getenv("WRK_METHOD") or "GET"
wrk.headers["Accept"] = "application/json"

local body = os.getenv("WRK_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

local token = os.getenv("WRK_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

function done(summary, latency, requests)
  local e = summary.errors
  -- Latencies are in microseconds.
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"mean": %.1f, "stdev": %.1f, "max": %d, ' ..
    '"p50": %d, "p90": %d, "p99": %d, "p999": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
