/* global uPlot */
// The risk timeline chart (uPlot, loaded as a global by uplot.min.js), plus the same data as a
// table for screen readers and keyboard users (<details> under the chart).
import { $, fillBody, h, noteRow } from './dom.js';
import { num } from './format.js';
import { timelineColumns } from './timeline.js';

let plot = null;
let plotKey = '';

function size() {
  const box = $('#chart');
  return { width: Math.max(280, box.clientWidth), height: box.clientWidth < 600 ? 220 : 300 };
}

/** Draws (or redraws) the chart from timeline rows; `underlying` null = the total. */
export function drawTimeline(rows, underlying) {
  const { series, x, y } = timelineColumns(rows, underlying);
  const box = $('#chart');
  box.dataset.points = String(x.length);
  box.setAttribute('aria-label', summary(series, x, y, underlying));
  renderTable(series, x, y);
  if (x.length === 0) {
    plot?.destroy();
    plot = null;
    plotKey = '';
    box.replaceChildren(h('p', { class: 'empty', text: 'no positions with greeks in this range yet' }));
    return;
  }
  const key = series.map((s) => s.key).join(',');
  const data = [x, ...y];
  if (plot && key === plotKey) {
    plot.setData(data);
    return;
  }
  plot?.destroy();
  box.replaceChildren();
  plotKey = key;
  const hasUsd = series.some((s) => s.scale === 'usd');
  // eslint-disable-next-line no-undef
  plot = new uPlot({
    ...size(),
    series: [{}, ...series.map((s) => ({ label: s.label, scale: s.scale, stroke: s.color, width: 2, points: { show: x.length < 40, size: 5 }, value: (_u, v) => num(v) }))],
    axes: [
      { label: 'UTC', space: 70, values: (_u, ticks) => ticks.map((t) => utcTick(t, x[x.length - 1] - x[0])) },
      { scale: 'qty', label: 'delta (shares)', size: 64, values: (_u, ticks) => ticks.map((t) => num(t, 0)) },
      ...(hasUsd ? [{ scale: 'usd', label: '$', side: 1, size: 64, grid: { show: false }, values: (_u, ticks) => ticks.map((t) => num(t, 0)) }] : []),
    ],
    scales: { x: { time: true } },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
    legend: { live: true },
  }, data, box);
}

/** Tick labels in UTC like the rest of the page: HH:MM:SS within an hour, HH:MM within days, else MM-DD HH:MM. */
function utcTick(t, spanS) {
  const iso = new Date(t * 1000).toISOString();
  if (spanS > 2 * 86400) return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  return spanS > 3600 ? iso.slice(11, 16) : iso.slice(11, 19);
}

export function resizeChart() {
  if (plot) plot.setSize(size());
}

function summary(series, x, y, underlying) {
  if (x.length === 0) return 'Risk timeline: no data in this range';
  const last = series.map((s, i) => `${s.label} ${num(y[i][x.length - 1])}`).join(', ');
  return `Risk timeline for ${underlying ?? 'all underlyings'}, ${x.length} buckets; latest: ${last}`;
}

function renderTable(series, x, y) {
  const table = $('#timeline-table');
  table.tHead.replaceChildren(h('tr', {}, h('th', { scope: 'col', text: 'As of (UTC)' }), series.map((s) => h('th', { scope: 'col', class: 'n', text: s.label }))));
  const start = Math.max(0, x.length - 30);
  const rows = [];
  for (let i = x.length - 1; i >= start; i--) {
    rows.push(h('tr', {}, h('th', { scope: 'row', text: new Date(x[i] * 1000).toISOString().slice(11, 19) }), series.map((_s, j) => h('td', { class: 'n', text: num(y[j][i]) }))));
  }
  fillBody(table.tBodies[0], rows.length ? rows : [noteRow(series.length + 1, 'no data')]);
}
