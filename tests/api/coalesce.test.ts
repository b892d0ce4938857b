import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../src/api/coalesce.js';
import { Gate } from '../../src/api/limits.js';
import { FakeClock } from '../helpers/fake-clock.js';

const deferred = <T>() => {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

describe('Coalescer (identical timeline requests share one query)', () => {
  it('shares the query in flight and its result for ttlMs, then computes again; other keys are separate', async () => {
    const clock = new FakeClock();
    const c = new Coalescer<number>({ ttlMs: 1000, clock });
    let runs = 0;
    const d = deferred<number>();
    const compute = () => (runs++, d.promise);
    const a = c.get('k', compute);
    const b = c.get('k', compute);
    expect(runs).toBe(1);
    d.resolve(7);
    expect(await a).toBe(7);
    expect(await b).toBe(7);
    clock.advance(1000);
    expect(await c.get('k', async () => (runs++, 8))).toBe(7); // still fresh at exactly ttl
    clock.advance(1);
    expect(await c.get('k', async () => (runs++, 9))).toBe(9);
    expect(await c.get('other', async () => (runs++, 1))).toBe(1);
    expect(runs).toBe(3);
  });

  it('does not keep a failure: the next caller computes again', async () => {
    const c = new Coalescer<number>({ ttlMs: 1000, clock: new FakeClock() });
    await expect(c.get('k', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await c.get('k', async () => 2)).toBe(2);
  });

  it('keeps a result costFactor × its computing time when that is longer than ttlMs', async () => {
    const clock = new FakeClock();
    const c = new Coalescer<number>({ ttlMs: 1000, clock, costFactor: 4 });
    const d = deferred<number>();
    const first = c.get('k', () => d.promise);
    clock.advance(2000); // the query took 2 s
    d.resolve(1);
    await first;
    clock.advance(8000); // kept 4 × 2 s
    expect(await c.get('k', async () => 2)).toBe(1);
    clock.advance(1);
    expect(await c.get('k', async () => 3)).toBe(3);
  });

  it('ttlMs 0 still shares the query in flight', async () => {
    const c = new Coalescer<number>({ ttlMs: 0, clock: new FakeClock() });
    let runs = 0;
    const d = deferred<number>();
    const p = [c.get('k', () => (runs++, d.promise)), c.get('k', () => (runs++, d.promise))];
    d.resolve(1);
    expect(await Promise.all(p)).toEqual([1, 1]);
    expect(runs).toBe(1);
  });
});

describe('Gate (the concurrency limit with a bounded queue)', () => {
  it('grants up to max, queues FIFO up to queueMax, refuses past it, and a wait past waitMs', async () => {
    const clock = new FakeClock();
    const g = new Gate({ max: 1, queueMax: 2, waitMs: 100, clock });
    const r1 = await g.acquire();
    const order: string[] = [];
    const w2 = g.acquire().then((rel) => (order.push('2'), rel));
    const w3 = g.acquire().then((rel) => (order.push('3'), rel));
    await expect(g.acquire()).rejects.toBe('queue_full');
    expect([g.inFlight, g.queued]).toEqual([1, 2]);
    r1();
    r1(); // a second release is ignored
    const r2 = await w2;
    expect([g.inFlight, g.queued]).toEqual([1, 1]);
    clock.advance(100); // 3 waited too long
    await expect(w3).rejects.toBe('queue_timeout');
    expect(order).toEqual(['2']);
    r2();
    expect([g.inFlight, g.queued]).toEqual([0, 0]);
  });

  it('with restFactor a slot held D ms comes back restFactor × D ms after its release', async () => {
    const clock = new FakeClock();
    const g = new Gate({ max: 1, queueMax: 5, waitMs: 10_000, clock, restFactor: 4 });
    const r1 = await g.acquire();
    let granted = false;
    const w2 = g.acquire().then((rel) => ((granted = true), rel));
    clock.advance(100); // held 100 ms
    r1();
    clock.advance(399);
    await Promise.resolve();
    expect(granted).toBe(false); // resting
    clock.advance(1);
    (await w2)();
    expect(granted).toBe(true);
  });
});
