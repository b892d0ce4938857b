/**
 * The same futures contracts at Tastytrade and IBKR (Client Portal and TWS) get the same keys
 * (interface.md: `/ESH7`, `./ESH7 EW3G7 270219C5350`), against the three simulators with the
 * real client libraries (@tastytrade/api, the gateway's REST + WebSocket, @stoqey/ib). Each
 * simulator writes the book in its own wire form (Tastytrade instrument symbols; gateway
 * rows without a local symbol; TWS FUT/FOP contracts with local symbols and trading classes).
 * The futures options stream Greeks with multiplier 50 at every broker.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BrokerEvent, GreeksEvent, Position, PositionsEvent } from '../../src/core/types.js';
import { futuresBook } from '../../src/brokers/simfutures.js';
import { startHarness, type Harness } from '../tasty/harness.js';
import { startRig, type Rig } from '../ibkr/cpapi-helpers.js';
import { startTwsRig, type TwsRig } from '../ibkr/tws-helpers.js';
import { waitFor } from '../helpers/wait.js';

const positionsOf = (events: BrokerEvent[]): Position[] => {
  // The newest set per account.
  const last = new Map<string, Position[]>();
  for (const e of events) if (e.kind === 'positions') last.set((e as PositionsEvent).account, (e as PositionsEvent).positions);
  return [...last.values()].flat();
};
const futuresOf = (ps: Position[]) => ps.filter((p) => p.contractKey.startsWith('/') || p.contractKey.startsWith('./'))
  .map((p) => ({ contractKey: p.contractKey, underlying: p.underlying, multiplier: p.multiplier, quantity: p.quantity, assetClass: p.assetClass }))
  .sort((a, b) => a.contractKey.localeCompare(b.contractKey));
const greekKeys = (events: BrokerEvent[]) => new Set(events.filter((e): e is GreeksEvent => e.kind === 'greeks').map((g) => g.contractKey));

let tasty: Harness;
let cp: Rig;
let tws: TwsRig;

beforeAll(async () => {
  tasty = await startHarness({ sim: { futures: true, dxlink: { tickMs: 20 } }, env: { MARKET_METRICS_POLL_MS: '0' } });
  await tasty.stream.start();
  cp = await startRig({ futures: true });
  tws = await startTwsRig({ sim: { futures: true, intervalMs: 50 } });
});

afterAll(async () => {
  await Promise.all([tasty?.stop(), cp?.stop(), tws?.close()]);
});

it('keys the future and its options identically at Tastytrade, IBKR Client Portal and IBKR TWS', async () => {
  const fb = futuresBook(Date.now());
  const fops = fb.options.map((o) => o.key);
  const all = [tasty.events, cp.events, tws.events];
  await waitFor(() => all.every((ev) => fops.every((k) => greekKeys(ev).has(k))), 'FOP greeks at all three', 20_000);

  const [t, c, w] = all.map((ev) => futuresOf(positionsOf(ev)));
  expect(t.map((p) => p.contractKey)).toEqual([fb.future.key, ...fops].sort());
  expect(c).toEqual(t);
  expect(w).toEqual(t);
  // The shapes interface.md names, multiplier 50 everywhere (never Tastytrade's FOP instrument 1.0).
  expect(t.find((p) => p.assetClass === 'future')).toMatchObject({ contractKey: expect.stringMatching(/^\/ES[HMUZ]\d$/), multiplier: 50, underlying: fb.future.key });
  for (const k of fops) expect(k).toMatch(/^\.\/ES[HMUZ]\d EW3[FGHJKMNQUVXZ]\d \d{6}[CP]\d+$/);
  for (const p of t.filter((x) => x.contractKey.startsWith('./'))) expect(p).toMatchObject({ multiplier: 50, assetClass: 'option', underlying: fb.future.key });

  // Greeks of a put are negative-delta at every broker, under the same key and underlying.
  const put = fb.options.find((o) => o.right === 'P')!.key;
  for (const ev of all) {
    const g = ev.filter((e): e is GreeksEvent => e.kind === 'greeks' && e.contractKey === put).at(-1)!;
    expect(g.underlying).toBe(fb.future.key);
    expect(g.delta).toBeLessThan(0);
  }
});
