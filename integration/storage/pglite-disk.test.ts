import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { openStorage } from '../../src/db/index.js';
import { loadMigrations } from '../../src/db/migrate.js';
import { testLogger } from '../helpers/pg.js';
import { snapshots } from './fixtures.js';

describe('embedded PGlite in a folder', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'riskwire-pglite-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('creates the folder, refuses a second opener while open, and keeps data and migrations across a restart', async () => {
    const dir = join(root, 'nested', 'pglite');
    const first = await openStorage({ pgliteDir: dir, log: testLogger });
    expect(first.kind).toBe('pglite');
    await first.writeSnapshots(snapshots(3, { account: 'DISK', eventTs: Date.now() }));
    // PGlite serves one process: while open, another opener is refused with one line.
    const refused = await openStorage({ pgliteDir: dir, log: testLogger }).then(() => null, (e: unknown) => e as Error);
    expect(refused?.message).toMatch(new RegExp(`^PGLITE_DIR .* is open in process ${process.pid}, and PGlite serves one process: `));
    await first.close();

    const second = await openStorage({ pgliteDir: dir, log: testLogger });
    try {
      expect(await second.querySnapshots({ account: 'DISK' })).toHaveLength(3);
      expect(await second.query('SELECT id FROM riskwire_migrations ORDER BY id')).toEqual((await loadMigrations()).map((m) => ({ id: m.id })));
    } finally {
      await second.close();
    }
    // A new on-disk PGlite runs initdb in WASM: seconds on an idle machine, much more on a loaded one.
  }, 90_000);

  it('a PGLITE_DIR that cannot be a folder is a one-line ConfigError naming PGLITE_DIR', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'not a folder');
    const err = await openStorage({ pgliteDir: join(file, 'db'), log: testLogger }).then(
      () => new Error('unexpectedly opened'),
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/^PGLITE_DIR/);
    expect(err.message).not.toMatch(/\n/);
  });
});
