// Usage & cost: the usage API as a page. Range, grouping, totals, the idle line, unpriced and
// unmetered shown as such, tenants' budget status, a stacked cost chart, the table as CSV, and the
// FOCUS export of the range's whole hours.
import { get, url, download } from './api.js';
import { h, usd, joules, count, isNum, missing, gpuTime, card, num, when } from './format.js';
import { timeChart } from './chart.js';
import { costPer1m, perToken } from './models.js';

const PRESETS = { '1h': [3600, 300, 'Last hour'], '1d': [86400, 3600, 'Last day'], '7d': [604800, 21600, 'Last 7 days'] };
const GROUPS = { model: 'Model', tenant: 'Tenant', gpu_model: 'GPU model' };
let el, state = { range: '1d', groupBy: 'model', from: null, to: null }, chart, chartKey = '', csvUrl = null;

function readParams(p) {
  const next = {
    range: PRESETS[p.get('range')] || p.get('range') === 'custom' ? p.get('range') : '1d',
    groupBy: GROUPS[p.get('groupBy')] ? p.get('groupBy') : 'model',
    from: p.get('from'), to: p.get('to'),
  };
  if (next.range === 'custom' && !(Date.parse(next.from) < Date.parse(next.to))) next.range = '1d';
  return next;
}

function writeHash(s) {
  location.hash = `#/usage?${new URLSearchParams(hashParams(s))}`;
}

/** The range asked of the API: presets end at the last whole step, custom ranges as given. */
function range() {
  if (state.range === 'custom') {
    const from = Date.parse(state.from), to = Date.parse(state.to);
    const step = Math.max(60, Math.ceil((to - from) / 1000 / 24 / 60) * 60);
    return { from, to, step };
  }
  const [seconds, step] = PRESETS[state.range];
  const to = Math.ceil(Date.now() / 1000 / step) * step * 1000;
  return { from: to - seconds * 1000, to, step };
}

/** GPU cost: never $0 for GPU time without a price. */
function cost(t) {
  const unpriced = t.unpriced_gpu_seconds > 0;
  if (!isNum(t.cost_usd) || (t.cost_usd === 0 && unpriced)) {
    return unpriced ? missing('unpriced', `${gpuTime(t.unpriced_gpu_seconds)} without a price in force`) : missing('—', 'nothing to cost');
  }
  return unpriced ? h('span', {}, usd(t.cost_usd), ' ', missing('+ unpriced', `${gpuTime(t.unpriced_gpu_seconds)} without a price`)) : usd(t.cost_usd);
}

function unmetered(t) {
  return t.unmetered_tokens > 0 ? h('span', { class: 'warn' }, `${count(t.unmetered_tokens)} tokens`) : missing('none');
}

function line(label, t, kind) {
  return h('tr', { class: kind, dataset: { key: label } },
    h('th', { scope: 'row' }, label),
    h('td', { class: 'n' }, count(t.input_tokens)),
    h('td', { class: 'n' }, count(t.output_tokens)),
    h('td', { class: 'n' }, count(t.total_tokens)),
    h('td', { class: 'n' }, count(t.requests)),
    h('td', { class: 'n cost' }, cost(t)),
    h('td', { class: 'n' }, costPer1m(t)),
    h('td', { class: 'n' }, joules(t.energy_j)),
    h('td', { class: 'n' }, perToken(t.joules_per_token, 'J/token')),
    h('td', { class: 'n' }, gpuTime(t.gpu_seconds)),
    h('td', { class: 'n' }, t.unpriced_gpu_seconds > 0 ? gpuTime(t.unpriced_gpu_seconds) : missing('none')),
    h('td', { class: 'n' }, unmetered(t)));
}

const CSV_FIELDS = ['input_tokens', 'output_tokens', 'total_tokens', 'requests', 'cost_usd', 'cost_per_1m_tokens_usd',
  'energy_j', 'joules_per_token', 'gpu_seconds', 'unpriced_gpu_seconds', 'unmetered_tokens'];

function csvCell(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`; // a spreadsheet must not read a name as a formula
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The table as CSV: the API's numbers unformatted, one row per table row. */
export function csv(report) {
  const rows = [['line', report.group_by, 'from', 'to', ...CSV_FIELDS]];
  const add = (kind, key, t) => rows.push([kind, key, report.from, report.to, ...CSV_FIELDS.map((f) => t[f])]);
  report.groups.forEach((g) => add('group', g.key, g));
  if (report.idle) add('idle', '', report.idle);
  add('total', '', report.totals);
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

function render(report) {
  const t = report.totals;
  const cards = [card('Tokens', count(t.total_tokens), `${count(t.input_tokens)} in · ${count(t.output_tokens)} out`),
    card('Requests', count(t.requests))];
  if (isNum(t.fleet_gpu_cost_usd)) {
    cards.push(card('Fleet GPU cost', cost({ ...t, cost_usd: t.fleet_gpu_cost_usd }), `${usd(t.allocated_cost_usd)} allocated · ${usd(t.idle_cost_usd)} idle`));
  } else {
    cards.push(card('GPU cost', cost(t)));
  }
  cards.push(card('Cost per 1M tokens', costPer1m(t)), card('Energy', joules(t.energy_j), perToken(t.joules_per_token, 'J/token')),
    card('Unpriced GPU time', t.unpriced_gpu_seconds > 0 ? gpuTime(t.unpriced_gpu_seconds) : missing('none')),
    card('Unmetered tokens', unmetered(t)));
  el.querySelector('#usage-cards').replaceChildren(...cards);
  const table = el.querySelector('#usage-table');
  table.dataset.from = report.from;
  table.dataset.to = report.to;
  table.dataset.groupBy = report.group_by;
  table.dataset.step = report.step_seconds;
  table.querySelector('thead th').textContent = GROUPS[report.group_by];
  table.querySelector('tbody').replaceChildren(...report.groups.map((g) => line(g.key, g, 'group')));
  if (!report.groups.length) table.querySelector('tbody').append(h('tr', {}, h('td', { colspan: 12 }, 'No usage in this range.')));
  table.querySelector('tfoot').replaceChildren(
    report.idle ? line('Idle (not allocated)', report.idle, 'idle') : null,
    line(report.tenant ? `Total (tenant ${report.tenant})` : 'Total', t, 'total'));
  el.querySelector('#usage-range').textContent = `${when(report.from)} to ${when(report.to)}, steps of ${stepText(report.step_seconds)}`;
  if (csvUrl) URL.revokeObjectURL(csvUrl);
  csvUrl = URL.createObjectURL(new Blob([csv(report)], { type: 'text/csv' }));
  const a = el.querySelector('#usage-csv');
  a.href = csvUrl;
  a.download = `usage-${report.group_by}-${report.from}-${report.to}.csv`.replace(/:/g, '');
  renderBudgets(report);
  renderFocus(report);
  const names = report.groups.map((g) => g.key).concat(report.idle ? ['idle'] : []);
  const lines = report.groups.concat(report.idle ? [report.idle] : []);
  const xs = (lines[0]?.series || []).map((s) => Date.parse(s.start) / 1000);
  const key = names.join('\u0000');
  if (key !== chartKey) {
    chart?.destroy();
    const box = el.querySelector('#usage-chart');
    box.replaceChildren(h('figcaption', {}, 'GPU cost per step, stacked by group (idle on top)'));
    chart = timeChart(box, { series: names, unit: 'USD', fmt: (v) => usd(v), stacked: true });
    chartKey = key;
  }
  chart.update([xs, ...lines.map((l) => l.series.map((s) => (isNum(s.cost_usd) ? s.cost_usd : null)))]);
}

// The shipped budget alerts' thresholds (TelemetryBudgetUsed80 / 100 and the forecast ones).
const BUDGET_STATES = [[1, 'over', '✕ over budget'], [0.8, 'near', '▲ 80 % or more'], [-Infinity, 'ok', '✓ under 80 %']];

/** A ratio of the budget as a percentage (four digits: a small use is not 0 %) with its state in words. */
function budgetRatio(ratio, why) {
  if (!isNum(ratio)) return h('td', { class: 'n' }, missing('—', why));
  const [, state, label] = BUDGET_STATES.find(([at]) => ratio >= at);
  return h('td', { class: 'n', dataset: { state } }, `${num(ratio * 100)} % `, h('span', { class: `badge b-${state}` }, label));
}

function budgetRows(tenant, b) {
  const rows = [];
  const add = (kind, label, limit, used, usedRatio, forecast, forecastRatio) => rows.push(h('tr', { dataset: { tenant, kind } },
    h('th', { scope: 'row' }, tenant), h('td', {}, label), h('td', { class: 'n' }, limit),
    h('td', { class: 'n' }, used), budgetRatio(usedRatio, 'not computed yet'),
    h('td', { class: 'n' }, forecast), budgetRatio(forecastRatio, 'no forecast before a day of the month has passed')));
  const kwh = (v) => (isNum(v) ? `${num(v)} kWh` : missing('—'));
  const money = (v) => (isNum(v) ? usd(v) : missing('—'));
  const c = b.cost;
  add('cost', 'Cost', usd(c.limit_usd), money(c.used_usd), c.used_ratio, money(c.forecast_usd), c.forecast_ratio);
  const e = b.energy;
  if (e) add('energy', 'Energy', kwh(e.limit_kwh), kwh(e.used_kwh), e.used_ratio, kwh(e.forecast_kwh), e.forecast_ratio);
  return rows;
}

/** Budget status: the month's, whatever the range; on tenant lines (or a tenant key's answer). */
function renderBudgets(report) {
  const box = el.querySelector('#usage-budgets');
  const lines = report.budget ? [[report.tenant, report.budget]]
    : report.group_by === 'tenant' ? report.groups.filter((g) => g.budget).map((g) => [g.key, g.budget]) : null;
  const note = box.querySelector('p');
  const table = box.querySelector('table');
  if (!lines) {
    // Built once per grouping, not each refresh: a focused link keeps its focus.
    const href = `#/usage?${new URLSearchParams({ ...hashParams(state), groupBy: 'tenant' })}`;
    if (note.querySelector('a')?.getAttribute('href') !== href) {
      note.replaceChildren('Budget status is per tenant: ', h('a', { href }, 'group by tenant'), ' to see it.');
    }
    table.parentElement.hidden = true;
    return;
  }
  const first = lines[0]?.[1];
  note.textContent = !first ? 'No tenant with a budget (setting budgets.file) has usage in this range.'
    : `Month to date of ${first.month} (calendar month in UTC), whatever the range above; as of ${first.as_of ? when(first.as_of) : 'not computed yet'}. Forecast: the month's use so far carried to its end.`;
  table.parentElement.hidden = !first;
  table.querySelector('tbody').replaceChildren(...lines.flatMap(([tenant, b]) => budgetRows(tenant, b)));
}

/** The FOCUS export of the range rounded outward to whole hours (FOCUS charge periods are hours). */
function renderFocus(report) {
  const HOUR = 3600_000;
  const from = Math.floor(Date.parse(report.from) / HOUR) * HOUR;
  const to = Math.ceil(Date.parse(report.to) / HOUR) * HOUR;
  const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');
  const a = el.querySelector('#usage-focus');
  a.href = url('/api/v1/export/focus', { from: iso(from), to: iso(to) });
  const rounded = from !== Date.parse(report.from) || to !== Date.parse(report.to);
  el.querySelector('#usage-focus-range').textContent = `FOCUS export: whole hours, ${when(iso(from))} to ${when(iso(to))}${rounded ? ' (this range rounded out to the hour)' : ''}.`;
}

const hashParams = (s) => (s.range === 'custom' ? { range: s.range, groupBy: s.groupBy, from: s.from, to: s.to } : { range: s.range, groupBy: s.groupBy });

const stepText = (s) => (s >= 3600 ? `${num(s / 3600)} h` : s >= 60 ? `${num(s / 60)} min` : `${num(s)} s`);
const isoMinute = (ms) => new Date(ms).toISOString().slice(0, 16);

export default {
  title: 'Usage & cost',
  mount(root, params) {
    state = readParams(params);
    const r = range();
    el = h('section', { 'aria-labelledby': 'usage-title' },
      h('h1', { id: 'usage-title' }, 'Usage & cost'),
      h('form', { class: 'controls', id: 'usage-form', onsubmit: (e) => {
        e.preventDefault();
        const f = e.target;
        const next = { ...state, range: f.range.value, groupBy: f.groupBy.value };
        if (next.range === 'custom') {
          next.from = new Date(`${f.from.value}:00Z`).toISOString();
          next.to = new Date(`${f.to.value}:00Z`).toISOString();
        }
        writeHash(next);
      } },
        h('label', { for: 'usage-range-select' }, 'Range'),
        h('select', { id: 'usage-range-select', name: 'range', onchange: (e) => { el.querySelector('#usage-custom').hidden = e.target.value !== 'custom'; } },
          ...Object.entries(PRESETS).map(([k, [, , label]]) => h('option', { value: k, selected: k === state.range }, label)),
          h('option', { value: 'custom', selected: state.range === 'custom' }, 'Custom…')),
        h('span', { id: 'usage-custom', hidden: state.range !== 'custom' },
          h('label', { for: 'usage-from' }, 'From (UTC)'), h('input', { id: 'usage-from', name: 'from', type: 'datetime-local', value: isoMinute(r.from) }),
          h('label', { for: 'usage-to' }, 'To (UTC)'), h('input', { id: 'usage-to', name: 'to', type: 'datetime-local', value: isoMinute(r.to) })),
        h('label', { for: 'usage-group' }, 'Group by'),
        h('select', { id: 'usage-group', name: 'groupBy' }, ...Object.entries(GROUPS).map(([k, label]) => h('option', { value: k, selected: k === state.groupBy }, label))),
        h('button', { type: 'submit' }, 'Show'),
        h('a', { id: 'usage-csv', class: 'button', href: '#', download: 'usage.csv' }, 'Download CSV'),
        h('a', { id: 'usage-focus', class: 'button', href: '#', 'aria-describedby': 'usage-focus-range', onclick: (e) => {
          e.preventDefault();
          const err = el.querySelector('#usage-focus-error');
          err.textContent = '';
          download(e.currentTarget.href, 'focus.csv').catch((x) => { err.textContent = `FOCUS export failed: ${x.message}`; });
        } }, 'Download FOCUS CSV')),
      h('p', { id: 'usage-range', class: 'muted' }),
      h('p', { class: 'muted' }, h('span', { id: 'usage-focus-range' }), ' ', h('span', { id: 'usage-focus-error', class: 'error', role: 'alert' })),
      h('dl', { id: 'usage-cards', class: 'cards' }),
      h('section', { id: 'usage-budgets', 'aria-labelledby': 'usage-budgets-title' },
        h('h2', { id: 'usage-budgets-title' }, 'Budgets'),
        h('p', { class: 'muted' }),
        h('div', { class: 'scroll', hidden: true }, h('table', { id: 'budget-table' },
          h('thead', {}, h('tr', {}, ...['Tenant', 'Kind', 'Monthly budget', 'Used', 'Used %', 'Forecast', 'Forecast %'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody')))),
      h('div', { class: 'scroll' }, h('table', { id: 'usage-table' },
        h('caption', {}, 'Authoritative usage from stored events: GPU cost allocated by tokens; idle GPU time apart; GPU time without a price is reported, never costed at $0.'),
        h('thead', {}, h('tr', {}, ...[GROUPS[state.groupBy], 'Input tokens', 'Output tokens', 'Tokens', 'Requests', 'GPU cost', 'Cost per 1M tokens', 'Energy', 'Energy per token', 'GPU time', 'Unpriced GPU time', 'Unmetered tokens'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody'), h('tfoot'))),
      h('figure', { id: 'usage-chart', class: 'chart' }));
    root.append(el);
  },
  paramsChanged(params) {
    const next = readParams(params);
    if (JSON.stringify(next) === JSON.stringify(state)) return false;
    state = next;
    return true;
  },
  async refresh() {
    const r = range();
    const report = await get('/api/v1/usage', {
      from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString(), groupBy: state.groupBy, step: `${r.step}s`,
    });
    render(report);
  },
  themeChanged() { chartKey = ''; },
  unmount() { chart?.destroy(); chart = null; chartKey = ''; if (csvUrl) URL.revokeObjectURL(csvUrl); csvUrl = null; },
};
