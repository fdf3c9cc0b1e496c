// Time-series charts with uPlot (served from the jar), sized to their container, themed by CSS.
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];

export const color = (i) => PALETTE[i % PALETTE.length];

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/**
 * A line (or stacked area) chart in `box`: x in seconds since the epoch, one array per series.
 * `unit` labels the y axis; `fmt` formats a y value for the legend. Returns {update(data), destroy()}.
 */
export function timeChart(box, { series, unit, fmt, stacked = false, height = 220 }) {
  const axis = { stroke: cssVar('--fg-muted'), grid: { stroke: cssVar('--grid') }, ticks: { stroke: cssVar('--grid') } };
  const opts = {
    width: Math.max(240, box.clientWidth),
    height,
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true } },
    axes: [axis, { ...axis, label: unit, size: 70, values: (u, vals) => vals.map((v) => fmt(v)) }],
    series: [{}].concat(series.map((s, i) => ({
      label: s,
      stroke: color(i),
      width: 1.5,
      fill: stacked ? color(i) + '55' : undefined,
      value: (u, v) => (v === null || v === undefined ? '—' : fmt(v)),
    }))),
  };
  const stack = (data) => {
    if (!stacked) return data;
    const out = [data[0]];
    let acc = data[0].map(() => 0);
    for (let i = 1; i < data.length; i++) {
      acc = acc.map((a, j) => a + (data[i][j] || 0));
      out.push(acc.slice());
    }
    return out;
  };
  // Stacked: the series are cumulative; draw the top first so that each fill shows its own band.
  const plot = new window.uPlot(opts, stack([[]].concat(series.map(() => []))), box);
  const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(240, box.clientWidth), height }));
  resize.observe(box);
  return {
    update(data) { plot.setData(stack(data)); },
    destroy() { resize.disconnect(); plot.destroy(); },
  };
}

/** A tiny inline SVG line of recent values (no axes): for a table cell. */
export function sparkline(values, { max = 100, label }) {
  const w = 80, hgt = 20;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${hgt}`);
  svg.setAttribute('width', w);
  svg.setAttribute('height', hgt);
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  if (values.length > 1) {
    const step = w / (values.length - 1);
    const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(hgt - 1 - (Math.min(v, max) / max) * (hgt - 2)).toFixed(1)}`);
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    line.setAttribute('points', pts.join(' '));
    svg.append(line);
  }
  return svg;
}
