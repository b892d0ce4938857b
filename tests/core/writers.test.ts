/**
 * Trades and position sets go through the same flush policy, journal and replay as snapshots;
 * a journal that refuses writes never loses what the writer holds; only rows the database refuses
 * for their content are given up on, into the dead-letter sink. Fake clock, fake storage.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { MemoryDeadLetter } from '../../src/core/deadLetter.js';
import { DEFAULT_FLUSH, Flusher } from '../../src/core/flushPolicy.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { Processor } from '../../src/core/processor.js';
import type { Position, TradeEvent, TradeRow } from '../../src/core/types.js';
import { isRowRejection, StorageError } from '../../src/db/errors.js';

const log = pino({ level: 'silent' });
const settle = async () => {
  for (let i = 0; i < 30; i++) await Promise.resolve();
};
const down = () => new StorageError('writeTrades failed (ECONNREFUSED)', true, 'ECONNREFUSED');
const readOnly = () => Object.assign(new Error('cannot execute INSERT in a read-only transaction'), { code: '25006' });

const trade = (id: string, extra: Partial<TradeRow> = {}): TradeEvent => ({
  kind: 'trade', broker: 'tasty', account: 'A1', tradeId: id, contractKey: 'SPY   261218C00500000', side: 'buy', quantity: 1, price: 2, executedAt: 1_700_000_000_000, source: 'account-streamer', ...extra,
});
const pos = (account: string, contractKey: string, quantity: number): Position => ({
  broker: 'tasty', account, contractKey, underlying: 'SPY', quantity, multiplier: 100, avgPrice: 1, assetClass: 'option',
});

/** A database that stores trades by (broker, trade_id) and position sets with the "never older" rule. */
class FakeDb {
  trades = new Map<string, TradeRow>();
  positions = new Map<string, { at: number; positions: Position[] }>();
  failWith: (() => unknown) | null = null;
  hang = false;
  attempts = 0;
  private async gate() {
    this.attempts++;
    if (this.hang) await new Promise(() => {});
    if (this.failWith) throw this.failWith();
  }
  storage = {
    writeSnapshots: async () => ({ inserted: 0, duplicates: 0 }),
    writeTrades: async (rows: TradeRow[]) => {
      await this.gate();
      if (rows.some((r) => r.price < 0)) throw Object.assign(new Error('numeric field overflow'), { code: '22003' });
      let inserted = 0;
      for (const r of rows) {
        const k = `${r.broker}|${r.tradeId}`;
        if (!this.trades.has(k)) {
          this.trades.set(k, r);
          inserted++;
        }
      }
      return { inserted, duplicates: rows.length - inserted };
    },
    replacePositions: async (broker: string, account: string, positions: Position[], at: number) => {
      await this.gate();
      const cur = this.positions.get(`${broker}|${account}`);
      if (!cur || cur.at <= at) this.positions.set(`${broker}|${account}`, { at, positions });
    },
  };
}

function setup(db = new FakeDb()) {
  const clock = new FakeClock();
  const deadLetter = new MemoryDeadLetter();
  const tradeJournal = new MemoryJournal();
  const positionJournal = new MemoryJournal();
  const p = new Processor({
    storage: db.storage, log, clock, deadLetter, tradeJournal, positionJournal,
    isRetryable: (e) => !isRowRejection(e), flush: { maxPendingRows: 100, intervalMs: 50 },
  });
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      clock.advance(100);
      await settle();
    }
  };
  return { clock, db, p, deadLetter, tradeJournal, positionJournal, run };
}

describe('trades through the flush policy', () => {
  it('a fill that arrives while the database is down (or read-only) is retried and stored exactly once', async () => {
    const { db, p, run } = setup();
    db.failWith = readOnly;
    p.ingest([trade('f1'), trade('f1'), trade('f2')]);
    await run(3000);
    expect(db.trades.size).toBe(0);
    expect(p.stats().trades.retries).toBeGreaterThan(1);
    expect(p.stats().trades.rejected).toBe(0);
    expect(p.writesFailing).toBe(true);
    db.failWith = null;
    await run(6000);
    expect([...db.trades.keys()].sort()).toEqual(['tasty|f1', 'tasty|f2']);
    expect(p.stats().trades.rowsWritten).toBe(2);
    expect(p.writesFailing).toBe(false);
  });

  it('past the memory bound trades go to their journal and come back from it', async () => {
    const { db, p, run, tradeJournal } = setup();
    db.failWith = down;
    p.ingest(Array.from({ length: 300 }, (_, i) => trade(`t${i}`)));
    await settle();
    expect(tradeJournal.rowsOnDisk).toBeGreaterThan(0);
    expect(p.stats().trades.pending).toBeLessThanOrEqual(100);
    db.failWith = null;
    await run(20_000);
    expect(db.trades.size).toBe(300);
    expect(tradeJournal.rowsOnDisk).toBe(0);
  });

  it('a trade the database refuses for its content is rejected alone, counted and dead-lettered with the reason', async () => {
    const { db, p, run, deadLetter } = setup();
    p.ingest([trade('ok1'), trade('bad', { price: -1 }), trade('ok2')]);
    await run(500);
    expect([...db.trades.keys()].sort()).toEqual(['tasty|ok1', 'tasty|ok2']);
    expect(p.stats().trades.rejected).toBe(1);
    expect(p.stats().deadLettered).toBe(1);
    expect(deadLetter.entries[0]).toMatchObject({ kind: 'trade', code: '22003', reason: 'numeric field overflow', row: { tradeId: 'bad' } });
  });
});

describe('POST /v1/trades acceptance (acceptTrade)', () => {
  it('written now when the database answers', async () => {
    const { db, p } = setup();
    const { kind: _k, ...row } = trade('m1');
    expect(await p.acceptTrade(row, 2000)).toEqual({ status: 'written', inserted: 1 });
    expect(await p.acceptTrade(row, 2000)).toEqual({ status: 'written', inserted: 0 }); // a repeat
    expect(db.trades.size).toBe(1);
  });

  it('journaled (durable) when the database is down or silent, then written once it is back', async () => {
    const { clock, db, p, run, tradeJournal } = setup();
    const { kind: _k, ...row } = trade('m2');
    db.hang = true; // blackholed: no answer at all
    const answer = p.acceptTrade(row, 2000);
    clock.advance(2000);
    expect(await answer).toEqual({ status: 'journaled' });
    expect(tradeJournal.rowsOnDisk).toBe(1);
    expect(p.stats().tradesAcceptedToJournal).toBe(1);
    db.hang = false;
    db.failWith = down;
    await run(2000);
    db.failWith = null;
    await run(10_000);
    expect([...db.trades.keys()]).toEqual(['tasty|m2']);
    expect(tradeJournal.rowsOnDisk).toBe(0);
  });

  it('refused (nothing accepted) when the journal cannot be written either', async () => {
    const { db, p, tradeJournal } = setup();
    db.failWith = down;
    tradeJournal.failAppends = new Error('ENOSPC: no space left on device');
    const { kind: _k, ...row } = trade('m3');
    await expect(p.acceptTrade(row, 2000)).rejects.toThrow(/ENOSPC/);
    expect(p.stats().trades.journalWriteErrors).toBe(1);
  });
});

describe('position sets through the flush policy', () => {
  it('a change made during an outage is stored after it; an older set replayed later never wins', async () => {
    const { db, p, run } = setup();
    const K1 = 'SPY   261218C00500000';
    const K2 = 'SPY   261218P00450000';
    p.ingest([{ kind: 'positions', broker: 'tasty', account: 'A1', at: 1000, positions: [pos('A1', K1, 10), pos('A1', K2, -5)] }]);
    await run(300);
    db.failWith = down;
    p.ingest([{ kind: 'positions', broker: 'tasty', account: 'A1', at: 2000, positions: [pos('A1', K1, 10), pos('A1', K2, 9)] }]);
    await run(3000);
    expect(db.positions.get('tasty|A1')!.positions.find((x) => x.contractKey === K2)!.quantity).toBe(-5);
    expect(p.stats().positionWriteErrors).toBeGreaterThan(0);
    db.failWith = null;
    await run(6000);
    expect(db.positions.get('tasty|A1')!.positions.find((x) => x.contractKey === K2)!.quantity).toBe(9);
    // A stale copy of the old set (a journal replay) changes nothing.
    p.positionFlusher.add([{ broker: 'tasty', account: 'A1', at: 1000, positions: [pos('A1', K1, 10), pos('A1', K2, -5)] }]);
    await run(300);
    expect(db.positions.get('tasty|A1')!.at).toBe(2000);
  });

  it('several sets of one account in one batch: only the newest is written', async () => {
    const { db, p, run } = setup();
    db.failWith = down;
    for (let i = 1; i <= 5; i++) p.ingest([{ kind: 'positions', broker: 'tasty', account: 'A1', at: i * 1000, positions: [pos('A1', 'SPY   261218C00500000', i)] }]);
    await run(1000);
    const before = db.attempts;
    db.failWith = null;
    await run(6000);
    expect(db.positions.get('tasty|A1')).toMatchObject({ at: 5000, positions: [{ quantity: 5 }] });
    expect(db.attempts - before).toBeLessThanOrEqual(2);
  });
});

describe('a journal that cannot be written', () => {
  it('keeps the rows in memory, says so in the stats, and writes them all once the database is back', async () => {
    const clock = new FakeClock();
    const journal = new MemoryJournal();
    journal.failAppends = new Error('ENOTDIR: not a directory');
    const written = new Set<number>();
    let fail = true;
    const f = new Flusher<{ id: number }>(
      {
        write: async (rows) => {
          if (fail) throw down();
          for (const r of rows) written.add(r.id);
          return { inserted: rows.length, duplicates: 0 };
        },
        isRetryable: (e) => !isRowRejection(e),
      },
      { ...DEFAULT_FLUSH, maxPendingRows: 100 },
      clock,
      log,
      journal,
    );
    for (let i = 0; i < 500; i++) f.add([{ id: i }]);
    await settle();
    expect(f.stats().journalWriteErrors).toBeGreaterThan(0);
    expect(f.stats().lastJournalError).toMatch(/ENOTDIR/);
    expect(f.stats().pending + f.stats().inFlight * DEFAULT_FLUSH.maxBatchRows).toBeGreaterThanOrEqual(500 - DEFAULT_FLUSH.maxBatchRows);
    // A stop now would lose them, and says exactly how many.
    const spill = structuredClone(f.stats());
    expect(spill.journaledRows).toBe(0);
    fail = false;
    const done = f.drain();
    for (let i = 0; i < 100; i++) {
      clock.advance(DEFAULT_FLUSH.retryMaxMs);
      await settle();
    }
    await done;
    expect(written.size).toBe(500);
  });

  it('at stop, rows the journal refuses are reported as lost (not silently)', () => {
    const clock = new FakeClock();
    const journal = new MemoryJournal();
    const f = new Flusher<{ id: number }>({ write: async () => { throw down(); }, isRetryable: () => true }, { ...DEFAULT_FLUSH, eagerWhenIdle: false }, clock, log, journal);
    f.add([{ id: 1 }, { id: 2 }, { id: 3 }]);
    journal.failAppends = new Error('EROFS: read-only file system');
    expect(f.spillAll()).toEqual({ journaled: 0, lost: 3, error: 'EROFS: read-only file system' });
    expect(f.stats().journalWriteErrors).toBe(1);
  });
});
