/**
 * Risk engine figures for `npm run bench`:
 *   - compute time of the `risk --json` document (report + strategies + JSON) for a synthetic
 *     book of N positions (default 5,000; budget 200 ms), median of several runs with spread;
 *   - the what-if grid for the same book;
 *   - the alert loop's extra CPU on the pipeline at 1,000 events/s: A/B runs of the sim
 *     pipeline without and with the risk service, process CPU (all threads) per wall second.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from 'pino';
import { readAppConfig } from '../app/config.js';
import { Pipeline } from '../app/pipeline.js';
import { startRisk } from '../app/risk.js';
import { MemoryJournal } from '../core/journal.js';
import type { Storage } from '../db/types.js';
import { riskJson } from '../risk/json.js';
import { buildRiskReport } from '../risk/report.js';
import { DEFAULT_RULES, parseRules } from '../risk/rules.js';
import { scenarioGrid } from '../risk/scenarios.js';
import { marketKey, type ContractMarket, type RiskInputs, type RiskPositionInput } from '../risk/types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function spreadOf(xs: number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor((s.length - 1) / 2)], min: s[0], max: s[s.length - 1], runs: s.length };
}

/** A synthetic book: `n` positions over n/50 underlyings, options in verticals, condors, singles, plus stock. */
export function syntheticBook(n: number, now = Date.now()): RiskInputs {
  const positions: RiskPositionInput[] = [];
  const market = new Map<string, ContractMarket>();
  const prices = new Map<string, { price: number; at: number; source: string }>();
  const betas = new Map<string, { beta: number; source: string }>();
  const expiries = ['261218', '270115', '270219', '270319'];
  let i = 0;
  for (let u = 0; i < n; u++) {
    const sym = `U${String(u).padStart(3, '0')}`.slice(0, 6);
    const spot = 100 + (u % 50) * 10;
    prices.set(sym, { price: spot, at: now, source: 'snapshot' });
    if (u % 10 !== 0) betas.set(sym, { beta: 0.8 + (u % 7) / 10, source: 'config' });
    const account = `ACC${u % 4}`;
    for (let j = 0; j < 50 && i < n; j++, i++) {
      if (j === 0) {
        positions.push({ broker: 'sim', account, contractKey: sym, underlying: sym, quantity: 100, multiplier: 1, avgPrice: spot * 0.98, assetClass: 'equity', updatedAt: now });
        continue;
      }
      const right = j % 2 ? 'C' : 'P';
      const strike = Math.round(spot * (0.8 + (j % 25) * 0.02));
      const key = `${sym.padEnd(6)}${expiries[j % 4]}${right}${String(strike * 1000).padStart(8, '0')}`;
      const qty = (j % 3) - 1 || 2;
      positions.push({ broker: 'sim', account, contractKey: key, underlying: sym, quantity: qty, multiplier: 100, avgPrice: 2 + (j % 5), assetClass: 'option', updatedAt: now });
      market.set(marketKey('sim', account, key), {
        bid: 2.4, ask: 2.6, mark: 2.5, underlyingPrice: spot, iv: 0.25, delta: right === 'C' ? 0.4 : -0.4, gamma: 0.02, theta: -0.05, vega: 0.2, eventTs: now,
      });
    }
  }
  return { now, positions, market, prices, dayMarks: new Map(), betas, benchmark: 'U001', staleMs: 300_000 };
}

const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/**
 * Compute time as CPU time of the process (on a shared, loaded machine wall time mostly measures
 * the neighbours), wall time beside it. First run is a warm-up (JIT), not counted.
 */
export function riskComputeBench(n: number, runs: number) {
  const inputs = syntheticBook(n);
  const doc: number[] = [];
  const docWall: number[] = [];
  const scen: number[] = [];
  let strategies = 0;
  let bytes = 0;
  for (let r = 0; r < runs + 1; r++) {
    const [c0, t0] = [cpuMs(), performance.now()];
    const report = buildRiskReport(inputs);
    const text = JSON.stringify(riskJson(report));
    const [c1, t1] = [cpuMs(), performance.now()];
    scenarioGrid(report.positions, { rate: DEFAULT_RULES.rate, dividendYield: () => 0, mode: 'underlying' });
    const c2 = cpuMs();
    if (r === 0) continue;
    doc.push(c1 - c0);
    docWall.push(t1 - t0);
    scen.push(c2 - c1);
    strategies = report.strategies.length;
    bytes = text.length;
  }
  return { positions: n, documentCpuMs: spreadOf(doc), documentWallMs: spreadOf(docWall), scenariosCpuMs: spreadOf(scen), strategies, bytes };
}

/** A full GC now, where V8 allows it (--expose-gc made available at run time). */
let gc: (() => void) | undefined;
function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

/** CPU seconds per wall second of the whole process while the sim pipeline runs at `rate`. */
async function pipelineCpu(storage: Storage, log: Logger, rate: number, seconds: number, withRisk: boolean): Promise<number> {
  await storage.query('TRUNCATE greek_snapshots');
  const config = readAppConfig({ ...process.env, FLUSH_MAX_PENDING_ROWS: '50000' });
  const p = new Pipeline({ storage, config, log, journal: new MemoryJournal() });
  // Limits that the sim book breaches, so alerts really open and close during the run.
  const rules = parseRules('{"limits": [{"metric": "delta", "subject": "portfolio", "max": 1}, {"metric": "vega", "subject": "SPY", "max": 1}]}', 'bench');
  const risk = withRisk ? await startRisk(p, storage, log, { rules, benchmark: 'SPY' }) : undefined;
  await p.startActor({ id: 'sim', broker: 'sim', flags: { rate: String(rate), accounts: '2' } });
  await sleep(1000); // warm-up
  // The first evaluation loads the database inputs and compiles the risk code: a one-off start
  // cost, not the steady-state overhead the budget is about. It runs before the window opens.
  await risk?.service.evaluateNow();
  collectGarbage(); // the previous half's garbage is not this half's cost
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const c = process.cpuUsage(c0);
  const wall = (performance.now() - t0) / 1000;
  risk?.stop();
  await p.stop();
  return (c.user + c.system) / 1e6 / wall;
}

/** Alternating A (no risk service) / B (with it) pairs; the overhead is median(B) / median(A) − 1. */
export async function alertCpuAB(storage: Storage, log: Logger, rate: number, seconds: number, pairs: number) {
  const a: number[] = [];
  const b: number[] = [];
  // ABBA order: whichever half runs second inherits the first's garbage and a warmer JIT, so
  // the halves swap places every pair (with A always first, B paid for A's garbage: +10 pts).
  for (let i = 0; i < pairs; i++) {
    if (i % 2 === 0) {
      a.push(await pipelineCpu(storage, log, rate, seconds, false));
      b.push(await pipelineCpu(storage, log, rate, seconds, true));
    } else {
      b.push(await pipelineCpu(storage, log, rate, seconds, true));
      a.push(await pipelineCpu(storage, log, rate, seconds, false));
    }
  }
  const A = spreadOf(a);
  const B = spreadOf(b);
  // Each pair's own overhead too: on a shared machine the neighbours move both halves of a pair alike.
  const pairsPct = spreadOf(a.map((x, i) => (b[i]! / x - 1) * 100));
  return { rate, seconds, without: A, with: B, overheadPct: (B.median / A.median - 1) * 100, pairsPct, withinBudget: (B.median / A.median - 1) * 100 <= 5 };
}
