// Pipeline: this process's produced / stored / dead-lettered / rejected rates (from two readings of
// its totals), consumer lag, readiness and its checks, the last dead letters, the sources.
import { get } from './api.js';
import { h, card, int, num, count, ago, missing, isNum } from './format.js';
import { timeChart } from './chart.js';

const RATES = [['produced', 'Produced'], ['stored', 'Stored'], ['dead_lettered', 'Dead-lettered'], ['rejected_at_ingest', 'Rejected at ingest']];
const KEEP = 120;
let el, last = null, hist = [], chart;

function rate(now, before, field, seconds) {
  const a = now.totals[field], b = before?.totals[field];
  return isNum(a) && isNum(b) && seconds > 0 ? Math.max(0, (a - b) / seconds) : null;
}

function table(id, caption, heads, rows, empty) {
  return h('div', { class: 'scroll' }, h('table', { id },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...heads.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...(rows.length ? rows : [h('tr', {}, h('td', { colspan: heads.length }, empty))]))));
}

export default {
  title: 'Pipeline',
  mount(root) {
    last = null;
    hist = [];
    el = h('section', { 'aria-labelledby': 'pipeline-title' },
      h('h1', { id: 'pipeline-title' }, 'Pipeline'),
      h('p', { id: 'pipeline-scope', class: 'muted' }),
      h('dl', { id: 'pipeline-cards', class: 'cards' }),
      h('figure', { id: 'pipeline-chart', class: 'chart' }, h('figcaption', {}, 'Events per second since this page opened')),
      h('div', { id: 'pipeline-tables' }));
    root.append(el);
    chart = timeChart(el.querySelector('#pipeline-chart'), { series: RATES.map(([, l]) => l), unit: 'events/s', fmt: (v) => num(v) });
  },
  async refresh() {
    const p = await get('/api/v1/pipeline');
    const at = Date.parse(p.at);
    const seconds = last ? (at - Date.parse(last.at)) / 1000 : 0;
    const rates = Object.fromEntries(RATES.map(([f]) => [f, rate(p, last, f, seconds)]));
    last = p;
    if (seconds > 0) {
      hist.push([at / 1000, ...RATES.map(([f]) => rates[f])]);
      if (hist.length > KEEP) hist.shift();
      chart.update(Array.from({ length: RATES.length + 1 }, (_, i) => hist.map((r) => r[i])));
    }
    el.querySelector('#pipeline-scope').textContent =
      `Figures of this ${p.role} process: a processor counts only the Kafka partitions it holds; fleet-wide usage is on the Usage & cost page.`;
    const t = p.totals;
    const r = (f, unit) => (t[f] === null || t[f] === undefined ? missing('not in this role', `this ${p.role} process runs no ${f === 'produced' || f === 'rejected_at_ingest' ? 'producer' : 'processor'}`)
      : rates[f] === null ? missing('measuring…', 'a rate needs two readings, 5 s apart') : `${num(rates[f])} ${unit}`);
    el.querySelector('#pipeline-cards').replaceChildren(
      card('Readiness', h('span', { class: `badge ${p.status === 'UP' ? 'active' : 'stale'}` }, p.status === 'UP' ? 'ready' : 'not ready')),
      card('Produced', r('produced', 'events/s'), isNum(t.produced) ? `${count(t.produced)} in total` : null),
      card('Stored', r('stored', 'events/s'), isNum(t.stored) ? `${count(t.stored)} in total, ${count(t.duplicates)} duplicates` : null),
      card('Dead-lettered', r('dead_lettered', 'events/s'), isNum(t.dead_lettered) ? `${count(t.dead_lettered)} in total` : null),
      card('Rejected at ingest', r('rejected_at_ingest', 'events/s'), isNum(t.rejected_at_ingest) ? `${count(t.rejected_at_ingest)} in total` : null),
      card('Consumer lag', isNum(p.consumer_lag) ? `${int(p.consumer_lag)} records` : missing('not in this role')));
    const checks = Object.entries(p.checks || {});
    el.querySelector('#pipeline-tables').replaceChildren(
      h('h2', {}, 'Readiness checks'),
      table('pipeline-checks', 'Kafka, MongoDB and the other checks behind /health/ready', ['Check', 'State'],
        checks.map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v === 'UP' ? h('span', { class: 'badge active' }, 'up') : h('span', { class: 'badge stale' }, v)))),
        'No checks registered.'),
      h('h2', {}, 'Recent dead letters'),
      table('pipeline-dlq', `The last ${p.recent_dead_letters.length} records sent to the dead-letter topic by this process, newest first`,
        ['When', 'Reason', 'Source topic', 'Partition', 'Offset'],
        p.recent_dead_letters.map((d) => h('tr', {}, h('td', {}, h('time', { datetime: d.at, title: d.at }, ago(d.at))), h('td', {}, d.reason), h('td', {}, d.topic), h('td', { class: 'n' }, int(d.partition)), h('td', { class: 'n' }, int(d.offset)))),
        'None: every consumed record was stored.'),
      h('h2', {}, 'Sources'),
      table('pipeline-sources', 'Configured scrape targets and whether their last scrape succeeded', ['Kind', 'Target', 'Interval', 'State', 'Last success'],
        p.sources.map((s) => h('tr', {}, h('td', {}, s.kind), h('td', {}, s.target), h('td', { class: 'n' }, `${num(s.interval_seconds)} s`),
          h('td', {}, h('span', { class: `badge ${s.up ? 'active' : 'stale'}` }, s.up ? 'up' : 'down')), h('td', {}, s.last_success ? ago(s.last_success) : missing('never')))),
        'No scrape targets configured (the simulator and HTTP ingest need none).'));
  },
  unmount() { chart?.destroy(); chart = null; },
};
