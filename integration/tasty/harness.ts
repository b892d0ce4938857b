/** Shared set-up for tasty integration tests: simulator + real plugin (real SDKs), events collected. */
import pino from 'pino';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { FakeClock } from '../../tests/helpers/fake-clock.js';
import type { BrokerEvent, GreeksEvent } from '../../src/core/types.js';
import { parseTastyConfig, type TastyConfig } from '../../src/brokers/tasty/config.js';
import { TastyStream } from '../../src/brokers/tasty/stream.js';
import { startTastySimulator, type TastySimulator, type TastySimulatorOptions } from '../../src/brokers/tasty/sim/index.js';

export const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Polls until cond() is true; generous deadline for a loaded 2-core machine. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface Harness {
  sim: TastySimulator;
  stream: TastyStream;
  config: TastyConfig;
  clock: Clock;
  events: BrokerEvent[];
  greeks(): GreeksEvent[];
  stop(): Promise<void>;
}

export async function startHarness(opts: { sim?: TastySimulatorOptions; env?: Record<string, string>; clock?: Clock; emit?: (e: BrokerEvent) => void } = {}): Promise<Harness> {
  const sim = await startTastySimulator(opts.sim);
  const config = parseTastyConfig({ ...sim.env, ...opts.env });
  const clock = opts.clock ?? systemClock;
  const events: BrokerEvent[] = [];
  const stream = new TastyStream(config, {
    emit: (e) => {
      events.push(e);
      opts.emit?.(e);
    },
    log,
    clock,
  });
  return {
    sim,
    stream,
    config,
    clock,
    events,
    greeks: () => events.filter((e): e is GreeksEvent => e.kind === 'greeks'),
    async stop() {
      await stream.stop();
      await sim.close();
    },
  };
}

/**
 * Advances fake time in steps until cond() holds (checked synchronously after each step), so
 * that time stops as soon as the code under test has started something asynchronous (e.g. a
 * REST call) and its own fake timeouts cannot fire before the real answer arrives.
 */
export function advanceUntil(clock: FakeClock, cond: () => boolean, maxMs: number, stepMs = 1_000): void {
  for (let t = 0; t < maxMs && !cond(); t += stepMs) clock.advance(stepMs);
  if (!cond()) throw new Error(`condition not reached within ${maxMs} ms of fake time`);
}

export const restRequests = (h: Harness) => Number(h.stream.health().details?.restRequests);

export const greeksKey = (contractKey: string, time: number, seq: number) => `${contractKey}|${time}|${seq}`;

export { FakeClock };
