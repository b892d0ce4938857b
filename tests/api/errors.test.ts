import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/api/app.js';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { StorageError } from '../../src/db/errors.js';
import type { Storage } from '../../src/db/types.js';

const log = pino({ level: 'silent' });

/** A storage whose reads fail the way a lost database (or a bug) makes them fail. */
function failingStorage(): Storage {
  const never = async () => {
    throw new Error('not used');
  };
  return {
    kind: 'postgres',
    writeSnapshots: never, replacePositions: never, writeTrades: never, latestSnapshots: never, listPositions: never,
    ensurePartitions: async () => {}, dropSnapshotsBefore: async () => [], close: async () => {},
    querySnapshots: async () => {
      throw new StorageError('query failed (ECONNREFUSED): connect ECONNREFUSED postgres://app:hunter2@db/x', true, 'ECONNREFUSED');
    },
    listAlerts: never, listTrades: async () => {
      throw new TypeError("Cannot read properties of undefined (reading 'secretThing')");
    },
    query: never,
  };
}

describe('API error mapping (app.inject, no database)', () => {
  let app: FastifyInstance;
  let pipeline: Pipeline;
  beforeAll(async () => {
    const storage = failingStorage();
    pipeline = new Pipeline({ storage, config: readAppConfig({}), log, journal: new MemoryJournal() });
    app = await buildApi({ pipeline, storage, log });
  });
  afterAll(async () => {
    await app.close();
    await pipeline.stop(100);
  });

  it('a lost database is a 503 with Retry-After, without the password', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/greeks/snapshots' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json().error).toMatch(/^database unavailable/);
    expect(res.body).not.toContain('hunter2');
  });

  it('a bug is a 500 that does not echo internals', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/trades' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'internal error (see the server log)' });
  });

  it('a body over 64 KiB is refused before it is parsed', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/trades', payload: { broker: 'x'.repeat(70_000) } });
    expect(res.statusCode).toBe(413);
  });
});
