-- wrk script for tests/bench/serve.py: POST the file named by $LLMEVAL_BENCH_BODY to the URL
-- as application/json, and print one machine-readable summary line at the end:
--   LLMEVAL_WRK {"requests":..,"duration_us":..,"p50_us":..,"p99_us":..,...}
-- errors.status counts replies with a status above 399 (wrk's "Non-2xx or 3xx responses").

local path = os.getenv("LLMEVAL_BENCH_BODY")
if not path then
  error("LLMEVAL_BENCH_BODY is not set")
end
local file = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"

function done(summary, latency, requests)
  io.write(string.format(
    'LLMEVAL_WRK {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
    summary.errors.timeout))
end
