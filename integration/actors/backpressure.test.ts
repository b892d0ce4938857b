import { expect, it } from 'vitest';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { MemoryJournal } from '../../src/core/journal.js';
import type { GreekSnapshot } from '../../src/core/types.js';
import type { Storage } from '../../src/db/types.js';
import { testLogger } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

/** A database that takes nothing until the gate opens, then everything; it keeps every row. */
function gatedStorage() {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const rows: GreekSnapshot[] = [];
  const never = () => Promise.reject(new Error('not used'));
  const storage = {
    kind: 'pglite',
    async writeSnapshots(batch: GreekSnapshot[]) {
      await gate;
      rows.push(...batch);
      return { inserted: batch.length, duplicates: 0 };
    },
    async replacePositions() {},
    async writeTrades(batch: unknown[]) {
      return { inserted: batch.length, duplicates: 0 };
    },
    querySnapshots: never, latestSnapshots: never, listPositions: never, listTrades: never, query: never,
    ensurePartitions: async () => {}, dropSnapshotsBefore: async () => [], close: async () => {},
  } as unknown as Storage;
  return { storage, rows, open };
}

it('a closed-loop burst waits in the actor while the writer is behind: the queue stays bounded and nothing is lost', async () => {
  const count = 4000;
  const highWater = 500;
  const credit = 256;
  /** One batch of this many rows in flight at a time (stuck at the gate). */
  const inFlight = 100;
  const db = gatedStorage();
  const pipeline = new Pipeline({
    storage: db.storage, config: readAppConfig({ BACKPRESSURE_ROWS: String(highWater), FLUSH_MAX_IN_FLIGHT: '1', FLUSH_MAX_BATCH_ROWS: String(inFlight), FLUSH_MAX_ROWS: String(inFlight) }), log: testLogger,
    journal: new MemoryJournal(), supervisor: { creditEvents: credit },
  });
  // The queue's size seen at every row the processor produces (synchronously, inside ingest).
  let maxPending = 0;
  pipeline.processor.onLatest(() => (maxPending = Math.max(maxPending, pipeline.processor.flusher.pendingRows)));
  try {
    await pipeline.startActor({ id: 'sim', broker: 'sim', flags: { rate: '1000000', 'tick-ms': '5', accounts: '1', count: String(count) } });
    // The writer is stuck: the actor runs out of credit once the queue passes the high-water mark.
    await waitFor(() => pipeline.processor.flusher.pendingRows >= highWater, 'the queue to reach the high-water mark');
    // Everything produced so far: queued, in flight, or let through by the last credit window; the rest waits in the actor.
    expect(pipeline.processor.stats().rowsProduced).toBeLessThanOrEqual(highWater + 2 * credit + inFlight);
    db.open();
    await waitFor(() => pipeline.processor.flusher.stats().rowsWritten >= count, 'every row to be written once the writer catches up');
  } finally {
    await pipeline.stop();
  }
  // Bounded: the high-water mark plus what one credit window lets through (1 row per event here).
  expect(maxPending).toBeLessThanOrEqual(highWater + 2 * credit);
  // Nothing lost or doubled: each contract's sim sequence is complete, 1..n.
  const byContract = new Map<string, number[]>();
  for (const r of db.rows) (byContract.get(r.contractKey) ?? byContract.set(r.contractKey, []).get(r.contractKey)!).push(r.seq);
  let total = 0;
  for (const seqs of byContract.values()) {
    seqs.sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    total += seqs.length;
  }
  expect(total).toBe(count);
});
