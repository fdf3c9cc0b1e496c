// Batches of BATCH (default 100) events per request, RATE requests per second for DURATION: token
// events and GPU samples mixed by request (every other iteration posts to each endpoint, so
// RATE / 2 requests per second each, RATE × BATCH events per second in all). Every fifth token
// event is in the OpenAI-style form. FORMAT=ndjson sends NDJSON instead of JSON arrays.
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e RATE=50 -e DURATION=2m loadtest/k6/ingest-batch.js
// Env: BASE_URL, API_KEY (sent as Bearer), RATE, DURATION, BATCH, FORMAT (json | ndjson),
//      P99_MS (default 200), RUN_ID.
import http from 'k6/http';
import exec from 'k6/execution';
import { check } from 'k6';
import {
  BASE_URL, BATCH, RATE, answer, arrivalScenario, encode, gpuSample, openAiStyleTokenEvent, p99, params, tokenEvent,
} from './lib/events.js';

const NDJSON = (__ENV.FORMAT || 'json').toLowerCase() === 'ndjson';

export const options = {
  scenarios: arrivalScenario(RATE),
  thresholds: {
    http_req_failed: ['rate<0.001'],
    http_req_duration: [p99(200)],
    // The same bound per endpoint, so that one cannot hide behind the other.
    'http_req_duration{endpoint:token-usage}': [p99(200)],
    'http_req_duration{endpoint:gpu-metrics}': [p99(200)],
    checks: ['rate>0.999'],
    dropped_iterations: ['count<1'],
  },
};

export default function () {
  const tokens = exec.scenario.iterationInTest % 2 === 0;
  const endpoint = tokens ? 'token-usage' : 'gpu-metrics';
  const events = [];
  for (let i = 0; i < BATCH; i++) {
    if (!tokens) {
      events.push(gpuSample(i));
    } else {
      events.push(i % 5 === 4 ? openAiStyleTokenEvent(i) : tokenEvent(i));
    }
  }
  const res = http.post(`${BASE_URL}/v1/${endpoint}`, encode(events, NDJSON), params(endpoint, NDJSON));
  const body = answer(res);
  check(res, {
    'status is 202': (r) => r.status === 202,
    'whole batch accepted': () => body.accepted === BATCH && body.rejected === 0,
  });
}
