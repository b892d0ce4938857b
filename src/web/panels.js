// The smaller panels: portfolio header, actors, strategies, what-if heat map, alerts. Each takes
// an API document and redraws its own element; null means "risk engine unavailable".
import { $, fillBody, h, noteRow } from './dom.js';
import { age, contractLabel, heat, money, moneyWhole, num } from './format.js';

const UNAVAILABLE = 'risk engine unavailable';

/** Portfolio header from the risk summary (GET /v1/risk/summary or the `risk` event). */
export function renderSummary(doc) {
  const t = doc?.totals ?? {};
  const set = (id, text) => ($(`#m-${id}`).textContent = text);
  set('delta', num(t.delta));
  set('bwd', num(t.bwd));
  $('#m-bwd-label').textContent = doc?.benchmark?.symbol ? `Beta-wtd Δ (${doc.benchmark.symbol})` : 'Beta-wtd Δ';
  set('dollar_delta', money(t.dollar_delta));
  set('gamma', num(t.gamma));
  set('theta', money(t.theta));
  set('vega', money(t.vega));
  set('unrealized_pnl', money(t.unrealized_pnl));
  set('day_pnl', money(t.day_pnl));
  for (const id of ['unrealized_pnl', 'day_pnl']) {
    const v = t[id];
    $(`#m-${id}`).dataset.sign = v > 0 ? 'up' : v < 0 ? 'down' : '';
  }
}

export function setRiskAvailable(available) {
  $('#risk-banner').hidden = available;
  document.body.classList.toggle('no-risk', !available);
  if (!available) {
    renderSummary(null);
    fillBody($('#strategies tbody'), [noteRow(7, UNAVAILABLE)]);
    fillBody($('#scenarios tbody'), [noteRow(7, UNAVAILABLE)]);
    fillBody($('#alerts-open tbody'), [noteRow(5, UNAVAILABLE)]);
    fillBody($('#alerts-recent tbody'), [noteRow(5, UNAVAILABLE)]);
  }
}

export function renderDataAge(ms) {
  const el = $('#m-age');
  el.textContent = age(ms);
  el.dataset.sign = ms !== null && ms > 60_000 ? 'down' : '';
}

/** Actor states from the `status` event (the /v1/streaming/status document). */
export function renderActors(doc) {
  const items = (doc.actors ?? []).map((a) =>
    h('li', { class: `actor ${a.state}`, title: a.last_error ?? '' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), `${a.actor}: ${a.state}`),
  );
  $('#actors').replaceChildren(...(items.length ? items : [h('li', { class: 'actor stopped', text: 'no actors running' })]));
}

export function renderStrategies(groups) {
  const rows = groups.map((g) =>
    h('tr', {},
      h('th', { scope: 'row', text: `${g.underlying} ${g.kind}` }),
      h('td', { text: `${g.broker} · ${g.account}` }),
      h('td', { text: g.legs.map(contractLabel).join(', ') }),
      h('td', { class: 'n', text: money(g.credit) }),
      // max_loss is a positive amount (specs/risk.md): shown as the loss it is; null (unbounded, no payoff, unknown price) is "—"
      h('td', { class: 'n', text: `${money(g.max_profit)} / ${money(g.max_loss === null || g.max_loss === undefined ? null : -Math.abs(g.max_loss))}` }),
      h('td', { class: 'n', text: (g.breakevens ?? []).map((b) => num(b)).join(', ') || '—' }),
      h('td', { class: 'n', text: money(g.unrealized_pnl) })),
  );
  fillBody($('#strategies tbody'), rows.length ? rows : [noteRow(7, 'no multi-leg strategies')]);
}

/** The what-if grid of GET /v1/risk/scenarios as a heat map: spot moves down, IV shift × days across. */
export function renderScenarios(doc, subject = 'portfolio') {
  const cols = [];
  for (const d of doc.days) for (const iv of doc.iv_shifts_pts) cols.push({ d, iv });
  const cell = new Map(doc.rows.filter((r) => r.subject === subject).map((r) => [`${r.spot_move_pct}|${r.iv_shift_pts}|${r.days}`, r]));
  const maxAbs = Math.max(0, ...[...cell.values()].map((r) => Math.abs(r.pnl_full ?? 0)));
  $('#scenarios thead').replaceChildren(
    h('tr', {}, h('th', { scope: 'col', text: 'Spot' }), cols.map((c) =>
      h('th', { scope: 'col', class: 'n', 'aria-label': `IV ${c.iv > 0 ? '+' : ''}${c.iv} points, ${c.d === 0 ? 'now' : `in ${c.d} day${c.d > 1 ? 's' : ''}`}` },
        `IV ${c.iv > 0 ? '+' : ''}${c.iv}`, h('br'), c.d === 0 ? 'now' : `+${c.d}d`))),
  );
  const rows = doc.spot_moves_pct.map((m) =>
    h('tr', {}, h('th', { scope: 'row', class: 'n', text: `${m > 0 ? '+' : ''}${m}%` }), cols.map((c) => {
      const r = cell.get(`${m}|${c.iv}|${c.d}`);
      const v = r?.pnl_full ?? null;
      const { bg, fg } = heat(v, maxAbs);
      return h('td', { class: 'n heat', style: `background:${bg};color:${fg}`, text: moneyWhole(v), title: r ? `full repricing ${money(v)}; Taylor estimate ${money(r.pnl_taylor)}` : '' });
    })),
  );
  fillBody($('#scenarios tbody'), rows);
  $('#scenarios-note').textContent = doc.model_note ?? '';
}

/** Open and recent alerts; `alerts` is keyed by id so live `alert` events replace their row. */
export function renderAlerts(alerts) {
  const list = [...alerts.values()].sort((a, b) => String(b.opened_at).localeCompare(String(a.opened_at)));
  const row = (a) =>
    h('tr', { class: a.closed_at ? '' : 'open' },
      h('th', { scope: 'row', text: a.rule }),
      h('td', { class: 'wrap', text: a.subject }),
      h('td', { class: 'wrap', text: a.message }),
      h('td', { class: 'n', text: `${num(a.value)} / ${num(a.threshold)}` }),
      h('td', { text: (a.closed_at ?? a.opened_at ?? '').replace('T', ' ').slice(0, 19) })),
    open = list.filter((a) => !a.closed_at),
    recent = list.filter((a) => a.closed_at).slice(0, 20);
  fillBody($('#alerts-open tbody'), open.length ? open.map(row) : [noteRow(5, 'no open alerts')]);
  fillBody($('#alerts-recent tbody'), recent.length ? recent.map(row) : [noteRow(5, 'no alerts closed in the last day')]);
  $('#alerts-count').textContent = open.length ? `(${open.length} open)` : '';
}
