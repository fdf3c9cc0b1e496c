// The console's one way to the JSON API: the key from session storage as a bearer token.
const KEY = 'gpu-telemetry.key';

export function storedKey() {
  return sessionStorage.getItem(KEY);
}

export function storeKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** A route's URL; params with null or undefined values are left out. */
export function url(path, params = {}) {
  const u = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined) u.searchParams.set(k, v);
  }
  return u;
}

async function fetchWithKey(u, accept) {
  const headers = { Accept: accept };
  const key = storedKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  const r = await fetch(u, { headers, cache: 'no-store' });
  if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => null));
  return r;
}

/** GET a JSON route. */
export async function get(path, params = {}) {
  return (await fetchWithKey(url(path, params), 'application/json')).json();
}

/**
 * Saves a route's answer as a file: fetched with the key (a plain link cannot send it), named as
 * the answer's Content-Disposition says.
 */
export async function download(href, fallbackName) {
  const r = await fetchWithKey(href, 'text/csv');
  const name = /filename="([^"]+)"/.exec(r.headers.get('Content-Disposition') || '')?.[1] || fallbackName;
  const blob = URL.createObjectURL(await r.blob());
  const a = Object.assign(document.createElement('a'), { href: blob, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(blob), 60_000);
}
