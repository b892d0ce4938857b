import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../src/api/coalesce.js';
import { CpuBudget, Gate } from '../../src/api/limits.js';
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
    const v = async (p: Promise<{ value: number }>) => (await p).value;
    let runs = 0;
    const d = deferred<number>();
    const compute = () => (runs++, d.promise);
    const a = c.get('k', compute);
    const b = c.get('k', compute);
    expect(runs).toBe(1);
    d.resolve(7);
    expect(await v(a)).toBe(7);
    expect(await v(b)).toBe(7);
    clock.advance(1000);
    expect(await v(c.get('k', async () => (runs++, 8)))).toBe(7); // still fresh at exactly ttl
    clock.advance(1);
    expect(await v(c.get('k', async () => (runs++, 9)))).toBe(9); // no staleMs: waits for the new one
    expect(await v(c.get('other', async () => (runs++, 1)))).toBe(1);
    expect(runs).toBe(3);
  });

  it('gives a failure to identical callers for ttlMs (no re-run), then computes again', async () => {
    const clock = new FakeClock();
    const c = new Coalescer<number>({ ttlMs: 1000, clock });
    await expect(c.get('k', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    let runs = 0;
    await expect(c.get('k', async () => (runs++, 2))).rejects.toThrow('boom');
    expect(runs).toBe(0);
    clock.advance(1001);
    expect((await c.get('k', async () => (runs++, 2))).value).toBe(2);
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
    expect((await c.get('k', async () => 2)).value).toBe(1);
    clock.advance(1);
    expect((await c.get('k', async () => 3)).value).toBe(3);
  });

  it('past fresh and within staleMs: the last answer at once (with its time) while one refresh runs; then the new one', async () => {
    const clock = new FakeClock();
    const c = new Coalescer<number>({ ttlMs: 1000, clock, staleMs: 30_000 });
    expect(await c.get('k', async () => 1)).toEqual({ value: 1, at: clock.now() });
    const first = clock.now();
    clock.advance(5000);
    let runs = 0;
    const d = deferred<number>();
    expect(await c.get('k', () => (runs++, d.promise))).toEqual({ value: 1, at: first }); // stale, refresh started
    expect(await c.get('k', () => (runs++, d.promise))).toEqual({ value: 1, at: first }); // one refresh only
    expect(runs).toBe(1);
    d.resolve(2);
    await d.promise;
    await Promise.resolve();
    expect((await c.get('k', async () => 3)).value).toBe(2);
    clock.advance(31_000 + 1000); // older than staleMs: waits for a new answer
    expect((await c.get('k', async () => 4)).value).toBe(4);
  });

  it('a failed refresh behind a stale answer keeps serving the stale one', async () => {
    const clock = new FakeClock();
    const c = new Coalescer<number>({ ttlMs: 1000, clock, staleMs: 30_000 });
    await c.get('k', async () => 1);
    clock.advance(2000);
    expect((await c.get('k', async () => { throw new Error('statement timeout'); })).value).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect((await c.get('k', async () => 5)).value).toBe(1); // stale again, refresh started
    await new Promise((r) => setImmediate(r));
    expect((await c.get('k', async () => 6)).value).toBe(5);
  });

  it('ttlMs 0 still shares the query in flight', async () => {
    const c = new Coalescer<number>({ ttlMs: 0, clock: new FakeClock() });
    let runs = 0;
    const d = deferred<number>();
    const p = [c.get('k', () => (runs++, d.promise)), c.get('k', () => (runs++, d.promise))];
    d.resolve(1);
    expect((await Promise.all(p)).map((x) => x.value)).toEqual([1, 1]);
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

  it('with restFactor: a lone request never waits; sustained use is held to 1/(1+restFactor) of a 10 s window', async () => {
    const clock = new FakeClock();
    const g = new Gate({ max: 1, queueMax: 5, waitMs: 60_000, clock, restFactor: 4 }); // 2 s of 10 s
    const r1 = await g.acquire();
    clock.advance(1500);
    r1(); // 1.5 s used: under the budget, the next one runs at once
    const r2 = await g.acquire();
    clock.advance(600);
    r2(); // 2.1 s used in the window: over
    let granted = false;
    const w3 = g.acquire().then((rel) => ((granted = true), rel));
    await clock.advanceAsync(7000, 500);
    expect(granted).toBe(false); // still 2.1 s inside the window
    await clock.advanceAsync(2000, 500); // the first hold leaves the window
    (await w3)();
    expect(granted).toBe(true);
  });
});

describe('CpuBudget (API_CPU_BUDGET_PCT: a token bucket on CPU spent, D96)', () => {
  it('earns pct % of a core per ms up to the burst, pays every CPU ms spent, and says when it is positive again', () => {
    const clock = new FakeClock();
    let cpu = 0;
    const b = new CpuBudget({ pct: 5, clock, cpuMs: () => cpu, burstMs: 100 });
    expect(b.balance).toBe(100);
    clock.advance(10_000); // idle: capped at the burst, not 100 + 500
    expect(b.balance).toBe(100);
    cpu += 150; // a burst of work: 50 ms in debt
    expect(b.available()).toBe(false);
    expect(b.waitMs()).toBe(1001); // 50 ms of CPU at 5 % of a core = 1 s of wall time (+1)
    clock.advance(999);
    expect(b.available()).toBe(false);
    clock.advance(2);
    expect(b.available()).toBe(true);
    expect(b.waitMs()).toBe(0);
  });

  it('in the Gate: no new slot while the bucket is in debt, even with slots free; the queued request starts once it is paid back', async () => {
    const clock = new FakeClock();
    let cpu = 0;
    const g = new Gate({ max: 16, queueMax: 5, waitMs: 60_000, clock, cpu: new CpuBudget({ pct: 10, clock, cpuMs: () => cpu, burstMs: 100 }) });
    const r1 = await g.acquire(); // a lone request within the burst never waits
    cpu += 300; // it cost 300 ms of CPU: 200 ms in debt = 2 s at 10 %
    r1();
    let granted = false;
    const w2 = g.acquire().then((rel) => ((granted = true), rel));
    await clock.advanceAsync(1900, 100);
    expect([granted, g.inFlight, g.queued]).toEqual([false, 0, 1]);
    await clock.advanceAsync(300, 100);
    (await w2)();
    expect(granted).toBe(true);
  });

  it('in the Gate: the budget delays but never refuses: a request it held for half of waitMs starts anyway', async () => {
    const clock = new FakeClock();
    let cpu = 0;
    const g = new Gate({ max: 16, queueMax: 5, waitMs: 2000, clock, cpu: new CpuBudget({ pct: 1, clock, cpuMs: () => cpu, burstMs: 10 }) });
    (await g.acquire())();
    cpu += 1000; // deep in debt: 1 s of CPU at 1 % would take 100 s to earn back
    let granted = false;
    const w = g.acquire().then((rel) => ((granted = true), rel), (why: unknown) => why);
    await clock.advanceAsync(900, 100);
    expect(granted).toBe(false);
    await clock.advanceAsync(200, 100); // waited 1 s = half of waitMs
    expect(granted).toBe(true);
    expect(typeof (await w)).toBe('function');
  });

  it('keeps the debt to what 10 s earn: after a flood, pacing ends within BUDGET_WINDOW_MS', () => {
    const clock = new FakeClock();
    let cpu = 0;
    const b = new CpuBudget({ pct: 2, clock, cpuMs: () => cpu, burstMs: 100 });
    cpu += 60_000; // a minute of CPU spent while requests were let through past the budget
    expect(b.balance).toBe(-200); // 10 s × 2 % of a core
    clock.advance(10_011);
    expect(b.available()).toBe(true);
  });
});
