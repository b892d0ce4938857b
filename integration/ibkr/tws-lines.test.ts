/**
 * A TWS book bigger than the line allowance, against the simulator enforcing it (error 101 past
 * 100 simultaneous lines, error 100 past its request rate): lines rotate so that every contract
 * gets Greeks, the client never holds more lines than allowed, and status reports the rotation.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import type { BrokerEvent, GreeksEvent } from '../../src/core/types.js';
import { parseIbkrConfig } from '../../src/brokers/ibkr/config.js';
import { startTwsSimulator, type TwsSimulator } from '../../src/brokers/ibkr/sim/tws/index.js';
import { createTwsStream } from '../../src/brokers/ibkr/tws/stream.js';
import type { BrokerStream } from '../../src/brokers/types.js';
import type { LineStats } from '../../src/brokers/ibkr/tws/lines.js';
import { bigBook } from '../../src/brokers/tasty/sim/index.js';
import { waitFor } from '../helpers/wait.js';

let sim: TwsSimulator | undefined;
let stream: BrokerStream | undefined;
afterEach(async () => {
  await stream?.stop();
  await sim?.close();
  sim = stream = undefined;
});

async function rig(contracts: number, simKnobs: { lineLimit: number; maxRequestsPerSec: number }, env: Record<string, string>) {
  sim = await startTwsSimulator({ intervalMs: 50, contracts: bigBook(contracts, 1).contracts, accounts: ['DU1000001'], knobs: simKnobs });
  const events: BrokerEvent[] = [];
  const config = parseIbkrConfig({ IBKR_TRANSPORT: 'tws', IBKR_TWS_PORT: String(sim.port), IBKR_CLIENT_ID: '12', ...env });
  stream = createTwsStream(config, { emit: (e) => void events.push(e), log: pino({ level: 'silent' }), clock: systemClock });
  await stream.start();
  const lines = () => stream!.health().details?.lines as LineStats;
  const withGreeks = () => new Set(events.filter((e): e is GreeksEvent => e.kind === 'greeks').map((g) => g.contractKey));
  return { sim, lines, withGreeks };
}

describe('TWS line rotation (300 contracts, 100 lines)', () => {
  it('rotates: every contract gets Greeks each cycle, never more than 100 lines, no 101 or pacing error; status reports it', async () => {
    const r = await rig(300, { lineLimit: 100, maxRequestsPerSec: 400 }, { IBKR_TWS_MAX_LINES: '100', IBKR_TWS_MAX_REQUESTS_PER_SEC: '300' });
    await waitFor(() => r.lines().cycles >= 1, 'a full rotation cycle', 20_000);
    expect(r.withGreeks().size).toBe(300);
    const s = r.lines();
    expect(s).toMatchObject({ mode: 'rotate', contracts: 300, lines: 100, contractsWithGreeks: 300, refused: 0 });
    expect(s.refreshS).toBeGreaterThan(0);
    expect(s.openLines).toBeLessThanOrEqual(100);
    const st = r.sim.stats();
    expect(st.peakLines).toBe(100);
    expect(st.error101).toBe(0);
    expect(st.error100).toBe(0);
    expect(st.requests.reqMktData).toBeGreaterThan(300); // lines were handed on
  });

  it('a client configured for more lines than TWS gives adapts on 101 and still covers the book', async () => {
    const r = await rig(60, { lineLimit: 20, maxRequestsPerSec: 400 }, { IBKR_TWS_MAX_LINES: '30', IBKR_TWS_MAX_REQUESTS_PER_SEC: '300' });
    await waitFor(() => r.lines().cycles >= 1 && r.withGreeks().size === 60, 'a cycle over all 60 contracts', 20_000);
    expect(r.sim.stats().error101).toBeGreaterThanOrEqual(1);
    expect(r.sim.stats().peakLines).toBe(20);
    expect(r.lines()).toMatchObject({ mode: 'rotate', lines: 20, contracts: 60 });
    expect(r.lines().refused).toBeGreaterThanOrEqual(1);
  });
});
