// Fleet: the GPU inventory a page at a time, sorted and filtered by the server (GET /api/v1/gpus),
// the visible rows updated in place; MIG instances under their parent; a short history per GPU from
// this page's refreshes; a GPU's series on demand.
import { get } from './api.js';
import { h, card, pct, watts, celsius, mib, ago, int, isNum, missing, count } from './format.js';
import { sparkline, timeChart } from './chart.js';

const PAGE_SIZE = 100;
const HISTORY = 30;
const FORGET_AFTER = 20; // refreshes without showing a GPU before its history is dropped
const COLUMNS = [
  ['status', 'Status'], ['node', 'Node'], ['gpu', 'GPU'], ['gpu_model', 'GPU model'], ['model', 'Serving model'],
  ['util', 'Utilisation'], ['mem', 'Memory used'], ['power', 'Power'], ['temp', 'Temperature'],
  ['xid', 'Last XID'], ['history', 'Utilisation history'], ['seen', 'Last sample'],
];
// The API's sort column of each sortable column of the table.
const SORT = { status: 'status', node: 'node', gpu: 'gpu_uuid', gpu_model: 'gpu_model', model: 'model',
  util: 'utilization_pct', mem: 'memory_used_mib', power: 'power_w', temp: 'temperature_c', xid: 'last_xid', seen: 'last_seen' };

let el, reload, history = new Map(), rows = new Map(), refreshes = 0;
let sort = { key: 'node', dir: 1 }, filter = '', statusFilter = '', page = 0, detail, typing;

/** Each cell of a GPU's row: what it shows as text (to tell whether it changed) and how to build it. */
function cells(g, now) {
  const l = g.last;
  const mig = !!l.mig_parent_uuid;
  const hist = history.get(g.gpu_uuid)?.values || [];
  const label = mig ? `MIG ${l.mig_profile || ''} #${l.mig_instance_id ?? '?'}` : (g.gpu_uuid.length > 14 ? `${g.gpu_uuid.slice(0, 12)}…` : g.gpu_uuid);
  const memory = isNum(l.memory_total_mib) ? `${mib(l.memory_used_mib)} / ${mib(l.memory_total_mib)}` : mib(l.memory_used_mib);
  const xid = isNum(l.last_xid) && l.last_xid > 0;
  const seen = ago(g.last_seen, now);
  return [
    [g.status, () => h('span', { class: `badge ${g.status}` }, g.status)],
    [g.node, () => g.node],
    [g.gpu_uuid + label, () => h('button', { type: 'button', class: 'link', title: g.gpu_uuid, 'aria-label': `${mig ? 'MIG instance' : 'GPU'} ${g.gpu_uuid}: show its series`, onclick: () => openDetail(g) }, label)],
    [g.gpu_model, () => g.gpu_model],
    [g.model || '', () => g.model || missing('none', 'the sample names no served model')],
    [pct(l.utilization_pct), () => pct(l.utilization_pct)],
    [memory, () => memory],
    [watts(l.power_w), () => watts(l.power_w)],
    [celsius(l.temperature_c), () => celsius(l.temperature_c)],
    [xid ? l.last_xid : '', () => (xid ? h('span', { class: 'badge xid' }, `XID ${int(l.last_xid)}`) : missing('none', 'no XID error reported'))],
    [hist.join(','), () => sparkline(hist, { max: 100, label: hist.length > 1 ? `utilisation over the last ${hist.length} refreshes, now ${pct(l.utilization_pct)}` : 'history builds up as the page refreshes' })],
    [g.last_seen + seen, () => h('time', { datetime: g.last_seen, title: g.last_seen }, seen)],
  ];
}

/** A GPU's row, created once and then changed only where a cell's text changed. */
function row(g, now) {
  let r = rows.get(g.gpu_uuid);
  if (!r) {
    const tr = h('tr', { dataset: { uuid: g.gpu_uuid } },
      ...COLUMNS.map(([k]) => h(k === 'gpu' ? 'th' : 'td', k === 'gpu' ? { scope: 'row' } : { class: ['util', 'mem', 'power', 'temp', 'xid', 'seen'].includes(k) ? 'n' : null })));
    r = { tr, shown: [] };
    rows.set(g.gpu_uuid, r);
  }
  r.tr.className = `st-${g.status}${g.last.mig_parent_uuid ? ' mig' : ''}`;
  cells(g, now).forEach(([text, build], i) => {
    if (r.shown[i] !== text) {
      r.tr.children[i].replaceChildren(build());
      r.shown[i] = text;
    }
  });
  return r.tr;
}

function render(answer) {
  const now = Date.now();
  const body = el.querySelector('tbody');
  const shown = new Set();
  answer.gpus.forEach((g, i) => {
    const tr = row(g, now);
    shown.add(g.gpu_uuid);
    if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null);
  });
  for (const [uuid, r] of rows) {
    if (!shown.has(uuid)) { r.tr.remove(); rows.delete(uuid); }
  }
  const total = answer.total;
  const first = answer.gpus.length ? answer.offset + 1 : 0;
  const s = answer.summary;
  el.querySelector('#fleet-range').textContent = `${int(first)}–${int(answer.offset + answer.gpus.length)} of ${int(total)} GPUs shown (${int(s.gpus)} in the fleet)`;
  el.querySelector('#fleet-prev').disabled = page === 0;
  el.querySelector('#fleet-next').disabled = answer.offset + answer.gpus.length >= total;
  el.querySelector('#fleet-cards').replaceChildren(
    card('GPUs', count(s.gpus)), card('Active', count(s.active)), card('Idle', count(s.idle)),
    card('Stale', count(s.stale), s.stale ? 'no recent sample' : null),
    card('Power drawn', watts(s.power_w), 'last samples, GPUs not stale'), card('Mean utilisation', pct(s.mean_utilization_pct), 'GPUs not stale'));
  for (const th of el.querySelectorAll('thead th[data-key]')) {
    th.setAttribute('aria-sort', th.dataset.key === sort.key ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none');
  }
}

async function openDetail(g) {
  const dlg = el.querySelector('#gpu-detail');
  dlg.querySelector('h2').textContent = `${g.gpu_model} ${g.gpu_uuid} on ${g.node}`;
  const box = dlg.querySelector('.chart');
  box.replaceChildren();
  dlg.showModal();
  detail?.destroy();
  const d = await get(`/api/v1/gpus/${encodeURIComponent(g.gpu_uuid)}`, { window: '15m' });
  const xs = d.series.map((s) => Date.parse(s.ts) / 1000);
  detail = timeChart(box, { series: ['Utilisation (%)', 'Power (W)'], unit: '% and W', fmt: (v) => int(v) });
  detail.update([xs, d.series.map((s) => s.utilization_pct ?? null), d.series.map((s) => s.power_w ?? null)]);
  dlg.querySelector('p').textContent = `${int(d.series.length)} samples over the last 15 minutes.`;
}

export default {
  title: 'Fleet',
  mount(root, params, refreshNow) {
    reload = refreshNow;
    el = h('section', { 'aria-labelledby': 'fleet-title' },
      h('h1', { id: 'fleet-title' }, 'Fleet'),
      h('dl', { id: 'fleet-cards', class: 'cards' }),
      h('div', { class: 'controls' },
        h('label', { for: 'fleet-filter' }, 'Filter'),
        h('input', { id: 'fleet-filter', type: 'search', placeholder: 'node, GPU, model…', value: filter,
          oninput: (e) => {
            filter = e.target.value; page = 0;
            clearTimeout(typing);
            typing = setTimeout(reload, 300); // one request when the typing pauses
          } }),
        h('label', { for: 'fleet-status' }, 'Status'),
        h('select', { id: 'fleet-status', onchange: (e) => { statusFilter = e.target.value; page = 0; reload(); } },
          ...['', 'active', 'idle', 'stale'].map((s) => h('option', { value: s, selected: s === statusFilter }, s || 'any'))),
        h('button', { id: 'fleet-prev', type: 'button', onclick: () => { page--; reload(); } }, 'Previous page'),
        h('button', { id: 'fleet-next', type: 'button', onclick: () => { page++; reload(); } }, 'Next page'),
        h('span', { id: 'fleet-range', 'aria-live': 'polite' })),
      h('div', { class: 'scroll' },
        h('table', { id: 'fleet-table' },
          h('caption', {}, `GPUs by their last sample, ${PAGE_SIZE} a page; MIG instances are listed under their GPU. Select a column heading to sort.`),
          h('thead', {}, h('tr', {}, ...COLUMNS.map(([k, label]) => SORT[k]
            ? h('th', { scope: 'col', dataset: { key: k } }, h('button', { type: 'button', class: 'sort', onclick: () => {
              sort = { key: k, dir: sort.key === k ? -sort.dir : 1 }; page = 0; reload();
            } }, label))
            : h('th', { scope: 'col' }, label)))),
          h('tbody'))),
      h('dialog', { id: 'gpu-detail', 'aria-labelledby': 'gpu-detail-title' },
        h('h2', { id: 'gpu-detail-title' }), h('div', { class: 'chart' }), h('p'),
        h('form', { method: 'dialog' }, h('button', { type: 'submit' }, 'Close'))));
    root.append(el);
  },
  async refresh() {
    const ask = () => get('/api/v1/gpus', { limit: PAGE_SIZE, offset: page * PAGE_SIZE,
      sort: `${sort.dir < 0 ? '-' : ''}${SORT[sort.key]}`, q: filter || null, status: statusFilter || null });
    let answer = await ask();
    if (!answer.gpus.length && answer.total > 0) { // the filters left fewer pages: show the last one
      page = Math.ceil(answer.total / PAGE_SIZE) - 1;
      answer = await ask();
    }
    refreshes++;
    for (const g of answer.gpus) {
      const hist = history.get(g.gpu_uuid) || { values: [] };
      if (isNum(g.last.utilization_pct)) hist.values.push(g.last.utilization_pct);
      if (hist.values.length > HISTORY) hist.values.shift();
      hist.at = refreshes;
      history.set(g.gpu_uuid, hist);
    }
    for (const [k, v] of history) if (refreshes - v.at > FORGET_AFTER) history.delete(k);
    const t0 = performance.now();
    render(answer);
    performance.measure('fleet-render', { start: t0 }); // for the benchmark
  },
  unmount() { detail?.destroy(); detail = null; rows = new Map(); clearTimeout(typing); },
};
