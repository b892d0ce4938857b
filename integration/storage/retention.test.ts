import { afterAll, beforeAll, expect, it } from 'vitest';
import pino from 'pino';
import { FakeClock } from '../../tests/helpers/fake-clock.js';
import type { GreekSnapshot } from '../../src/core/types.js';
import { createPgliteDriver } from '../../src/db/driver-pglite.js';
import { migrate } from '../../src/db/migrate.js';
import { createStorage } from '../../src/db/storage.js';
import { describeBackends, openTestStorage, type TestStorage } from '../helpers/pg.js';

const DAY = 86_400_000;
const row = (eventTs: number, seq: number): GreekSnapshot => ({
  broker: 'sim', account: 'A', contractKey: 'SPY   261218C00500000', underlying: 'SPY', eventTs, seq, receivedAt: eventTs,
  quantity: 1, multiplier: 100, bid: null, ask: null, mark: null, underlyingPrice: null, iv: null, delta: 0.5, gamma: null, theta: null, vega: null, rho: null,
});

describeBackends('retention drops whole old days through Storage', (backend) => {
  let t: TestStorage;
  beforeAll(async () => {
    t = await openTestStorage(backend);
  });
  afterAll(() => t?.close());

  it('dropSnapshotsBefore removes the days before the cutoff and keeps the rest', async () => {
    const now = Date.now();
    await t.storage.writeSnapshots([row(now - 40 * DAY, 1), row(now - 35 * DAY, 2), row(now - 1000, 3)]);
    const dropped = await t.storage.dropSnapshotsBefore(now - 30 * DAY);
    expect(dropped).toHaveLength(2);
    const left = await t.storage.querySnapshots({ broker: 'sim', limit: 10 });
    expect(left.map((r) => r.seq)).toEqual([3]);
  });
});

it('RETENTION_DAYS runs with the periodic partition refresh (fake clock)', async () => {
  const clock = new FakeClock(Date.now());
  const log = pino({ level: 'silent' });
  const driver = await createPgliteDriver('memory://');
  await migrate(driver, log);
  const storage = createStorage(driver, { log, clock, retentionDays: 7 });
  try {
    await storage.writeSnapshots([row(clock.now() - 20 * DAY, 1), row(clock.now(), 2)]);
    clock.advance(6 * 3_600_000); // the 6-hourly refresh
    for (let i = 0; i < 50 && (await storage.querySnapshots({ limit: 10 })).length > 1; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await storage.querySnapshots({ limit: 10 })).map((r) => r.seq)).toEqual([2]);
  } finally {
    await storage.close();
  }
}, 60_000);
