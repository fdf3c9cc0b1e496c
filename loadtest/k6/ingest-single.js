// One token event per request at a constant arrival rate.
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e RATE=500 -e DURATION=2m loadtest/k6/ingest-single.js
import http from 'k6/http';
import { check } from 'k6';
import { BASE_URL, RATE, arrivalScenario, headers, tokenEvent } from './lib/events.js';

export const options = {
  scenarios: arrivalScenario(RATE),
  thresholds: {
    http_req_failed: ['rate<0.001'],
    http_req_duration: ['p(99)<50'],
    checks: ['rate>0.999'],
  },
};

export default function () {
  const res = http.post(`${BASE_URL}/v1/token-usage`, JSON.stringify(tokenEvent(0)), headers());
  check(res, {
    'status is 202': (r) => r.status === 202,
    'one accepted': (r) => r.status === 202 && r.json('accepted') === 1,
  });
}
