// Batches mixing valid and invalid token events: expects 207 with one error entry per bad event.
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e RATE=20 loadtest/k6/ingest-mixed.js
import http from 'k6/http';
import { check } from 'k6';
import { BASE_URL, RATE, arrivalScenario, headers, invalidTokenEvent, tokenEvent } from './lib/events.js';

const BATCH = parseInt(__ENV.BATCH || '100', 10);
const INVALID_EVERY = parseInt(__ENV.INVALID_EVERY || '10', 10);

export const options = {
  scenarios: arrivalScenario(RATE),
  thresholds: {
    // A 207 is the expected answer here, not a failure.
    http_req_failed: ['rate<0.001'],
    http_req_duration: ['p(99)<200'],
    checks: ['rate>0.999'],
  },
};

http.setResponseCallback(http.expectedStatuses(202, 207));

export default function () {
  const events = [];
  const bad = [];
  for (let i = 0; i < BATCH; i++) {
    if (i % INVALID_EVERY === 0) {
      events.push(invalidTokenEvent(i));
      bad.push(i);
    } else {
      events.push(tokenEvent(i));
    }
  }
  const res = http.post(`${BASE_URL}/v1/token-usage`, JSON.stringify(events), headers());
  check(res, {
    'status is 207': (r) => r.status === 207,
    'valid ones accepted': (r) => r.json('accepted') === BATCH - bad.length,
    'every bad one reported by index': (r) => {
      const idx = new Set((r.json('errors') || []).map((e) => e.index));
      return bad.every((i) => idx.has(i));
    },
  });
}
