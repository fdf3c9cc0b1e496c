// Numbers for people, with their units; missing values say why instead of showing 0.
const LOCALE = undefined; // the browser's
const nf = (opts) => new Intl.NumberFormat(LOCALE, opts);
const INT = nf({ maximumFractionDigits: 0 });
const ONE = nf({ maximumFractionDigits: 1 });
const SIG = nf({ maximumSignificantDigits: 4 });
const USD2 = nf({ style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const USD4 = nf({ style: 'currency', currency: 'USD', maximumSignificantDigits: 4 });

/** An element with attributes and children (strings become text: nothing is parsed as HTML). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** A value that is not there, with the reason as its accessible description. */
export function missing(text, why) {
  return h('span', { class: 'na', title: why || null }, text);
}

export const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

export function int(v) {
  return isNum(v) ? INT.format(v) : '—';
}

export function num(v) {
  return isNum(v) ? SIG.format(v) : '—';
}

/** 1,234 / 12.3 k / 4.56 M: counts too large to read digit by digit. */
export function count(v) {
  if (!isNum(v)) return '—';
  const a = Math.abs(v);
  if (a < 10_000) return INT.format(v);
  for (const [d, s] of [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']]) {
    if (a >= d) return `${SIG.format(v / d)} ${s}`;
  }
  return INT.format(v);
}

/** US dollars: cents from $1 up, four significant digits below. */
export function usd(v) {
  if (!isNum(v)) return '—';
  return Math.abs(v) >= 1 || v === 0 ? USD2.format(v) : USD4.format(v);
}

export function pct(v) {
  return isNum(v) ? `${ONE.format(v)} %` : '—';
}

export function watts(v) {
  if (!isNum(v)) return '—';
  return Math.abs(v) >= 10_000 ? `${SIG.format(v / 1000)} kW` : `${INT.format(v)} W`;
}

export function celsius(v) {
  return isNum(v) ? `${INT.format(v)} °C` : '—';
}

export function mib(v) {
  return isNum(v) ? `${ONE.format(v / 1024)} GiB` : '—';
}

/** Joules as J, kJ, MJ; large amounts also in kWh. */
export function joules(v) {
  if (!isNum(v)) return '—';
  const a = Math.abs(v);
  if (a >= 3.6e6) return `${SIG.format(v / 3.6e6)} kWh`;
  if (a >= 1e3) return `${SIG.format(v / 1e3)} kJ`;
  return `${SIG.format(v)} J`;
}

/** GPU time: seconds, minutes or hours of one GPU. */
export function gpuTime(seconds) {
  if (!isNum(seconds)) return '—';
  if (seconds >= 3600) return `${SIG.format(seconds / 3600)} GPU·h`;
  if (seconds >= 60) return `${SIG.format(seconds / 60)} GPU·min`;
  return `${SIG.format(seconds)} GPU·s`;
}

/** A duration given in milliseconds: ms below a second, else seconds; four significant digits. */
export function millis(v) {
  if (!isNum(v)) return '—';
  return Math.abs(v) >= 1000 ? `${SIG.format(v / 1000)} s` : `${SIG.format(v)} ms`;
}

export function perSecond(v, unit) {
  return isNum(v) ? `${SIG.format(v)} ${unit}/s` : '—';
}

/** How long ago an instant was, in words a person reads at a glance. */
export function ago(iso, now = Date.now()) {
  if (!iso) return '—';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

const WHEN = new Intl.DateTimeFormat(LOCALE, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
});

export function when(iso) {
  return iso ? WHEN.format(new Date(iso)) : '—';
}

/** A card of a headline figure: its label, its value, and an optional note below. */
export function card(label, value, note) {
  return h('div', { class: 'card' },
    h('dt', {}, label),
    h('dd', {}, value, note ? h('small', {}, note) : null));
}
