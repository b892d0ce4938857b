/**
 * The Supervisor's restart policy on fake time, with fake workers behind the WorkerHost seam:
 * crash → backoff (500 ms doubling to 30 s, equal jitter pinned here) → restart; a stable run
 * resets the backoff; a missed ping kills the worker; stop cancels a pending restart.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { Supervisor } from '../../src/actors/supervisor.js';
import type { WorkerHost, WorkerLaunch, WorkerRun } from '../../src/actors/worker-host.js';
import type { StreamHealth } from '../../src/brokers/types.js';
import { emptyHealth } from '../../src/brokers/types.js';

type Behaviour = { start: 'ok' | 'fail' | 'hang'; status: 'ok' | 'hang' };

class FakeRun implements WorkerRun {
  abortReason: string | null = null;
  closed = false;
  private settle!: { resolve: (v: unknown) => void; reject: (e: unknown) => void };
  readonly task = new Promise<unknown>((resolve, reject) => (this.settle = { resolve, reject }));
  readonly ended = new Promise<void>(() => {});
  readonly control;
  constructor(readonly launch: WorkerLaunch, b: Behaviour) {
    const never = new Promise<never>(() => {});
    this.control = {
      start: async () => {
        if (b.start === 'fail') throw new Error('bad credentials');
        if (b.start === 'hang') return never;
      },
      stop: async () => void this.settle.resolve(undefined),
      status: async (): Promise<StreamHealth> => (b.status === 'hang' ? never : emptyHealth()),
      resubscribe: async () => {},
      setWatchlist: async () => {},
      inject: async () => {},
    };
    this.task.catch(() => {});
  }
  crash(message = 'worker crashed'): void {
    this.settle.reject(new Error(message));
  }
  kill(reason: string): void {
    this.abortReason ??= reason;
    this.settle.reject(new Error('The task has been aborted'));
  }
  close(): void {
    this.closed = true;
  }
}

function rig(opts: { random?: number; behaviour?: Partial<Behaviour>; stableAfterMs?: number } = {}) {
  const clock = new FakeClock();
  const runs: FakeRun[] = [];
  const behaviour: Behaviour = { start: 'ok', status: 'ok', ...opts.behaviour };
  let slotsDestroyed = 0;
  const host: WorkerHost = {
    open: () => ({
      launch: (l) => {
        const r = new FakeRun(l, { ...behaviour });
        runs.push(r);
        return r;
      },
      destroy: async () => void slotsDestroyed++,
    }),
  };
  const sup = new Supervisor({
    sink: () => {}, log: pino({ level: 'silent' }), clock, host, random: () => opts.random ?? 1,
    pingIntervalMs: 1_000, pingTimeoutMs: 3_000, startTimeoutMs: 10_000, stopTimeoutMs: 1_000, stableAfterMs: opts.stableAfterMs ?? 60_000,
  });
  const status = () => sup.status()[0];
  const settle = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  const advance = async (ms: number) => {
    clock.advance(ms);
    await settle();
  };
  return { clock, runs, sup, status, settle, advance, behaviour, destroyed: () => slotsDestroyed };
}

describe('Supervisor restart policy (fake workers, fake time)', () => {
  it('restarts a crashed actor after the backoff delay, not before', async () => {
    const r = rig({ random: 1 });
    await r.sup.start({ id: 'a', broker: 'sim' });
    expect(r.status()).toMatchObject({ phase: 'running', restarts: 0 });
    r.runs[0].crash();
    await r.settle();
    expect(r.status()).toMatchObject({ phase: 'backoff', restarts: 1, state: 'disconnected', lastError: 'worker crashed', nextRestartAt: r.clock.now() + 500 });
    expect(r.runs[0].closed).toBe(true);
    await r.advance(499);
    expect(r.runs).toHaveLength(1);
    await r.advance(1);
    expect(r.runs).toHaveLength(2);
    expect(r.status()).toMatchObject({ phase: 'running', nextRestartAt: null, lastError: null });
  });

  it('doubles the delay per consecutive failure up to 30 s, with the jitter drawn from the injected randomness', async () => {
    const r = rig({ random: 0 }); // equal jitter's lower bound: d/2
    await r.sup.start({ id: 'a', broker: 'sim' });
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      r.runs.at(-1)!.crash();
      await r.settle();
      const s = r.status();
      delays.push(s.nextRestartAt! - r.clock.now());
      await r.advance(s.nextRestartAt! - r.clock.now());
    }
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
    expect(r.status().restarts).toBe(9);
  });

  it('an actor that ran stable past stableAfterMs starts again from the base delay', async () => {
    const r = rig({ random: 1, stableAfterMs: 5_000 });
    await r.sup.start({ id: 'a', broker: 'sim' });
    for (let i = 0; i < 3; i++) {
      r.runs.at(-1)!.crash();
      await r.settle();
      await r.advance(r.status().nextRestartAt! - r.clock.now());
    }
    r.runs.at(-1)!.crash();
    await r.settle();
    expect(r.status().nextRestartAt! - r.clock.now()).toBe(4_000); // fourth failure in a row
    await r.advance(4_000);
    for (let i = 0; i < 6; i++) await r.advance(1_000); // pings answered for 6 s > stableAfterMs
    r.runs.at(-1)!.crash();
    await r.settle();
    expect(r.status().nextRestartAt! - r.clock.now()).toBe(500);
  });

  it('kills a worker that misses its ping and restarts it', async () => {
    const r = rig({ random: 1, behaviour: { status: 'hang' } });
    await r.sup.start({ id: 'a', broker: 'sim' });
    await r.advance(1_000); // first ping sent
    await r.advance(2_999);
    expect(r.status().phase).toBe('running');
    await r.advance(1);
    expect(r.runs[0].abortReason).toMatch(/^unresponsive: status timed out after 3000 ms/);
    expect(r.status()).toMatchObject({ phase: 'backoff', restarts: 1 });
    expect(r.status().lastError).toMatch(/^unresponsive/);
  });

  it('a start that fails kills the run and backs off', async () => {
    const r = rig({ random: 1, behaviour: { start: 'fail' } });
    await r.sup.start({ id: 'a', broker: 'sim' });
    await r.settle();
    expect(r.runs[0].abortReason).toBe('bad credentials');
    expect(r.status()).toMatchObject({ phase: 'backoff', restarts: 1, everStarted: false, lastError: 'bad credentials' });
  });

  it('stop during backoff cancels the restart and destroys the slot', async () => {
    const r = rig({ random: 1 });
    await r.sup.start({ id: 'a', broker: 'sim' });
    r.runs[0].crash();
    await r.settle();
    expect(r.status().phase).toBe('backoff');
    await r.sup.stop('a');
    expect(r.status()).toMatchObject({ phase: 'stopped', state: 'stopped', nextRestartAt: null });
    expect(r.destroyed()).toBe(1);
    await r.advance(60_000);
    expect(r.runs).toHaveLength(1);
    expect(r.clock.pending()).toBe(0);
  });

  it('a clean stop of a running actor is not a restart', async () => {
    const r = rig();
    await r.sup.start({ id: 'a', broker: 'sim' });
    const stopping = r.sup.stop('a');
    await r.advance(1_000); // the end marker never comes: stop waits stopTimeoutMs at most
    await stopping;
    await r.settle();
    expect(r.status()).toMatchObject({ phase: 'stopped', restarts: 0 });
    expect(r.runs[0].closed).toBe(true);
  });
});
