// Event generators and request helpers shared by the k6 scripts.
import exec from 'k6/execution';

export const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8080';
export const API_KEY = __ENV.API_KEY || '';
export const RATE = parseInt(__ENV.RATE || '100', 10);
export const DURATION = __ENV.DURATION || '1m';

const TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
const MODELS = ['llama-3.1-70b-instruct', 'llama-3.1-8b-instruct', 'mistral-7b-instruct'];

// Unique per VU, iteration and position: safe to run many VUs against one store.
export function eventId(kind, i) {
  return `k6-${kind}-${exec.vu.idInTest}-${exec.vu.iterationInScenario}-${i}`;
}

function pick(list, i) {
  return list[i % list.length];
}

export function tokenEvent(i) {
  return {
    event_id: eventId('t', i),
    ts: new Date().toISOString(),
    tenant: pick(TENANTS, exec.vu.idInTest + i),
    model: pick(MODELS, i),
    provider: 'vllm',
    input_tokens: 100 + ((i * 37) % 900),
    output_tokens: 20 + ((i * 13) % 400),
    latency_ms: 250 + (i % 50) * 10,
  };
}

export function gpuSample(i) {
  const gpu = (exec.vu.idInTest * 8 + (i % 8)) % 512;
  return {
    event_id: eventId('s', i),
    ts: new Date().toISOString(),
    node: `k6-node-${Math.floor(gpu / 8)}`,
    gpu_uuid: `GPU-k6-${gpu}`,
    gpu_index: gpu % 8,
    gpu_model: 'H100-SXM-80GB',
    model: pick(MODELS, gpu),
    utilization_pct: (i * 7) % 100,
    memory_used_mib: 40000,
    memory_total_mib: 81559,
    power_w: 300 + (i % 300),
    temperature_c: 60,
  };
}

// An event with one deliberate mistake, for mixed batches.
export function invalidTokenEvent(i) {
  const e = tokenEvent(i);
  switch (i % 4) {
    case 0: e.input_tokens = -1; break;
    case 1: delete e.tenant; break;
    case 2: e.ts = 'yesterday'; break;
    default: e.colour = 'blue';
  }
  return e;
}

export function headers() {
  const h = { 'Content-Type': 'application/json' };
  if (API_KEY) {
    h.Authorization = `Bearer ${API_KEY}`;
  }
  return { headers: h, timeout: '30s' };
}

export function arrivalScenario(rate) {
  return {
    ingest: {
      executor: 'constant-arrival-rate',
      rate: rate,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: Math.max(10, Math.ceil(rate / 20)),
      maxVUs: Math.max(50, rate),
    },
  };
}
