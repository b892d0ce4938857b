// The live positions table: one <tr> per (broker, account, contract), kept by key, cells updated
// in place (focus and scroll survive every update) from the risk engine's positions and the live
// greeks of /v1/events. Stale rows (risk engine's flag, or no update for STALE_MS) are marked.
import { h, noteRow } from './dom.js';
import { age, contractLabel, money, num, pct } from './format.js';

export const STALE_MS = 60_000;

const COLS = [
  { id: 'contract', label: 'Contract', th: true },
  { id: 'where', label: 'Broker · account' },
  { id: 'qty', label: 'Qty', n: true },
  { id: 'mark', label: 'Mark', n: true },
  { id: 'iv', label: 'IV', n: true },
  { id: 'cdelta', label: 'Δ / contract', n: true },
  { id: 'delta', label: 'Pos. Δ', n: true },
  { id: 'dollar_delta', label: '$Δ', n: true },
  { id: 'bwd', label: 'BWD', n: true },
  { id: 'gamma', label: 'Γ', n: true },
  { id: 'theta', label: 'Θ $/day', n: true },
  { id: 'vega', label: 'Vega', n: true },
  { id: 'unrealized_pnl', label: 'Unreal. P&L', n: true },
  { id: 'day_pnl', label: 'Day P&L', n: true },
  { id: 'age', label: 'Age', n: true },
];

const keyOf = (r) => `${r.broker}|${r.account}|${r.contract_key}`;

export class PositionsTable {
  constructor(table) {
    this.table = table;
    this.tbody = table.tBodies[0];
    this.rows = new Map(); // key → { live, risk, tr, cells }
    this.serverSkewMs = 0; // server clock − page clock, from the events' "now"
    table.tHead.replaceChildren(h('tr', {}, COLS.map((c) => h('th', { scope: 'col', class: c.n ? 'n' : '', text: c.label }))));
    this.tbody.replaceChildren(noteRow(COLS.length, 'waiting for the first positions…'));
  }

  /** Rows of a `greeks` event. */
  applyLive(rows, serverNow) {
    if (serverNow) this.serverSkewMs = Date.parse(serverNow) - Date.now();
    for (const r of rows) this.entry(r).live = r;
    this.render();
  }

  /** The positions of GET /v1/risk/positions (replaces the risk side of every row). */
  applyRisk(positions) {
    const seen = new Set();
    for (const p of positions) {
      const e = this.entry(p);
      e.risk = p;
      seen.add(keyOf(p));
    }
    for (const [k, e] of this.rows) if (e.risk && !seen.has(k)) e.risk = null;
    this.render();
  }

  entry(r) {
    const k = keyOf(r);
    let e = this.rows.get(k);
    if (!e) this.rows.set(k, (e = { key: k, live: null, risk: null, tr: null, cells: null }));
    return e;
  }

  /** The values shown for one row: the risk engine's position figures when it has them, else live greeks × size. */
  values(e) {
    const l = e.live ?? {};
    const r = e.risk ?? {};
    const qty = r.quantity ?? l.quantity;
    const size = qty !== undefined && (r.multiplier ?? l.multiplier) !== undefined ? qty * (r.multiplier ?? l.multiplier) : null;
    const pos = (k) => (e.risk ? r[k] : size !== null && l[k] !== null && l[k] !== undefined ? l[k] * size : null);
    const updated = Math.max(Date.parse(l.received_at ?? '') || 0, Date.parse(r.updated_at ?? '') || 0) || null;
    const ageMs = updated ? Date.now() + this.serverSkewMs - updated : null;
    const stale = e.risk ? !!r.stale : ageMs === null || ageMs > STALE_MS;
    return {
      contract: contractLabel(r.contract_key ?? l.contract_key), where: `${r.broker ?? l.broker} · ${r.account ?? l.account}`,
      qty: num(qty, 0), mark: num(l.mark ?? r.mark), iv: pct(l.iv), cdelta: num(l.delta, 3),
      delta: num(pos('delta')), dollar_delta: money(e.risk ? r.dollar_delta : size !== null && l.delta != null && l.underlying_price != null ? l.delta * size * l.underlying_price : null),
      bwd: num(r.bwd), gamma: num(pos('gamma')), theta: money(pos('theta')), vega: money(pos('vega')),
      unrealized_pnl: money(r.unrealized_pnl), day_pnl: money(r.day_pnl),
      age: stale ? `${age(ageMs)} stale` : age(ageMs), stale,
      sort: `${l.underlying ?? r.underlying}|${r.contract_key ?? l.contract_key}|${keyOf(r.broker ? r : l)}`,
    };
  }

  render() {
    const entries = [...this.rows.values()].map((e) => ({ e, v: this.values(e) })).sort((a, b) => a.v.sort.localeCompare(b.v.sort));
    if (entries.length === 0) return;
    for (const { e, v } of entries) {
      if (!e.tr) {
        e.cells = {};
        e.tr = h('tr', { 'data-key': e.key }, COLS.map((c) => (e.cells[c.id] = h(c.th ? 'th' : 'td', { scope: c.th ? 'row' : undefined, class: c.n ? 'n' : '', 'data-col': c.id }))));
      }
      for (const c of COLS) {
        const cell = e.cells[c.id];
        if (cell.textContent !== v[c.id]) {
          cell.textContent = v[c.id];
          if (c.id !== 'age' && c.id !== 'contract' && c.id !== 'where') {
            cell.classList.remove('changed');
            void cell.offsetWidth; // restart the highlight
            cell.classList.add('changed');
          }
        }
      }
      e.tr.classList.toggle('stale', v.stale);
    }
    const order = entries.map(({ e }) => e.tr);
    const current = [...this.tbody.children];
    if (order.length !== current.length || order.some((tr, i) => tr !== current[i])) this.tbody.replaceChildren(...order);
    this.table.querySelector('caption .count').textContent = `${entries.length} positions`;
  }
}
