import pino from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { DEFAULT_FLUSH, Flusher, type FlushOptions } from '../../src/core/flushPolicy.js';
import { MemoryJournal } from '../../src/core/journal.js';

const log = pino({ level: 'silent' });
type Row = { id: number };
const rows = (from: number, n: number): Row[] => Array.from({ length: n }, (_, i) => ({ id: from + i }));

class FakeDb {
  written: number[][] = [];
  pending: Array<{ rows: Row[]; resolve: () => void; reject: (e: unknown) => void }> = [];
  auto = true;
  failNext = 0;
  badIds = new Set<number>();
  async write(batch: Row[]) {
    if (this.failNext > 0) {
      this.failNext--;
      throw Object.assign(new Error('connection lost'), { retryable: true });
    }
    if (batch.some((r) => this.badIds.has(r.id))) throw Object.assign(new Error('bad data'), { retryable: false });
    if (!this.auto) {
      await new Promise<void>((resolve, reject) => this.pending.push({ rows: batch, resolve, reject }));
    }
    this.written.push(batch.map((r) => r.id));
    return { inserted: batch.length, duplicates: 0 };
  }
  get ids() {
    return this.written.flat().sort((a, b) => a - b);
  }
}

function setup(opts: Partial<FlushOptions> = {}, journal?: MemoryJournal) {
  const clock = new FakeClock();
  const db = new FakeDb();
  const rejected: Row[] = [];
  const f = new Flusher<Row>(
    { write: (b) => db.write(b), isRetryable: (e) => !!(e as { retryable?: boolean }).retryable, onRejected: (r) => rejected.push(r) },
    { ...DEFAULT_FLUSH, eagerWhenIdle: false, maxBatchRows: 50, ...opts },
    clock,
    log,
    journal,
  );
  return { clock, db, f, rejected };
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe('flush policy', () => {
  it('flushes as soon as 50 rows are pending', async () => {
    const { db, f } = setup();
    f.add(rows(0, 49));
    await settle();
    expect(db.written).toHaveLength(0);
    f.add(rows(49, 1));
    await settle();
    expect(db.written).toHaveLength(1);
    expect(db.written[0]).toHaveLength(50);
  });

  it('flushes a single pending row once 1 s has passed', async () => {
    const { clock, db, f } = setup();
    f.add(rows(0, 1));
    clock.advance(999);
    await settle();
    expect(db.written).toHaveLength(0);
    clock.advance(1);
    await settle();
    expect(db.written).toEqual([[0]]);
  });

  it('with eager-when-idle, a lone row goes at once and later rows batch while one is in flight', async () => {
    const { db, f } = setup({ eagerWhenIdle: true });
    db.auto = false;
    f.add(rows(0, 1));
    await settle();
    expect(db.pending).toHaveLength(1);
    f.add(rows(1, 10));
    await settle();
    expect(db.pending).toHaveLength(1); // busy writer: the 10 rows wait (not full, not due)
    db.pending.shift()!.resolve();
    await settle();
    expect(db.pending).toHaveLength(1);
    expect(db.pending[0].rows).toHaveLength(10);
  });

  it('never has more than maxInFlight batches in flight', async () => {
    const { db, f } = setup({ maxInFlight: 2 });
    db.auto = false;
    f.add(rows(0, 250));
    await settle();
    expect(db.pending).toHaveLength(2);
    expect(f.stats().pending).toBe(150);
    db.pending.shift()!.resolve();
    await settle();
    expect(db.pending).toHaveLength(2);
    expect(f.stats().pending).toBe(100);
  });

  it('under a backlog, a free slot takes up to maxBatchRows rows in one statement', async () => {
    const { db, f } = setup({ maxInFlight: 1, maxBatchRows: 200 });
    db.auto = false;
    f.add(rows(0, 50));
    await settle();
    expect(db.pending[0].rows).toHaveLength(50);
    f.add(rows(50, 300)); // arrives while the only slot is busy
    await settle();
    db.pending.shift()!.resolve();
    await settle();
    expect(db.pending[0].rows).toHaveLength(200);
    db.pending.shift()!.resolve();
    await settle();
    expect(db.pending[0].rows).toHaveLength(100);
  });

  it('keeps rows on a retryable failure, backs off, and writes them once the database is back', async () => {
    const { clock, db, f } = setup();
    db.failNext = 3;
    f.add(rows(0, 50));
    await settle();
    expect(db.written).toHaveLength(0);
    expect(f.stats()).toMatchObject({ pending: 50, consecutiveFailures: 1 });
    for (let i = 0; i < 10; i++) {
      clock.advance(DEFAULT_FLUSH.retryMaxMs);
      await settle();
    }
    expect(db.ids).toEqual(rows(0, 50).map((r) => r.id));
    expect(f.stats()).toMatchObject({ pending: 0, consecutiveFailures: 0, retries: 3 });
  });

  it('does not retry before the backoff delay', async () => {
    const { clock, db, f } = setup();
    db.failNext = 1;
    f.add(rows(0, 50));
    await settle();
    clock.advance(DEFAULT_FLUSH.retryBaseMs / 2 - 1); // jittered delay is at least base/2
    await settle();
    expect(db.written).toHaveLength(0);
    clock.advance(DEFAULT_FLUSH.retryBaseMs);
    await settle();
    expect(db.written).toHaveLength(1);
  });

  it('isolates a bad row by bisecting the batch, writes the rest and reports the row', async () => {
    const { db, f, rejected } = setup();
    db.badIds.add(17);
    f.add(rows(0, 50));
    await settle();
    await settle();
    expect(db.ids).toEqual(rows(0, 50).map((r) => r.id).filter((id) => id !== 17));
    expect(rejected).toEqual([{ id: 17 }]);
    expect(f.stats().rejected).toBe(1);
  });

  it('spills to the journal past the memory bound and replays it, losing nothing', async () => {
    const journal = new MemoryJournal();
    const { clock, db, f } = setup({ maxPendingRows: 100 }, journal);
    db.failNext = 1000;
    f.add(rows(0, 300));
    await settle();
    expect(f.stats().pending).toBeLessThanOrEqual(100);
    expect(journal.rowsOnDisk).toBeGreaterThan(0);
    db.failNext = 0;
    const done = f.drain();
    for (let i = 0; i < 50; i++) {
      clock.advance(DEFAULT_FLUSH.retryMaxMs);
      await settle();
    }
    await done;
    expect(new Set(db.ids).size).toBe(300);
    expect(journal.rowsOnDisk).toBe(0);
  });

  it('keeps running when the journal folder cannot be listed at replay time; its rows replay once it can', async () => {
    /** A journal whose folder was removed or replaced by a file: listing it throws ENOTDIR. */
    class UnlistableJournal extends MemoryJournal {
      unlistable = false;
      override segments(): string[] {
        if (this.unlistable) throw Object.assign(new Error('ENOTDIR: not a directory, scandir'), { code: 'ENOTDIR' });
        return super.segments();
      }
    }
    // In a process, a throw from the flusher's timers or promise callbacks ends it with everything in memory.
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => void unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    onTestFinished(() => void process.off('unhandledRejection', onUnhandled));
    const journal = new UnlistableJournal();
    const { clock, db, f } = setup({ maxPendingRows: 100 }, journal);
    db.failNext = 1000;
    f.add(rows(0, 300));
    await settle();
    const onDisk = journal.rowsOnDisk;
    expect(onDisk).toBeGreaterThan(0);
    journal.unlistable = true;
    db.failNext = 0;
    for (let i = 0; i < 20; i++) {
      clock.advance(DEFAULT_FLUSH.retryMaxMs);
      await settle();
    }
    await new Promise((r) => setImmediate(r));
    expect(unhandled).toEqual([]);
    expect(db.ids).toHaveLength(300 - onDisk); // what was in memory is written; the disk's rows wait
    journal.unlistable = false;
    const done = f.drain();
    for (let i = 0; i < 50; i++) {
      clock.advance(1000);
      await settle();
    }
    await done;
    expect(new Set(db.ids).size).toBe(300);
    expect(journal.rowsOnDisk).toBe(0);
  });

  it('drain writes rows that are neither full nor due', async () => {
    const { db, f } = setup();
    f.add(rows(0, 3));
    await f.drain();
    expect(db.ids).toEqual([0, 1, 2]);
  });
  it('a writer in backoff retries at once when another writer to the same database gets through (retryNow)', async () => {
    const clock = new FakeClock();
    let down = true;
    const written: string[] = [];
    const write = async (b: Row[], who: string) => {
      if (down) throw new Error('read-only');
      for (const r of b) written.push(`${who}${r.id}`);
      return { inserted: b.length, duplicates: 0 };
    };
    let recovered = 0;
    const opts = { ...DEFAULT_FLUSH, eagerWhenIdle: true, retryBaseMs: 1000, retryMaxMs: 5000 };
    const slow = new Flusher<Row>({ write: (b) => write(b, 's'), isRetryable: () => true }, opts, clock, log);
    const fast = new Flusher<Row>({ write: (b) => write(b, 'f'), isRetryable: () => true, onRecovered: () => { recovered++; slow.retryNow(); } }, opts, clock, log);
    slow.add(rows(0, 1));
    for (let i = 0; i < 5; i++) { // slow fails again and again: its backoff grows to seconds
      await settle();
      clock.advance(5000);
    }
    await settle();
    expect(slow.stats().consecutiveFailures).toBeGreaterThanOrEqual(4);
    fast.add(rows(100, 1)); // fails once, retried after <= 1 s
    await settle();
    expect(fast.failing).toBe(true);
    down = false;
    clock.advance(1000); // fast's retry is due; slow's is not (>= 2.5 s away)
    await settle();
    expect(recovered).toBe(1);
    expect(written).toEqual(['f100', 's0']);
    expect(slow.failing).toBe(false);
  });
});
