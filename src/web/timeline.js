// The timeline rows of GET /v1/risk/timeline (all_accounts) → chart columns. Pure; unit-tested.

/** The series the chart can draw, in order: key in the row, label, axis ("qty" shares, "usd" currency). */
export const SERIES = [
  { key: 'delta', label: 'Net delta', scale: 'qty', color: '#1f6feb' },
  { key: 'bwd', label: 'Beta-wtd delta', scale: 'qty', color: '#8250df' },
  { key: 'theta', label: 'Theta $/day', scale: 'usd', color: '#bf8700' },
  { key: 'vega', label: 'Vega $/vol pt', scale: 'usd', color: '#0f766e' },
  { key: 'unrealized_pnl', label: 'Unrealized P&L', scale: 'usd', color: '#cf222e' },
  { key: 'day_pnl', label: 'Day P&L', scale: 'usd', color: '#d4611c' },
];

/** The underlyings present, sorted. */
export function underlyingsOf(rows) {
  return [...new Set(rows.map((r) => r.underlying))].sort();
}

/**
 * Columns for uPlot: x (epoch seconds of each bucket's as_of) and one array per series that any
 * row carries (risk fields appear when the risk engine adds them). `underlying` null = the total
 * across underlyings: a bucket's sum is null only when every underlying's value is null.
 * @param {Array<Record<string, any>>} rows
 * @param {string | null} [underlying]
 */
export function timelineColumns(rows, underlying = null) {
  const present = SERIES.filter((s) => rows.some((r) => s.key in r));
  const byTime = new Map();
  for (const r of rows) {
    if (underlying && r.underlying !== underlying) continue;
    const t = Date.parse(r.as_of) / 1000;
    let acc = byTime.get(t);
    if (!acc) byTime.set(t, (acc = present.map(() => null)));
    present.forEach((s, i) => {
      const v = r[s.key];
      if (v !== null && v !== undefined && Number.isFinite(v)) acc[i] = (acc[i] ?? 0) + v;
    });
  }
  const xs = [...byTime.keys()].sort((a, b) => a - b);
  return { series: present, x: xs, y: present.map((_, i) => xs.map((t) => byTime.get(t)[i])) };
}
