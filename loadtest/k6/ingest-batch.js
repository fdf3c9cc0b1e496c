// Batches of 100 events (half GPU samples, half token events) at a constant arrival rate of requests.
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e RATE=50 -e DURATION=2m loadtest/k6/ingest-batch.js
import http from 'k6/http';
import { check } from 'k6';
import { BASE_URL, RATE, arrivalScenario, gpuSample, headers, tokenEvent } from './lib/events.js';

const BATCH = parseInt(__ENV.BATCH || '100', 10);

export const options = {
  scenarios: arrivalScenario(RATE),
  thresholds: {
    http_req_failed: ['rate<0.001'],
    http_req_duration: ['p(99)<200'],
    checks: ['rate>0.999'],
  },
};

export default function () {
  const tokens = [];
  const samples = [];
  for (let i = 0; i < BATCH / 2; i++) {
    tokens.push(tokenEvent(i));
    samples.push(gpuSample(i));
  }
  const a = http.post(`${BASE_URL}/v1/token-usage`, JSON.stringify(tokens), headers());
  const b = http.post(`${BASE_URL}/v1/gpu-metrics`, JSON.stringify(samples), headers());
  check(a, { 'token batch accepted': (r) => r.status === 202 && r.json('accepted') === tokens.length });
  check(b, { 'sample batch accepted': (r) => r.status === 202 && r.json('accepted') === samples.length });
}
