// Settings, event generators and request helpers shared by the k6 scripts (k6 ES modules).
import exec from 'k6/execution';

// --- Settings (k6 run -e NAME=value ...) ---
export const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const API_KEY = __ENV.API_KEY || '';
export const RATE = positiveInt('RATE', 100);      // iterations (requests) started per second
export const DURATION = __ENV.DURATION || '1m';
export const BATCH = positiveInt('BATCH', 100);    // events per request (batch and mixed scripts)

// A prefix unique to this run, so that repeated runs against the same store never produce the same
// event ids (which would be counted as duplicates, not stored). Set RUN_ID to replay a run on purpose.
const RUN_ID = __ENV.RUN_ID || `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

const TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
const MODELS = ['llama-3.1-70b-instruct', 'llama-3.1-8b-instruct', 'mistral-7b-instruct'];
const GPUS_PER_NODE = 8;
const GPU_POOL = 512;

function positiveInt(name, dflt) {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') {
    return dflt;
  }
  const n = parseInt(raw, 10);
  if (!(n > 0)) {
    throw new Error(`${name} must be a positive integer, got '${raw}'`);
  }
  return n;
}

function pick(list, i) {
  return list[Math.abs(i) % list.length];
}

// Unique per run, VU, iteration and position in the batch (at most ~60 printable ASCII chars).
export function eventId(kind, i) {
  return `k6-${RUN_ID}-${kind}-${exec.vu.idInTest}-${exec.vu.iterationInScenario}-${i}`;
}

// RFC 3339 in UTC with milliseconds, the current time.
export function now() {
  return new Date().toISOString();
}

// A valid token.usage.v1 event (canonical field names).
export function tokenEvent(i) {
  return {
    event_id: eventId('t', i),
    ts: now(),
    tenant: pick(TENANTS, exec.vu.idInTest + i),
    model: pick(MODELS, i),
    provider: 'vllm',
    input_tokens: 100 + ((i * 37) % 900),
    output_tokens: 20 + ((i * 13) % 400),
    latency_ms: 250 + (i % 50) * 10,
  };
}

// A valid token event in the OpenAI-style form (usage object), mapped by the server.
export function openAiStyleTokenEvent(i) {
  const prompt = 50 + ((i * 17) % 500);
  const completion = 10 + ((i * 11) % 300);
  return {
    event_id: eventId('o', i),
    ts: now(),
    tenant: pick(TENANTS, exec.vu.idInTest + i),
    model: pick(MODELS, i + 1),
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  };
}

// A valid gpu.metrics.v1 sample: position i of a batch is one GPU of a pool of 512 (64 nodes of 8).
export function gpuSample(i) {
  const gpu = (exec.vu.idInTest * 100 + i) % GPU_POOL;
  return {
    event_id: eventId('s', i),
    ts: now(),
    node: `k6-node-${Math.floor(gpu / GPUS_PER_NODE)}`,
    gpu_uuid: `GPU-k6-${gpu}`,
    gpu_index: gpu % GPUS_PER_NODE,
    gpu_model: 'H100-SXM-80GB',
    model: pick(MODELS, gpu),
    utilization_pct: (i * 7) % 101,
    memory_used_mib: 40000 + (i % 100) * 100,
    memory_total_mib: 81559,
    power_w: 300 + (i % 300),
    temperature_c: 55 + (i % 20),
    sm_clock_mhz: 1980,
    xid_errors: 0,
  };
}

// A token event with one deliberate mistake (of six kinds), and the rejection code the server must
// answer with. None of the mistakes is cured by an API key bound to a tenant (which sets the tenant).
export const INVALID_KINDS = 6;
export function invalidTokenEvent(i, kind) {
  const e = tokenEvent(i);
  e.event_id = eventId('x', i);
  switch ((kind === undefined ? i : kind) % INVALID_KINDS) {
    case 0:
      e.input_tokens = -1;
      return { event: e, code: 'out_of_range' };
    case 1:
      e.output_tokens = 1.5;
      return { event: e, code: 'wrong_type' };
    case 2:
      e.ts = 'yesterday';
      return { event: e, code: 'bad_format' };
    case 3:
      e.colour = 'blue';
      return { event: e, code: 'unknown_field' };
    case 4:
      delete e.input_tokens;
      delete e.output_tokens;
      e.usage = { prompt_tokens: 5, completion_tokens: 6, total_tokens: 12 };
      return { event: e, code: 'conflict' };
    default:
      e.ts = new Date(Date.now() - 8 * 24 * 3600 * 1000).toISOString();
      return { event: e, code: 'too_old' };
  }
}

// Request parameters: content type, optional API key, a tag for per-endpoint thresholds.
export function params(endpoint, ndjson) {
  const headers = { 'Content-Type': ndjson ? 'application/x-ndjson' : 'application/json' };
  if (API_KEY) {
    headers.Authorization = `Bearer ${API_KEY}`;
  }
  return { headers: headers, timeout: '30s', tags: { endpoint: endpoint } };
}

// The request body: one object, a JSON array, or NDJSON (one object per line) when ndjson is true.
export function encode(events, ndjson) {
  if (!Array.isArray(events)) {
    return JSON.stringify(events);
  }
  return ndjson ? events.map((e) => JSON.stringify(e)).join('\n') + '\n' : JSON.stringify(events);
}

// The response body as an object, or {} when it is not JSON (so checks fail instead of throwing).
export function answer(res) {
  try {
    return JSON.parse(res.body) || {};
  } catch (e) {
    return {};
  }
}

// RATE iterations per second for DURATION, whatever the latency (an open model: a slow server gets
// more concurrent requests, up to maxVUs, instead of fewer requests).
export function arrivalScenario(rate) {
  return {
    ingest: {
      executor: 'constant-arrival-rate',
      rate: rate,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: Math.max(10, Math.ceil(rate / 10)),
      maxVUs: Math.max(50, rate * 2),
    },
  };
}

// The p(99) latency bound in ms: P99_MS, or the script's default.
export function p99(dflt) {
  return `p(99)<${positiveInt('P99_MS', dflt)}`;
}
