/** Shared helpers of the cpapi integration tests: a stream wired to a simulator, polling waits. */
import pino from 'pino';
import { systemClock } from '../../src/core/clock.js';
import type { BrokerEvent, GreeksEvent } from '../../src/core/types.js';
import { parseIbkrConfig } from '../../src/brokers/ibkr/config.js';
import { createCpapiStream, type CpapiStreamOptions } from '../../src/brokers/ibkr/cpapi/stream.js';
import { startCpapiSimulator, type CpapiSimOptions, type CpapiSimulator } from '../../src/brokers/ibkr/sim/cpapi/index.js';
import type { BrokerStream } from '../../src/brokers/types.js';

export const silentLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Polls `cond` every 20 ms until it holds; throws with `what` after a generous deadline. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface Rig {
  sim: CpapiSimulator;
  stream: BrokerStream;
  events: BrokerEvent[];
  greeks(): GreeksEvent[];
  stop(): Promise<void>;
}

export async function startRig(
  simOpts: CpapiSimOptions,
  env: Record<string, string> = {},
  streamOpts: CpapiStreamOptions = {},
  emit?: (e: BrokerEvent) => void,
): Promise<Rig> {
  const sim = await startCpapiSimulator({ rateMs: 40, hbMs: 200, ...simOpts });
  const events: BrokerEvent[] = [];
  const config = parseIbkrConfig({ IBKR_GATEWAY_URL: sim.url, IBKR_TLS_INSECURE: '1', IBKR_HEARTBEAT_MS: '300', ...env });
  const stream = createCpapiStream(config, {
    emit: (e) => {
      events.push(e);
      emit?.(e);
    },
    log: silentLog,
    clock: systemClock,
  }, { silenceMs: 3000, backoffBaseMs: 50, backoffMaxMs: 500, ...streamOpts });
  await stream.start();
  return {
    sim,
    stream,
    events,
    greeks: () => events.filter((e): e is GreeksEvent => e.kind === 'greeks'),
    async stop() {
      await stream.stop();
      await sim.close();
    },
  };
}

/** One comparable line per greeks update: contract, event time and values. */
export const greeksLine = (g: { contractKey: string; eventTs: number; iv: number | null; delta: number | null; gamma: number | null; theta: number | null; vega: number | null }) =>
  [g.contractKey, g.eventTs, g.iv, g.delta, g.gamma, g.theta, g.vega].join('|');
