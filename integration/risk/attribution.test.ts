/**
 * Greek P&L attribution over an interval, hand-computed (risk.md: Δ·dS + ½·Γ·dS² + Θ·dt + V·dσ,
 * Greeks at t0, residual = actual − explained), from the database and through GET /v1/risk/attribution.
 *
 *   t1 − t0 = 1 day; SPY 500 → 502 (dS = 2)
 *   A  long 2 SPY 500C (size 200): t0 mark 10, iv .20, Δ .5 Γ .02 Θ −.1 V .3; t1 mark 11.2, iv .21
 *      position Greeks Δ 100, Γ 4, Θ −20, V 60 → 200 + 8 − 20 + 60 = 248 explained; actual 1.2 × 200 = 240; residual −8
 *   B  short 1 SPY 480P (size −100): t0 mark 3, iv .25, Δ −.3 Γ .01 Θ −.05 V .2; t1 mark 2.5, iv .24
 *      Δ 30, Γ −1, Θ 5, V −20 → 60 − 2 + 5 + 20 = 83; actual (2.5 − 3) × −100 = 50 (a short that gained); residual −33
 *   S  100 SPY shares: delta 100 × 2 = 200 = actual; residual 0
 *   C  opened after t0 (first snapshot after it): not attributed
 *   D  QQQ call with no mark at t1: listed, numbers null, counted as incomplete
 *   totals: delta 460, gamma 6, theta −15, vega 80, explained 531, actual 490, residual −41
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { MemoryJournal } from '../../src/core/journal.js';
import type { GreekSnapshot } from '../../src/core/types.js';
import { attributionRows } from '../../src/db/attribution.js';
import { attributionDocument } from '../../src/risk/attribution.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';

const T1 = Date.UTC(2025, 0, 8, 15, 0, 0);
const T0 = T1 - 86_400_000;
const A = 'SPY   250321C00500000';
const B = 'SPY   250321P00480000';
const C = 'SPY   250321C00510000';
const D = 'QQQ   250321C00400000';

function snap(contractKey: string, underlying: string, account: string, qty: number, at: number, v: { s: number; iv: number; mark: number | null; d: number; g: number; t: number; v: number }): GreekSnapshot {
  return {
    broker: 'tasty', account, contractKey, underlying, eventTs: at, seq: 0, receivedAt: at, quantity: qty, multiplier: 100,
    bid: null, ask: null, mark: v.mark, underlyingPrice: v.s, iv: v.iv, delta: v.d, gamma: v.g, theta: v.t, vega: v.v, rho: null,
  };
}

describePg('Greek attribution over an interval (hand-computed)', () => {
  let t: TestStorage;
  let app: FastifyInstance;
  let pipeline: Pipeline;
  beforeAll(async () => {
    t = await openTestStorage('postgres');
    await t.storage.ensurePartitions(T0);
    await t.storage.ensurePartitions(T1);
    await t.storage.writeSnapshots([
      snap(A, 'SPY', 'A1', 2, T0 - 60_000, { s: 500, iv: 0.2, mark: 10, d: 0.5, g: 0.02, t: -0.1, v: 0.3 }),
      snap(A, 'SPY', 'A1', 2, T1 - 30_000, { s: 502, iv: 0.21, mark: 11.2, d: 0.6, g: 0.02, t: -0.1, v: 0.3 }),
      snap(A, 'SPY', 'A1', 2, T1 + 60_000, { s: 530, iv: 0.3, mark: 40, d: 0.9, g: 0.02, t: -0.1, v: 0.3 }), // after t1: ignored
      snap(B, 'SPY', 'A1', -1, T0 - 10_000, { s: 500, iv: 0.25, mark: 3, d: -0.3, g: 0.01, t: -0.05, v: 0.2 }),
      snap(B, 'SPY', 'A1', -1, T1 - 20_000, { s: 502, iv: 0.24, mark: 2.5, d: -0.25, g: 0.01, t: -0.05, v: 0.2 }),
      snap(C, 'SPY', 'A1', 1, T0 + 3_600_000, { s: 501, iv: 0.2, mark: 4, d: 0.4, g: 0.02, t: -0.1, v: 0.3 }),
      snap(D, 'QQQ', 'A2', 1, T0 - 5_000, { s: 400, iv: 0.2, mark: 5, d: 0.5, g: 0.02, t: -0.1, v: 0.3 }),
      snap(D, 'QQQ', 'A2', 1, T1 - 5_000, { s: 404, iv: 0.2, mark: null, d: 0.5, g: 0.02, t: -0.1, v: 0.3 }),
    ]);
    await t.storage.replacePositions('tasty', 'A1', [
      { broker: 'tasty', account: 'A1', contractKey: 'SPY', underlying: 'SPY', quantity: 100, multiplier: 1, avgPrice: 480, assetClass: 'equity' },
    ], T1);
    pipeline = new Pipeline({ storage: t.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() });
    app = await buildApi({ pipeline, storage: t.storage, log: testLogger, now: () => T1 + 3_600_000 });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await pipeline?.stop();
    await t?.close();
  });

  it('per position and summed: Greek parts, explained, actual, residual', async () => {
    const doc = attributionDocument(await attributionRows(t.storage, T0, T1, 86_400_000), T0, T1);
    expect(doc.dt_days).toBe(1);
    expect(doc.positions.map((p) => [p.contract_key, p.account])).toEqual([[D, 'A2'], ['SPY', 'A1'], [A, 'A1'], [B, 'A1']].sort((a, b) => {
      const u = (k: string) => (k.startsWith('QQQ') ? 'QQQ' : 'SPY');
      return u(a[0]!).localeCompare(u(b[0]!)) || a[1]!.localeCompare(b[1]!) || a[0]!.localeCompare(b[0]!);
    }));
    const by = new Map(doc.positions.map((p) => [p.contract_key, p]));
    const close = (x: number | null, y: number) => expect(x).toBeCloseTo(y, 9);
    const a = by.get(A)!;
    [a.delta_pnl, a.gamma_pnl, a.theta_pnl, a.vega_pnl, a.explained, a.actual, a.residual].forEach((x, i) => close(x, [200, 8, -20, 60, 248, 240, -8][i]!));
    expect([a.delta, a.gamma, a.theta, a.vega].map((x) => Number(x!.toFixed(9)))).toEqual([100, 4, -20, 60]);
    const b = by.get(B)!;
    [b.delta_pnl, b.gamma_pnl, b.theta_pnl, b.vega_pnl, b.explained, b.actual, b.residual].forEach((x, i) => close(x, [60, -2, 5, 20, 83, 50, -33][i]!));
    const s = by.get('SPY')!;
    expect(s.instrument).toBe('stock');
    [s.delta_pnl, s.explained, s.actual, s.residual].forEach((x, i) => close(x, [200, 200, 200, 0][i]!));
    expect(s.gamma_pnl).toBe(0);
    const d = by.get(D)!;
    expect([d.actual, d.residual, d.explained]).toEqual([null, null, null]);
    const tot = doc.totals;
    expect([tot.positions, tot.incomplete]).toEqual([4, 1]);
    [tot.delta_pnl, tot.gamma_pnl, tot.theta_pnl, tot.vega_pnl, tot.explained, tot.actual, tot.residual].forEach((x, i) => close(x, [460, 6, -15, 80, 531, 490, -41][i]!));
    expect(doc.underlyings.map((u) => [u.underlying, u.positions, u.incomplete, u.actual])).toEqual([['QQQ', 1, 1, null], ['SPY', 3, 0, expect.closeTo(490, 9)]]);
  });

  it('GET /v1/risk/attribution gives the same document; filters; bad parameters are 400s', async () => {
    const since = new Date(T0).toISOString();
    const until = new Date(T1).toISOString();
    const res = await app.inject({ method: 'GET', url: `/v1/risk/attribution?since=${since}&until=${until}` });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.totals.residual).toBeCloseTo(-41, 9);
    expect(body.totals.actual).toBeCloseTo(490, 9);
    expect(body.from).toBe(since);
    // Durations count back from now (here T1 + 1 h): since=25h, until=1h = [T0, T1].
    const rel = (await app.inject({ method: 'GET', url: '/v1/risk/attribution?since=25h&until=1h&underlying=qqq' })).json();
    expect(rel.positions.map((p: { contract_key: string }) => p.contract_key)).toEqual([D]);
    expect(rel.totals).toMatchObject({ positions: 1, incomplete: 1, actual: null });
    for (const bad of ['', '?since=nope', `?since=${until}&until=${since}`, '?since=1d&bogus=1']) {
      const r = await app.inject({ method: 'GET', url: `/v1/risk/attribution${bad}` });
      expect(r.statusCode, bad).toBe(400);
      expect(r.json().error).toBeTruthy();
    }
    const spec = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(spec.paths['/v1/risk/attribution'].get.responses['200']).toBeDefined();
  });
});
