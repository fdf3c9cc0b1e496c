// Batches of BATCH (default 100) token events of which every INVALID_EVERY-th (default 10) has one
// deliberate mistake, RATE requests per second for DURATION. Expects 207 Multi-Status: the valid
// events accepted, and for every bad one an error entry with its index and the expected code
// (out_of_range, wrong_type, bad_format, unknown_field, conflict, too_old), none for the others.
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e RATE=20 loadtest/k6/ingest-mixed.js
// Env: BASE_URL, API_KEY (sent as Bearer), RATE, DURATION, BATCH, INVALID_EVERY, FORMAT (json | ndjson),
//      P99_MS (default 200), RUN_ID.
import http from 'k6/http';
import { check } from 'k6';
import {
  BASE_URL, BATCH, RATE, answer, arrivalScenario, encode, invalidTokenEvent, p99, params, tokenEvent,
} from './lib/events.js';

const INVALID_EVERY = Math.max(2, parseInt(__ENV.INVALID_EVERY || '10', 10));
const NDJSON = (__ENV.FORMAT || 'json').toLowerCase() === 'ndjson';

// 207 is the expected answer here: only other statuses count in http_req_failed.
http.setResponseCallback(http.expectedStatuses(207));

export const options = {
  scenarios: arrivalScenario(RATE),
  thresholds: {
    http_req_failed: ['rate<0.001'],
    http_req_duration: [p99(200)],
    checks: ['rate>0.999'],
    dropped_iterations: ['count<1'],
  },
};

export default function () {
  const events = [];
  const expected = {}; // index -> rejection code
  for (let i = 0; i < BATCH; i++) {
    if (i % INVALID_EVERY === 0) {
      const bad = invalidTokenEvent(i, i / INVALID_EVERY);
      events.push(bad.event);
      expected[i] = bad.code;
    } else {
      events.push(tokenEvent(i));
    }
  }
  const badCount = Object.keys(expected).length;
  const res = http.post(`${BASE_URL}/v1/token-usage`, encode(events, NDJSON), params('token-usage', NDJSON));
  const body = answer(res);
  const errors = Array.isArray(body.errors) ? body.errors : [];
  check(res, {
    'status is 207': (r) => r.status === 207,
    'valid ones accepted': () => body.accepted === BATCH - badCount && body.rejected === badCount,
    'every bad one reported by index and code': () =>
      Object.keys(expected).every((i) => errors.some((e) => e.index === Number(i) && e.code === expected[i])),
    'no error for a valid one': () => errors.every((e) => expected[e.index] !== undefined),
  });
}
