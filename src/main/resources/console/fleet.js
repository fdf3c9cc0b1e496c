// Fleet: every GPU with its last state, sortable and filterable, 100 rows a page; MIG instances
// under their parent; a short history per GPU from this page's refreshes; a GPU's series on demand.
import { allGpus, get } from './api.js';
import { h, card, pct, watts, celsius, mib, ago, int, isNum, missing, count } from './format.js';
import { sparkline, timeChart } from './chart.js';

const PAGE_SIZE = 100;
const HISTORY = 30;
const COLUMNS = [
  ['status', 'Status'], ['node', 'Node'], ['gpu', 'GPU'], ['gpu_model', 'GPU model'], ['model', 'Serving model'],
  ['util', 'Utilisation'], ['mem', 'Memory used'], ['power', 'Power'], ['temp', 'Temperature'],
  ['xid', 'Last XID'], ['history', 'Utilisation history'], ['seen', 'Last sample'],
];
const SORTABLE = { status: (g) => g.status, node: (g) => g.node, gpu: (g) => g.gpu_uuid, gpu_model: (g) => g.gpu_model,
  model: (g) => g.model || '', util: (g) => g.last.utilization_pct, mem: (g) => g.last.memory_used_mib,
  power: (g) => g.last.power_w, temp: (g) => g.last.temperature_c, xid: (g) => g.last.last_xid ?? -1, seen: (g) => g.last_seen };

let el, gpus = [], history = new Map(), sort = { key: 'node', dir: 1 }, filter = '', statusFilter = '', page = 0, detail;

function sortedRows() {
  const f = filter.toLowerCase();
  const keep = (g) => (!statusFilter || g.status === statusFilter)
    && (!f || [g.node, g.gpu_uuid, g.gpu_model, g.model].some((v) => v && v.toLowerCase().includes(f)));
  const key = SORTABLE[sort.key] || SORTABLE.node;
  const cmp = (a, b) => {
    const x = key(a), y = key(b);
    return (x < y ? -1 : x > y ? 1 : a.gpu_uuid < b.gpu_uuid ? -1 : 1) * sort.dir;
  };
  // MIG instances follow their parent; their order among themselves is the instance id.
  const parents = gpus.filter((g) => !g.last.mig_parent_uuid).filter(keep).sort(cmp);
  const children = new Map();
  for (const g of gpus) {
    const p = g.last.mig_parent_uuid;
    if (p && keep(g)) children.set(p, [...(children.get(p) || []), g]);
  }
  const out = [];
  for (const g of parents) {
    out.push(g);
    for (const c of (children.get(g.gpu_uuid) || []).sort((a, b) => (a.last.mig_instance_id ?? 0) - (b.last.mig_instance_id ?? 0))) out.push(c);
    children.delete(g.gpu_uuid);
  }
  for (const orphans of children.values()) out.push(...orphans); // parent not reported (yet)
  return out;
}

function row(g, now) {
  const l = g.last;
  const mig = !!l.mig_parent_uuid;
  const hist = history.get(g.gpu_uuid) || [];
  const label = mig ? `MIG ${l.mig_profile || ''} #${l.mig_instance_id ?? '?'}` : (g.gpu_uuid.length > 14 ? `${g.gpu_uuid.slice(0, 12)}…` : g.gpu_uuid);
  return h('tr', { class: `st-${g.status}${mig ? ' mig' : ''}`, dataset: { uuid: g.gpu_uuid } },
    h('td', {}, h('span', { class: `badge ${g.status}` }, g.status)),
    h('td', {}, g.node),
    h('th', { scope: 'row' }, h('button', { type: 'button', class: 'link', title: g.gpu_uuid, 'aria-label': `${mig ? 'MIG instance' : 'GPU'} ${g.gpu_uuid}: show its series`, onclick: () => openDetail(g) }, label)),
    h('td', {}, g.gpu_model),
    h('td', {}, g.model || missing('none', 'the sample names no served model')),
    h('td', { class: 'n' }, pct(l.utilization_pct)),
    h('td', { class: 'n' }, isNum(l.memory_total_mib) ? `${mib(l.memory_used_mib)} / ${mib(l.memory_total_mib)}` : mib(l.memory_used_mib)),
    h('td', { class: 'n' }, watts(l.power_w)),
    h('td', { class: 'n' }, celsius(l.temperature_c)),
    h('td', { class: 'n' }, isNum(l.last_xid) && l.last_xid > 0 ? h('span', { class: 'badge xid' }, `XID ${int(l.last_xid)}`) : missing('none', 'no XID error reported')),
    h('td', {}, sparkline(hist, { max: 100, label: hist.length > 1 ? `utilisation over the last ${hist.length} refreshes, now ${pct(l.utilization_pct)}` : 'history builds up as the page refreshes' })),
    h('td', { class: 'n' }, h('time', { datetime: g.last_seen, title: g.last_seen }, ago(g.last_seen, now))));
}

function render() {
  const rows = sortedRows();
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  page = Math.min(page, pages - 1);
  const now = Date.now();
  const body = el.querySelector('tbody');
  body.replaceChildren(...rows.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE).map((g) => row(g, now)));
  const first = rows.length ? page * PAGE_SIZE + 1 : 0;
  el.querySelector('#fleet-range').textContent = `${int(first)}–${int(Math.min(rows.length, (page + 1) * PAGE_SIZE))} of ${int(rows.length)} GPUs shown (${int(gpus.length)} in the fleet)`;
  el.querySelector('#fleet-prev').disabled = page === 0;
  el.querySelector('#fleet-next').disabled = page >= pages - 1;
  const by = (s) => gpus.filter((g) => g.status === s).length;
  const power = gpus.reduce((a, g) => a + (isNum(g.last.power_w) ? g.last.power_w : 0), 0);
  const live = gpus.filter((g) => g.status !== 'stale' && isNum(g.last.utilization_pct));
  const util = live.length ? live.reduce((a, g) => a + g.last.utilization_pct, 0) / live.length : null;
  el.querySelector('#fleet-cards').replaceChildren(
    card('GPUs', count(gpus.length)), card('Active', count(by('active'))), card('Idle', count(by('idle'))),
    card('Stale', count(by('stale')), by('stale') ? 'no recent sample' : null),
    card('Power drawn', watts(power), 'sum of last samples'), card('Mean utilisation', pct(util), 'live GPUs'));
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
  mount(root) {
    el = h('section', { 'aria-labelledby': 'fleet-title' },
      h('h1', { id: 'fleet-title' }, 'Fleet'),
      h('dl', { id: 'fleet-cards', class: 'cards' }),
      h('div', { class: 'controls' },
        h('label', { for: 'fleet-filter' }, 'Filter'),
        h('input', { id: 'fleet-filter', type: 'search', placeholder: 'node, GPU, model…', value: filter,
          oninput: (e) => { filter = e.target.value; page = 0; render(); } }),
        h('label', { for: 'fleet-status' }, 'Status'),
        h('select', { id: 'fleet-status', onchange: (e) => { statusFilter = e.target.value; page = 0; render(); } },
          ...['', 'active', 'idle', 'stale'].map((s) => h('option', { value: s, selected: s === statusFilter }, s || 'any'))),
        h('button', { id: 'fleet-prev', type: 'button', onclick: () => { page--; render(); } }, 'Previous page'),
        h('button', { id: 'fleet-next', type: 'button', onclick: () => { page++; render(); } }, 'Next page'),
        h('span', { id: 'fleet-range', 'aria-live': 'polite' })),
      h('div', { class: 'scroll' },
        h('table', { id: 'fleet-table' },
          h('caption', {}, 'GPUs by their last sample; MIG instances are listed under their GPU. Select a column heading to sort.'),
          h('thead', {}, h('tr', {}, ...COLUMNS.map(([k, label]) => SORTABLE[k]
            ? h('th', { scope: 'col', dataset: { key: k } }, h('button', { type: 'button', class: 'sort', onclick: () => {
              sort = { key: k, dir: sort.key === k ? -sort.dir : 1 }; render();
            } }, label))
            : h('th', { scope: 'col' }, label)))),
          h('tbody'))),
      h('dialog', { id: 'gpu-detail', 'aria-labelledby': 'gpu-detail-title' },
        h('h2', { id: 'gpu-detail-title' }), h('div', { class: 'chart' }), h('p'),
        h('form', { method: 'dialog' }, h('button', { type: 'submit' }, 'Close'))));
    root.append(el);
  },
  async refresh() {
    gpus = await allGpus();
    const seen = new Set();
    for (const g of gpus) {
      seen.add(g.gpu_uuid);
      const hist = history.get(g.gpu_uuid) || [];
      if (isNum(g.last.utilization_pct)) hist.push(g.last.utilization_pct);
      if (hist.length > HISTORY) hist.shift();
      history.set(g.gpu_uuid, hist);
    }
    for (const k of history.keys()) if (!seen.has(k)) history.delete(k);
    const t0 = performance.now();
    render();
    performance.measure('fleet-render', { start: t0 }); // for the benchmark
  },
  unmount() { detail?.destroy(); detail = null; },
};
