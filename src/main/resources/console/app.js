// The console's shell: who the key is, which pages it may see, the hash router, the refresh loop.
import { get, storedKey, storeKey, ApiError } from './api.js';
import fleet from './fleet.js';
import models from './models.js';
import usage from './usage.js';
import pipeline from './pipeline.js';

const PAGES = { fleet, models, usage, pipeline };
const REFRESH_MS = 5000;
const $ = (id) => document.getElementById(id);

let allowed = [];
let current = null; // { name, page }
let timer = null;
let busy = false;
let again = false; // a refresh was asked for while one ran: run one more when it ends

// Light and dark: the system's preference unless the person chose; the choice is remembered.
function applyTheme(theme) {
  const dark = theme ? theme === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  $('theme').setAttribute('aria-pressed', String(dark));
  $('theme').textContent = dark ? 'Light theme' : 'Dark theme';
}

$('theme').addEventListener('click', () => {
  const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem('gpu-telemetry.theme', next);
  applyTheme(next);
  current?.page.themeChanged?.();
  refresh();
});
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => applyTheme(localStorage.getItem('gpu-telemetry.theme')));
applyTheme(localStorage.getItem('gpu-telemetry.theme'));

export function status(text, isError = false) {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('error', isError);
}

function parseHash() {
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  return { name: path || '', params: new URLSearchParams(query || '') };
}

async function whoami() {
  const me = await get('/api/v1/me');
  const read = me.scopes.includes('read');
  allowed = !read ? [] : me.tenant ? ['usage'] : Object.keys(PAGES);
  $('who').textContent = me.identified
    ? `Key ${me.key_id}${me.tenant ? ` · tenant ${me.tenant}` : ''} · ${me.scopes.join(', ')}`
    : '';
  $('signout').hidden = !storedKey();
  for (const a of document.querySelectorAll('#nav a')) {
    a.parentElement.hidden = !allowed.includes(a.dataset.page);
  }
  return me;
}

function showLogin(message) {
  stop();
  $('page').replaceChildren();
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  status('');
  $('key').focus();
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  storeKey($('key').value.trim());
  $('key').value = '';
  await start();
});

$('signout').addEventListener('click', async () => {
  storeKey(null);
  await start();
});

function stop() {
  if (timer) clearInterval(timer);
  timer = null;
  current?.page.unmount?.();
  current = null;
}

async function refresh() {
  if (busy) { again = true; return; }
  if (!current || document.hidden) return;
  busy = true;
  const page = current;
  try {
    await page.page.refresh();
    if (page === current) {
      // The first render of a page, for the benchmark's time-to-interactive.
      if (!$('main').dataset.ready) performance.mark(`console-ready:${page.name}`);
      status(`Updated ${new Date().toLocaleTimeString()} · refreshes every ${REFRESH_MS / 1000} s`);
      $('main').dataset.ready = page.name;
    }
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      storeKey(null);
      showLogin('That key is not valid (any more).');
    } else {
      status(`Could not update: ${e.message}`, true);
    }
  } finally {
    busy = false;
  }
  if (again) {
    again = false;
    await refresh();
  }
}

async function route() {
  const { name, params } = parseHash();
  if (!allowed.length) return;
  if (!allowed.includes(name)) {
    location.replace(`#/${allowed[0]}`);
    return;
  }
  if (current && current.name === name) {
    if (current.page.paramsChanged?.(params)) await refresh();
    return;
  }
  stop();
  delete $('main').dataset.ready;
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const page = PAGES[name];
  const root = $('page');
  root.replaceChildren();
  page.mount(root, params, refresh); // a page's own controls (sort, filter, paging) refresh now
  document.title = `${page.title} · gpu-telemetry`;
  current = { name, page };
  status('Loading…');
  await refresh();
  timer = setInterval(refresh, REFRESH_MS);
}

async function start() {
  stop();
  let me;
  try {
    me = await whoami();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      storeKey(null);
      await whoami().catch(() => null);
      showLogin('That key is not valid.');
    } else {
      status(`The API does not answer: ${e.message}`, true);
    }
    return;
  }
  if (!allowed.length) {
    showLogin(storedKey() ? 'This key has no read scope.' : '');
    return;
  }
  $('login').hidden = true;
  await route();
}

addEventListener('hashchange', route);
document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
start();
