import { afterAll, beforeAll, expect, it } from 'vitest';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import type { Fault } from '../../src/actors/protocol.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

describePg('actor isolation: one actor crashes, hangs, runs out of memory; the other never notices', () => {
  let t: TestStorage;
  beforeAll(async () => {
    t = await openTestStorage('postgres');
  });
  afterAll(() => t?.close());

  it('keeps persisting the healthy actor and restarts the broken one after each fault', { timeout: 90_000 }, async () => {
    const pipeline = new Pipeline({
      storage: t.storage,
      config: readAppConfig({}),
      log: testLogger,
      journal: new MemoryJournal(),
      supervisor: { allowFaults: true, pingIntervalMs: 500, pingTimeoutMs: 2000, backoff: { baseMs: 100, maxMs: 1000 }, maxOldGenerationSizeMb: 64 },
    });
    // Two actors of the same synthetic broker, told apart by their seed; the healthy one is 'steady'.
    await pipeline.startActor({ id: 'steady', broker: 'sim', flags: { rate: '50', accounts: '1' } });
    await pipeline.startActor({ id: 'flaky', broker: 'sim', flags: { rate: '50', accounts: '1', seed: '7' } });
    const flaky = () => pipeline.supervisor.status().find((a) => a.id === 'flaky')!;
    const steady = () => pipeline.supervisor.status().find((a) => a.id === 'steady')!;
    const started = Date.now();

    const faults: Fault[] = ['throw', 'hang', 'oom'];
    for (const [i, fault] of faults.entries()) {
      await waitFor(() => flaky().phase === 'running', `flaky to run before ${fault}`, 30_000);
      await pipeline.supervisor.inject('flaky', fault);
      await waitFor(() => flaky().restarts === i + 1 && flaky().phase === 'running', `flaky to be restarted after ${fault}`, 30_000);
      expect(steady()).toMatchObject({ phase: 'running', restarts: 0 });
    }
    const s = await pipeline.stop();
    expect(s.drained).toBe(true);

    // The steady actor's rows were persisted continuously: no gap between consecutive flushes
    // longer than one flush interval (1 s) plus scheduling slack on a loaded machine.
    const gaps = await t.storage.query<{ max_gap_ms: string; n: string }>(
      `SELECT max(gap) AS max_gap_ms, count(*) AS n FROM (
         SELECT extract(epoch FROM persisted_at - lag(persisted_at) OVER (ORDER BY persisted_at)) * 1000 AS gap
           FROM greek_snapshots WHERE received_at >= $1 AND persisted_at IS NOT NULL
             AND contract_key IS NOT NULL AND broker = 'sim' AND account = 'SIM-1') g`,
      [new Date(started)],
    );
    expect(Number(gaps[0].n)).toBeGreaterThan(100);
    expect(Number(gaps[0].max_gap_ms)).toBeLessThan(2000);
    expect(flaky().restarts).toBe(3);
  });
});
