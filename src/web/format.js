// Pure formatting and colour rules of the page (no DOM): unit-tested in tests/web/format.test.ts.

/** A number for a table cell: null/undefined → an em dash (unknown is never shown as 0). */
export function num(v, digits = 2) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (abs >= 10_000) return Math.round(v).toLocaleString('en-US');
  if (abs >= 100) return v.toFixed(Math.min(digits, 1));
  if (abs > 0 && abs < 0.01) return v.toPrecision(2);
  return v.toFixed(digits);
}

/** Currency with a sign for P&L: +1,234 / −56.70. */
export function money(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const s = Math.abs(v) >= 1000 ? Math.round(Math.abs(v)).toLocaleString('en-US') : Math.abs(v).toFixed(2);
  return `${v < 0 ? '−' : v > 0 ? '+' : ''}$${s}`;
}

/** Whole dollars with a sign, for dense grids: +1,050 / −950 / $0. */
export function moneyWhole(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const r = Math.round(v);
  return `${r < 0 ? '−' : r > 0 ? '+' : ''}$${Math.abs(r).toLocaleString('en-US')}`;
}

export function pct(v, digits = 1) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return `${(v * 100).toFixed(digits)}%`;
}

/** An age in ms as "0.4s", "12s", "3m", "2h". */
export function age(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 90) return `${Math.round(s)}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

/** "SPY   261218C00500000" → "SPY 2026-12-18 500 C"; anything else as given. */
export function contractLabel(key) {
  const m = /^(.{6})(\d{2})(\d{2})(\d{2})([CP])(\d{8})$/.exec(key ?? '');
  if (!m) return key ?? '';
  const strike = Number(m[6]) / 1000;
  return `${m[1].trim()} 20${m[2]}-${m[3]}-${m[4]} ${strike} ${m[5]}`;
}

/**
 * Heat-map cell colours for a P&L: red for a loss, green for a gain, stronger with |v| / maxAbs,
 * white at 0. Returns background and a text colour that keeps contrast ≥ 4.5:1 on it.
 */
export function heat(v, maxAbs) {
  if (v === null || v === undefined || !Number.isFinite(v) || !(maxAbs > 0)) return { bg: '#f1f3f5', fg: '#1b1f24' };
  const t = Math.min(1, Math.abs(v) / maxAbs);
  const [r, g, b] = v < 0 ? [200, 30, 45] : [20, 130, 60];
  const mix = (c) => Math.round(255 + (c - 255) * t);
  return { bg: `rgb(${mix(r)}, ${mix(g)}, ${mix(b)})`, fg: t > 0.55 ? '#ffffff' : '#1b1f24' };
}

/** A bucket for a range so that the chart has at most 100 points (the server allows 5000 at most). */
export function autoBucket(rangeMs) {
  const steps = [5e3, 15e3, 60e3, 300e3, 900e3, 3600e3, 4 * 3600e3, 86400e3];
  return steps.find((s) => rangeMs / s <= 100) ?? steps[steps.length - 1];
}

/** "15s", "1m", "4h" → ms (the same forms the API's since/bucket take). */
export function durationMs(text) {
  const m = /^(\d+)(s|m|h|d)$/.exec(text ?? '');
  if (!m) return null;
  return Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2]];
}

/** ms → the API's duration form ("15s", "5m", "1h"). */
export function durationText(ms) {
  if (ms % 86400e3 === 0) return `${ms / 86400e3}d`;
  if (ms % 3600e3 === 0) return `${ms / 3600e3}h`;
  if (ms % 60e3 === 0) return `${ms / 60e3}m`;
  return `${Math.round(ms / 1000)}s`;
}
