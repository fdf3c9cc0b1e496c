// One token event per request (a JSON object), RATE requests per second for DURATION.
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e RATE=500 -e DURATION=2m loadtest/k6/ingest-single.js
// Env: BASE_URL, API_KEY (sent as Bearer), RATE, DURATION, P99_MS (default 50), RUN_ID.
import http from 'k6/http';
import { check } from 'k6';
import { BASE_URL, RATE, answer, arrivalScenario, encode, p99, params, tokenEvent } from './lib/events.js';

export const options = {
  scenarios: arrivalScenario(RATE),
  thresholds: {
    // Anything but a 2xx/3xx counts as failed: at most 0.1 % of the requests.
    http_req_failed: ['rate<0.001'],
    // 99 % of the requests answered (after Kafka acknowledged) within P99_MS.
    http_req_duration: [p99(50)],
    checks: ['rate>0.999'],
    // The open model started every iteration it was asked to: no VU shortage.
    dropped_iterations: ['count<1'],
  },
};

export default function () {
  const res = http.post(`${BASE_URL}/v1/token-usage`, encode(tokenEvent(0)), params('token-usage'));
  const body = answer(res);
  check(res, {
    'status is 202': (r) => r.status === 202,
    'one accepted, none rejected': () => body.accepted === 1 && body.rejected === 0,
  });
}
