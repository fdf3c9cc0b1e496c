// Models: fleet-wide figures per served model from the store (the usage and latency APIs over a
// window), not one processor's live rates (those cover its own partitions only).
import { get } from './api.js';
import { h, num, usd, int, isNum, missing, count, gpuTime, millis } from './format.js';
import { timeChart } from './chart.js';

const WINDOWS = { '15m': [900, '30s'], '1h': [3600, '1m'], '6h': [21600, '5m'], '24h': [86400, '15m'] };
let el, windowKey = '1h', charts = [];

/** Cost per 1M tokens as the API states it; never $0 for what has no price or no tokens. */
export function costPer1m(g) {
  if (isNum(g.cost_per_1m_tokens_usd)) {
    return g.unpriced_gpu_seconds > 0
      ? h('span', {}, usd(g.cost_per_1m_tokens_usd), ' ', missing('+ unpriced', `${gpuTime(g.unpriced_gpu_seconds)} without a price`))
      : usd(g.cost_per_1m_tokens_usd);
  }
  if (g.unpriced_gpu_seconds > 0) return missing('unpriced', `${gpuTime(g.unpriced_gpu_seconds)} without a price in force`);
  return missing('no tokens', 'no tokens in this window');
}

export function perToken(v, unitless) {
  return isNum(v) ? `${num(v)} ${unitless}` : missing('—', 'no tokens in this window');
}

/** A latency's median and 99th percentile, with how many requests carried it; '—' without any. */
export function latencyCell(l, what) {
  if (!l) return missing('—', `no stored request of this model carries its ${what} in this window`);
  return h('span', {}, h('span', { class: 'v' }, `${millis(l.p50)} / ${millis(l.p99)}`),
    h('small', {}, `${count(l.requests)} requests · mean ${millis(l.mean)}`));
}

let chartKey = '';

function chartsFor(report) {
  const box = el.querySelector('#model-charts');
  const names = report.groups.map((g) => g.key);
  const step = report.step_seconds;
  const xs = (report.groups[0]?.series || []).map((s) => Date.parse(s.start) / 1000);
  const specs = [
    ['Tokens per second, by model', 'tokens/s', (v) => num(v), (s) => s.total_tokens / step],
    ['GPU cost per hour, by model', 'USD/h', (v) => usd(v), (s) => (s.cost_usd === null ? null : s.cost_usd * 3600 / step)],
  ];
  const key = names.join('\u0000');
  if (key !== chartKey || charts.length !== specs.length) {
    charts.forEach((c) => c.destroy());
    box.replaceChildren();
    charts = specs.map(([title, unit, fmt]) => {
      const fig = h('figure', { class: 'chart' }, h('figcaption', {}, title));
      box.append(fig);
      return timeChart(fig, { series: names, unit, fmt });
    });
    chartKey = key;
  }
  specs.forEach(([, , , pick], i) => charts[i].update([xs, ...report.groups.map((g) => g.series.map(pick))]));
}

export default {
  title: 'Models',
  mount(root, params) {
    if (WINDOWS[params.get('window')]) windowKey = params.get('window');
    el = h('section', { 'aria-labelledby': 'models-title' },
      h('h1', { id: 'models-title' }, 'Models'),
      h('div', { class: 'controls' },
        h('label', { for: 'models-window' }, 'Window'),
        h('select', { id: 'models-window', onchange: (e) => { location.hash = `#/models?window=${e.target.value}`; } },
          ...Object.keys(WINDOWS).map((w) => h('option', { value: w, selected: w === windowKey }, `last ${w.replace('m', ' min').replace('h', ' h')}`))),
        h('span', { id: 'models-range', class: 'muted' })),
      h('div', { class: 'scroll' }, h('table', { id: 'models-table' },
        h('caption', {}, 'Per served model over the window, from stored events: the whole fleet, every processor.'),
        h('thead', {}, h('tr', {}, ...['Model', 'Tokens', 'Requests', 'Cost per 1M tokens', 'Energy per token', 'GPU time', 'GPUs serving',
          'Latency p50 / p99', [h('abbr', { title: 'time to first token' }, 'TTFT'), ' p50 / p99']].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody'))),
      h('p', { class: 'muted', id: 'models-latency-note' }, 'Latency and time to first token: of the stored requests over the window that carry them ',
        '(the simulator, LiteLLM, OTLP spans, HTTP ingest), every processor\'s: the whole fleet; quantiles within 1 %. ',
        'The latency histograms of vLLM and NIM servers are not stored: each producer shows its own window of them on /metrics ',
        '(telemetry_model_latency_seconds), not here. “—”: no request of the model carried the figure.'),
      h('div', { id: 'model-charts', class: 'charts' }));
    root.append(el);
  },
  paramsChanged(params) {
    const w = WINDOWS[params.get('window')] ? params.get('window') : '1h';
    if (w === windowKey) return false;
    windowKey = w;
    return true;
  },
  async refresh() {
    const [seconds, step] = WINDOWS[windowKey];
    // The window ends now (to the second): its rates are over exactly the window's length.
    const to = Math.floor(Date.now() / 1000) * 1000;
    const from = to - seconds * 1000;
    const range = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
    const [report, fleet, latency] = await Promise.all([
      get('/api/v1/usage', { ...range, groupBy: 'model', step }),
      get('/api/v1/gpus', { limit: 1 }), // its summary counts the GPUs serving each model
      get('/api/v1/latency', range),
    ]);
    const serving = fleet.summary.serving;
    const latencies = new Map(latency.models.map((m) => [m.model, m]));
    const table = el.querySelector('#models-table');
    table.dataset.from = report.from;
    table.dataset.to = report.to;
    table.dataset.step = report.step_seconds;
    el.querySelector('#models-range').textContent = `${new Date(report.from).toLocaleString()} to ${new Date(report.to).toLocaleTimeString()}`;
    table.querySelector('tbody').replaceChildren(...report.groups.map((g) => h('tr', { dataset: { model: g.key } },
      h('th', { scope: 'row' }, g.key),
      h('td', { class: 'n' }, `${num(g.total_tokens / seconds)} tokens/s`, h('small', {}, `${count(g.total_tokens)} tokens`)),
      h('td', { class: 'n' }, `${num(g.requests / seconds)} req/s`, h('small', {}, `${count(g.requests)} requests`)),
      h('td', { class: 'n cost' }, costPer1m(g)),
      h('td', { class: 'n' }, perToken(g.joules_per_token, 'J/token')),
      h('td', { class: 'n' }, gpuTime(g.gpu_seconds)),
      h('td', { class: 'n' }, int(serving[g.key] || 0)),
      h('td', { class: 'n latency' }, latencyCell(latencies.get(g.key)?.latency_ms, 'latency')),
      h('td', { class: 'n ttft' }, latencyCell(latencies.get(g.key)?.ttft_ms, 'time to first token')))));
    if (!report.groups.length) {
      table.querySelector('tbody').append(h('tr', {}, h('td', { colspan: 9 }, 'No token usage in this window yet.')));
    }
    chartsFor(report);
  },
  themeChanged() { chartKey = ''; },
  unmount() { charts.forEach((c) => c.destroy()); charts = []; chartKey = ''; },
};
