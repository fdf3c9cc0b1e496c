-- wrk script: POST one prebuilt OTLP/HTTP protobuf body (loadtest/otlp/OtlpBody.java writes it) to
-- /v1/traces, as fast as wrk can. wrk -s loadtest/lua/otlp.lua URL -- BODY_FILE
-- done() prints the same WRK line as ingest.lua for loadtest/bench.sh.
function init(args)
  local f = assert(io.open(args[1], "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-protobuf"
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    "WRK requests=%d non2xx=%d socket_errors=%d duration_s=%.3f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    summary.requests, non2xx, errors, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
