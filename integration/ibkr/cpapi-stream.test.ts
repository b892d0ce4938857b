import { afterEach, describe, expect, it } from 'vitest';
import { greeksLine, startRig, waitFor, type Rig } from './cpapi-helpers.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

/** Lets the simulator fall silent, then waits until the client has every update it recorded. */
async function settle(r: Rig): Promise<void> {
  r.sim.knobs.silent = true;
  await new Promise((res) => setTimeout(res, 150));
  const want = new Set(r.sim.greeksSent().map(greeksLine));
  await waitFor(() => {
    const got = new Set(r.greeks().map(greeksLine));
    return [...want].every((l) => got.has(l));
  }, 'every recorded greeks update to arrive');
}

describe('cpapi stream against the simulated gateway (https, self-signed)', () => {
  it('serves TLS with a self-signed certificate that is accepted only with IBKR_TLS_INSECURE', async () => {
    rig = await startRig({});
    expect(rig.sim.tls).toBe(true);
    const { createCpapiStream } = await import('../../src/brokers/ibkr/cpapi/stream.js');
    const { parseIbkrConfig } = await import('../../src/brokers/ibkr/config.js');
    const { systemClock } = await import('../../src/core/clock.js');
    const strict = createCpapiStream(parseIbkrConfig({ IBKR_GATEWAY_URL: rig.sim.url, IBKR_TLS_INSECURE: '0' }), {
      emit: () => {}, log: (await import('./cpapi-helpers.js')).silentLog, clock: systemClock,
    });
    await expect(strict.start()).rejects.toThrow(/certificate/i);
    await strict.stop();
  });

  it('emits positions for both accounts, with SPXW and the shared SPY 500 call', async () => {
    rig = await startRig({});
    const positions = rig.events.filter((e) => e.kind === 'positions');
    expect(positions.map((p) => p.kind === 'positions' && p.account).sort()).toEqual(['DU1234567', 'DU7654321']);
    const keys = positions.flatMap((p) => (p.kind === 'positions' ? p.positions.map((x) => x.contractKey) : []));
    expect(keys.filter((k) => k.startsWith('SPY   ') && k.endsWith('C00500000'))).toHaveLength(2);
    expect(keys.some((k) => k.startsWith('SPXW  ') && k.endsWith('P05000000'))).toBe(true);
  });

  it('delivers exactly the greeks updates the gateway sent: none missing, none extra, IV as a fraction', async () => {
    rig = await startRig({ duplicates: 0.2, outOfOrder: 0.1 });
    await waitFor(() => rig!.sim.greeksSent().length >= 60, '60 unique greeks updates');
    await settle(rig);
    const sent = rig.sim.greeksSent();
    const got = new Map<string, string>();
    for (const g of rig.greeks()) {
      const id = `${g.contractKey}|${g.eventTs}|${g.seq}`;
      // Same dedupe key must mean the same values, or the processor would drop a real update.
      if (got.has(id)) expect(got.get(id)).toBe(greeksLine(g));
      got.set(id, greeksLine(g));
    }
    expect([...got.values()].sort()).toEqual(sent.map(greeksLine).sort());
    expect(sent.length).toBeGreaterThanOrEqual(60);
    // The knobs did bite: some updates came twice and some arrived after a newer one.
    expect(rig.greeks().length).toBeGreaterThan(got.size);
    const newest = new Map<string, number>();
    let late = 0;
    for (const g of rig.greeks()) {
      if (g.eventTs < (newest.get(g.contractKey) ?? 0)) late++;
      newest.set(g.contractKey, Math.max(g.eventTs, newest.get(g.contractKey) ?? 0));
    }
    expect(late).toBeGreaterThan(0);
    // "24.5%" on the wire is 0.245 here.
    expect(rig.greeks().every((g) => g.iv !== null && g.iv > 0.05 && g.iv < 1.6)).toBe(true);
  });

  it('quotes the underlyings by symbol and the options by contract key', async () => {
    rig = await startRig({});
    await waitFor(() => ['SPY', 'SPX', 'AAPL', 'QQQ'].every((s) => rig!.events.some((e) => e.kind === 'quote' && e.key === s)), 'underlying quotes');
    const q = rig.events.find((e) => e.kind === 'quote' && e.key === 'SPY');
    expect(q).toMatchObject({ broker: 'ibkr' });
    expect(rig.events.some((e) => e.kind === 'quote' && /^SPY   \d{6}C00500000$/.test(e.key))).toBe(true);
  });
});
