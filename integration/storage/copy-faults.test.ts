/**
 * A snapshot batch's binary COPY whose connection dies under it (D93). postgres.js settles a COPY
 * writable's 'finish' only from the server's CommandComplete (connection.js: final() keeps the
 * callback, CommandComplete calls it), so a COPY counts as written only once the server has
 * committed it; these pin that down through a proxy that kills the connection at the two
 * moments that matter: with the data on its way (nothing committed), and after CopyDone reached
 * the server but before its answer reached us (committed, unconfirmed). Either way the batch
 * must neither count as written by mistake, nor hang, nor be stored twice.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStorage, type Storage } from '../../src/db/index.js';
import { describePg, freshPostgresUrl, testLogger } from '../helpers/pg.js';
import { startProxy, type ProxyConnection, type TcpProxy } from '../helpers/proxy.js';
import { T0, snapshots } from './fixtures.js';

/** The start of a binary COPY's data (its signature) and the CopyDone message ('c', length 4). */
const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]);

const kill = (conn: ProxyConnection) => {
  conn.client.resetAndDestroy();
  conn.server.resetAndDestroy();
};

describePg('binary COPY of snapshot batches when the connection dies under it', () => {
  let db: { url: string; drop(): Promise<void> };
  let proxy: TcpProxy;
  let storage: Storage;
  const count = async (account: string) =>
    (await storage.query<{ n: number; distinct_seq: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT (contract_key, seq))::int AS distinct_seq FROM greek_snapshots WHERE account = $1', [account],
    ))[0];

  beforeAll(async () => {
    db = await freshPostgresUrl();
    proxy = await startProxy(Number(new URL(db.url).port || 5432));
    const saved = process.env.SNAPSHOT_COPY;
    process.env.SNAPSHOT_COPY = '1';
    try {
      storage = await openStorage({ databaseUrl: proxy.url(db.url), log: testLogger, maxConnections: 2 });
    } finally {
      if (saved === undefined) delete process.env.SNAPSHOT_COPY;
      else process.env.SNAPSHOT_COPY = saved;
    }
    await storage.ensurePartitions(T0);
  });
  afterAll(async () => {
    await storage?.close().catch(() => undefined);
    await proxy?.close();
    await db?.drop();
  });

  it('does not count a COPY cut off with its data on the way; the retry stores the batch once', async () => {
    let cuts = 0;
    proxy.onClientData = (chunk, conn) => {
      if (cuts > 0 || !chunk.includes(COPY_SIGNATURE)) return chunk;
      cuts++;
      kill(conn); // the server never sees the data: nothing is committed
      return Buffer.alloc(0);
    };
    const rows = snapshots(400, { account: 'CUT-DATA' });
    expect(await storage.writeSnapshots(rows)).toEqual({ inserted: 400, duplicates: 0 });
    expect(cuts).toBe(1);
    expect(await count('CUT-DATA')).toEqual({ n: 400, distinct_seq: 400 });
  });

  it('does not count a COPY whose answer is lost after the server committed it; the retry finds the rows stored and adds none', async () => {
    let cuts = 0;
    const dying = new Set<ProxyConnection>();
    proxy.onClientData = (chunk, conn) => {
      if (cuts === 0 && chunk.subarray(-COPY_DONE.length).equals(COPY_DONE)) {
        cuts++;
        dying.add(conn); // CopyDone goes through: the server commits; its answer will not
      }
      return chunk;
    };
    proxy.onServerData = (chunk, conn) => {
      if (!dying.has(conn)) return chunk;
      dying.delete(conn);
      kill(conn);
      return Buffer.alloc(0);
    };
    const rows = snapshots(400, { account: 'CUT-ANSWER' });
    // The first COPY did land; the retry's COPY meets those rows (23505) and the idempotent insert adds none.
    expect(await storage.writeSnapshots(rows)).toEqual({ inserted: 0, duplicates: 400 });
    expect(cuts).toBe(1);
    expect(await count('CUT-ANSWER')).toEqual({ n: 400, distinct_seq: 400 });
  });
});
