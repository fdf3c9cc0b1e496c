-- wrk script: POST token-usage events to the producer's HTTP ingest, as fast as wrk can.
-- wrk -s loadtest/lua/ingest.lua URL -- BATCH RUN_ID
-- BATCH 1 sends one JSON object per request, BATCH > 1 a JSON array of that many events.
-- Every event id is unique: run id, wrk thread number, request counter, position in the batch.
-- done() prints one machine-readable line (WRK ...) for loadtest/bench.sh.

local threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local tenants = {"acme", "globex", "initech", "umbrella", "hooli"}
local models = {"llama-3.1-70b-instruct", "llama-3.1-8b-instruct", "mistral-7b-instruct"}
local batch, run, seq, ts, ts_at

function init(args)
  batch = tonumber(args[1] or "1")
  run = args[2] or "wrk"
  seq = 0
  ts_at = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local function event(n)
  local h = (n * 2654435761) % 4294967296
  return string.format(
    '{"event_id":"wrk-%s-%d-%d","ts":"%s","tenant":"%s","model":"%s","provider":"vllm",' ..
    '"input_tokens":%d,"output_tokens":%d,"latency_ms":%d.5,' ..
    '"gpu_uuid":"GPU-5a1c0f2e-8d3b-4c6e-9f10-%012x","node":"gpu-node-0%d"}',
    run, tid, n, ts, tenants[h % 5 + 1], models[math.floor(h / 8) % 3 + 1],
    100 + h % 1900, 20 + math.floor(h / 32) % 600, 200 + math.floor(h / 4) % 3000, h % 8, 1 + h % 2)
end

function request()
  local now = os.time()
  if now ~= ts_at then
    ts_at = now
    ts = os.date("!%Y-%m-%dT%H:%M:%SZ", now)
  end
  local body
  if batch <= 1 then
    seq = seq + 1
    body = event(seq)
  else
    local parts = {}
    for i = 1, batch do
      seq = seq + 1
      parts[i] = event(seq)
    end
    body = "[" .. table.concat(parts, ",") .. "]"
  end
  return wrk.format(nil, nil, nil, body)
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
