/** Shared setup for TWS integration tests: a simulator on port 0 and a real @stoqey/ib stream to it. */
import pino from 'pino';
import { systemClock } from '../../src/core/clock.js';
import type { BrokerEvent, GreeksEvent } from '../../src/core/types.js';
import { parseIbkrConfig } from '../../src/brokers/ibkr/config.js';
import { startTwsSimulator, type SentGreeks, type TwsSimulator, type TwsSimulatorOptions } from '../../src/brokers/ibkr/sim/tws/index.js';
import { createTwsStream, type TwsStreamOptions } from '../../src/brokers/ibkr/tws/stream.js';
import type { BrokerStream } from '../../src/brokers/types.js';
import { waitFor } from '../helpers/wait.js';

export { waitFor };

export interface TwsRig {
  sim: TwsSimulator;
  stream: BrokerStream;
  events: BrokerEvent[];
  greeks(): GreeksEvent[];
  states(): string[];
  close(): Promise<void>;
}

export async function startTwsRig(opts: { sim?: TwsSimulatorOptions; env?: Record<string, string>; stream?: TwsStreamOptions; emit?: (e: BrokerEvent) => void } = {}): Promise<TwsRig> {
  const sim = await startTwsSimulator({ intervalMs: 0, ...opts.sim });
  const events: BrokerEvent[] = [];
  const config = parseIbkrConfig({ IBKR_TRANSPORT: 'tws', IBKR_TWS_PORT: String(sim.port), IBKR_CLIENT_ID: '11', ...opts.env });
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const stream = createTwsStream(config, {
    emit: (e) => {
      events.push(e);
      opts.emit?.(e);
    },
    log,
    clock: systemClock,
  }, { backoff: { baseMs: 50, maxMs: 500 }, ...opts.stream });
  await stream.start();
  await waitFor(() => sim.liveContracts().length === sim.contracts.length, 'every option subscribed');
  return {
    sim, stream, events,
    greeks: () => events.filter((e): e is GreeksEvent => e.kind === 'greeks'),
    states: () => events.filter((e) => e.kind === 'state').map((e) => (e as { state: string }).state),
    async close() {
      await stream.stop();
      await sim.close();
    },
  };
}

export const sentSignature = (g: SentGreeks) => [g.contractKey, g.iv, g.delta, g.gamma, g.vega, g.theta, g.optPrice, g.undPrice].join('|');
export const eventSignature = (g: GreeksEvent) => [g.contractKey, g.iv, g.delta, g.gamma, g.vega, g.theta, g.mark, g.underlyingPrice].join('|');

export function sentSet(sim: TwsSimulator): Set<string> {
  return new Set([...sim.sentGreeks().values()].flat().map(sentSignature));
}

/** Distinct updates the stream emitted, by dedupe key (duplicates share a key). */
export function emittedByKey(greeks: GreeksEvent[]): Map<string, string> {
  const byKey = new Map<string, string>();
  for (const g of greeks) byKey.set(`${g.contractKey}|${g.eventTs}|${g.seq}`, eventSignature(g));
  return byKey;
}

/** Ticks rounds until the stream has emitted at least `n` more greeks events. */
export async function tickUntilGreeks(rig: TwsRig, n: number, what: string): Promise<void> {
  const target = rig.greeks().length + n;
  await waitFor(() => {
    rig.sim.tick();
    return rig.greeks().length >= target;
  }, what);
}
