import { afterEach, describe, expect, it } from 'vitest';
import type { PositionsEvent, QuoteEvent } from '../../src/core/types.js';
import { emittedByKey, sentSet, startTwsRig, waitFor, type TwsRig } from './tws-helpers.js';

let rig: TwsRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('tws stream ↔ TWS simulator (real @stoqey/ib over loopback)', () => {
  it('publishes the positions of every account with canonical keys; the SPY 500 call is held in both', async () => {
    rig = await startTwsRig();
    const positions = rig.events.filter((e): e is PositionsEvent => e.kind === 'positions');
    const [a1, a2] = rig.sim.accounts;
    const keysOf = (acct: string) => positions.filter((p) => p.account === acct).at(-1)!.positions.map((p) => p.contractKey).sort();
    expect(keysOf(a1)).toEqual(rig.sim.contracts.map((c) => c.contractKey).sort());
    const spyCall = rig.sim.contracts[0].contractKey;
    expect(spyCall).toMatch(/^SPY   \d{6}C00500000$/);
    expect(keysOf(a2)).toEqual([spyCall, 'SPY'].sort());
    expect(rig.sim.contracts.some((c) => c.contractKey.startsWith('SPXW  '))).toBe(true);
    expect(rig.sim.stats().requests.reqMktData).toBe(rig.sim.contracts.length);
    expect(rig.stream.health()).toMatchObject({ state: 'connected', subscriptions: rig.sim.contracts.length });
  });

  it('emits exactly the greeks the simulator sent, with duplicates and out-of-order delivery on', async () => {
    rig = await startTwsRig({ sim: { knobs: { duplicates: 0.4, outOfOrder: 0.3 } } });
    for (let i = 0; i < 30; i++) rig.sim.tick();
    const sent = sentSet(rig.sim);
    expect(sent.size).toBeGreaterThan(100);
    await waitFor(() => new Set(emittedByKey(rig!.greeks()).values()).size >= sent.size, 'all sent greeks to arrive');
    const byKey = emittedByKey(rig.greeks());
    // One dedupe key per distinct update, and the distinct updates are exactly what was sent.
    expect(byKey.size).toBe(sent.size);
    expect(new Set(byKey.values())).toEqual(sent);
    // Duplicates on the wire were emitted again under the same key (for the processor to count), never a new one.
    expect(rig.greeks().length).toBeGreaterThan(byKey.size);
    expect((rig.stream.health().details as { duplicates: number }).duplicates).toBe(rig.greeks().length - byKey.size);
    for (const g of rig.greeks()) {
      expect(g.account).toBeUndefined();
      expect(g.iv).toBeGreaterThan(0.01);
      expect(g.iv).toBeLessThan(2); // a fraction, not percent
    }
  });

  it('emits bid/ask/last quotes keyed by contract key', async () => {
    rig = await startTwsRig();
    rig.sim.tick();
    const key = rig.sim.contracts[0].contractKey;
    const quote = await waitFor(() => rig!.events.find((e): e is QuoteEvent => e.kind === 'quote' && e.key === key && e.last != null), 'a full quote');
    expect(quote).toMatchObject({ broker: 'ibkr', key });
    expect(quote!.bid).toBeLessThan(quote!.ask!);
  });

  it('counts malformed frames from TWS and keeps streaming', async () => {
    rig = await startTwsRig();
    await waitFor(() => {
      rig!.sim.tick();
      return rig!.greeks().length > 0;
    }, 'first greeks');
    for (const kind of ['truncated', 'unknown-id', 'not-a-number', 'bad-json'] as const) rig.sim.sendMalformed(kind);
    await waitFor(() => rig!.stream.health().malformed >= 4, 'four malformed counted');
    const before = rig.greeks().length;
    await waitFor(() => {
      rig!.sim.tick();
      return rig!.greeks().length > before + 5;
    }, 'greeks after the malformed frames');
    expect(rig.stream.health().malformed).toBe(4);
    expect(rig.events.filter((e) => e.kind === 'malformed')).toHaveLength(4);
    expect(rig.stream.health().state).toBe('connected');
    expect(rig.sim.stats().connections).toBe(1);
  });
});
