/** Regression (fault suite): a closed flusher must stop retrying, or a process stopped while the database is down never exits. */
import pino from 'pino';
import { expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { DEFAULT_FLUSH, Flusher } from '../../src/core/flushPolicy.js';
import { MemoryJournal } from '../../src/core/journal.js';

it('after spillAll() and close(), failing in-flight batches are neither retried nor re-armed as timers', async () => {
  const clock = new FakeClock();
  let attempts = 0;
  const fails: Array<(e: unknown) => void> = [];
  const journal = new MemoryJournal();
  const f = new Flusher<{ id: number }>(
    {
      write: () => {
        attempts++;
        return new Promise((_, reject) => fails.push(reject));
      },
      isRetryable: () => true,
    },
    { ...DEFAULT_FLUSH, maxRows: 2, maxBatchRows: 2, maxInFlight: 2 },
    clock,
    pino({ level: 'silent' }),
    journal,
  );
  f.add([{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }, { id: 5 }]);
  expect(attempts).toBe(2);
  expect(f.spillAll()).toEqual({ journaled: 5, lost: 0, error: null }); // 1 queued + 2 batches in flight
  f.close();
  for (const reject of fails) reject(Object.assign(new Error('connection ended'), { retryable: true }));
  await new Promise((r) => setImmediate(r));
  expect(clock.pending()).toBe(0);
  await clock.advanceAsync(60_000, 1_000);
  expect(attempts).toBe(2);
  expect(journal.rowsOnDisk).toBe(5);
});
