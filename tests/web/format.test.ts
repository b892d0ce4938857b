import { describe, expect, it } from 'vitest';
import { age, autoBucket, contractLabel, durationMs, durationText, heat, money, moneyWhole, num, pct } from '../../src/web/format.js';
import { timelineColumns, underlyingsOf } from '../../src/web/timeline.js';

describe('page formatting', () => {
  it('shows unknown as a dash, never 0', () => {
    for (const f of [num, money, pct, age]) {
      expect(f(null)).toBe('—');
      expect(f(undefined)).toBe('—');
      expect(f(Number.NaN)).toBe('—');
    }
    expect(num(0)).toBe('0.00');
    expect(money(0)).toBe('$0.00');
  });

  it('formats numbers, money, percent and ages', () => {
    expect(num(0.7358, 3)).toBe('0.736');
    expect(num(-147.3)).toBe('-147.3');
    expect(num(123456.7)).toBe('123,457');
    expect(num(2_500_000)).toBe('2.50M');
    expect(num(0.000961)).toBe('0.00096');
    expect(money(-1234.5)).toBe('−$1,235');
    expect(money(56.7)).toBe('+$56.70');
    expect(moneyWhole(-950.4)).toBe('−$950');
    expect(moneyWhole(1050)).toBe('+$1,050');
    expect(moneyWhole(0.2)).toBe('$0');
    expect(moneyWhole(null)).toBe('—');
    expect(pct(0.2461)).toBe('24.6%');
    expect(age(400)).toBe('0.4s');
    expect(age(42_000)).toBe('42s');
    expect(age(180_000)).toBe('3m');
    expect(age(7_200_000)).toBe('2h');
  });

  it('labels OCC keys readably and leaves other keys alone', () => {
    expect(contractLabel('SPY   261218C00500000')).toBe('SPY 2026-12-18 500 C');
    expect(contractLabel('SPXW  270115P05000000')).toBe('SPXW 2027-01-15 5000 P');
    expect(contractLabel('SPY   261218P00502500')).toBe('SPY 2026-12-18 502.5 P');
    expect(contractLabel('/ESH7')).toBe('/ESH7');
  });

  it('colours the heat map by sign and size, with readable text', () => {
    expect(heat(-100, 100)).toEqual({ bg: 'rgb(200, 30, 45)', fg: '#ffffff' });
    expect(heat(100, 100)).toEqual({ bg: 'rgb(20, 130, 60)', fg: '#ffffff' });
    expect(heat(0, 100)).toEqual({ bg: 'rgb(255, 255, 255)', fg: '#1b1f24' });
    expect(heat(10, 100).fg).toBe('#1b1f24');
    expect(heat(null, 100).bg).toBe('#f1f3f5');
    expect(heat(5, 0).bg).toBe('#f1f3f5');
  });

  it('picks a bucket with at most 100 points per range, in the API duration form', () => {
    expect(durationText(autoBucket(durationMs('15m')!))).toBe('15s');
    expect(durationText(autoBucket(durationMs('1h')!))).toBe('1m');
    expect(durationText(autoBucket(durationMs('1d')!))).toBe('15m');
    expect(durationText(autoBucket(durationMs('7d')!))).toBe('4h');
    expect(durationMs('nope')).toBeNull();
  });
});

describe('timeline columns', () => {
  const row = (asOf: string, underlying: string, delta: number | null, extra: Record<string, number | null> = {}) =>
    ({ as_of: asOf, underlying, delta, gamma: 1, theta: -2, vega: 3, dollar_delta: 10, ...extra });

  it('sums underlyings per bucket for the total, keeps null when every part is null', () => {
    const rows = [
      row('2026-01-02T15:00:05Z', 'SPY', 10), row('2026-01-02T15:00:05Z', 'QQQ', 5),
      row('2026-01-02T15:00:10Z', 'SPY', null), row('2026-01-02T15:00:10Z', 'QQQ', null),
    ];
    const c = timelineColumns(rows, null);
    expect(c.x).toEqual([Date.parse('2026-01-02T15:00:05Z') / 1000, Date.parse('2026-01-02T15:00:10Z') / 1000]);
    expect(c.series.map((s) => s.key)).toEqual(['delta', 'theta', 'vega']);
    expect(c.y[0]).toEqual([15, null]);
    expect(c.y[1]).toEqual([-4, -4]);
    expect(underlyingsOf(rows)).toEqual(['QQQ', 'SPY']);
  });

  it('filters one underlying and plots BWD and P&L once the rows carry them', () => {
    const rows = [row('2026-01-02T15:00:05Z', 'SPY', 10, { bwd: 12, unrealized_pnl: -50 }), row('2026-01-02T15:00:05Z', 'QQQ', 5, { bwd: 7, unrealized_pnl: 20 })];
    const c = timelineColumns(rows, 'QQQ');
    expect(c.series.map((s) => s.key)).toEqual(['delta', 'bwd', 'theta', 'vega', 'unrealized_pnl']);
    expect(c.y.map((col) => col[0])).toEqual([5, 7, -2, 3, 20]);
  });
});
