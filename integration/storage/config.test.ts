import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { openStorage } from '../../src/db/index.js';
import { TEST_DATABASE_URL, describePg, testLogger } from '../helpers/pg.js';
import { closedPort } from '../helpers/net.js';

const SECRET = 'hunter2-s3cret';

async function openError(databaseUrl: string, connectTimeoutSec?: number): Promise<Error> {
  const res = await openStorage({ databaseUrl, log: testLogger, connectTimeoutSec }).then(
    async (s) => {
      await s.close();
      return new Error('openStorage unexpectedly succeeded');
    },
    (e: Error) => e,
  );
  return res;
}

function expectOneLineConfigError(err: Error): void {
  expect(err).toBeInstanceOf(ConfigError);
  expect(err.message).toMatch(/DATABASE_URL/);
  expect(err.message).not.toMatch(/\n/);
  expect(err.message).not.toContain(SECRET);
}


describe('bad DATABASE_URL', () => {
  const silent: { server?: Server; sockets: Socket[] } = { sockets: [] };
  afterAll(async () => {
    for (const s of silent.sockets) s.destroy();
    if (silent.server) await new Promise((r) => silent.server!.close(r));
  });

  it('an unparseable URL is a one-line ConfigError naming DATABASE_URL without echoing it', async () => {
    const err = await openError(`postgres://user:${SECRET}@host:notaport/db`);
    expectOneLineConfigError(err);
    expect(err.message).toMatch(/fix DATABASE_URL/);
  });

  it('a URL of another scheme is a ConfigError', async () => {
    const err = await openError(`mysql://user:${SECRET}@127.0.0.1/db`);
    expectOneLineConfigError(err);
    expect(err.message).toMatch(/postgres:\/\//);
  });

  it('an unreachable server is a one-line ConfigError naming the host, not the password', async () => {
    const port = await closedPort();
    const err = await openError(`postgres://riskwire:${SECRET}@127.0.0.1:${port}/riskwire`);
    expectOneLineConfigError(err);
    expect(err.message).toContain(`127.0.0.1:${port}/riskwire`);
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('a server that accepts but never answers fails within the connect timeout', async () => {
    silent.server = createServer((s) => silent.sockets.push(s));
    await new Promise<void>((r) => silent.server!.listen(0, '127.0.0.1', r));
    const { port } = silent.server.address() as { port: number };
    const err = await openError(`postgres://riskwire:${SECRET}@127.0.0.1:${port}/riskwire`, 1);
    expectOneLineConfigError(err);
    expect(err.message).toMatch(/CONNECT_TIMEOUT/);
  });
});

describePg('bad DATABASE_URL on a real server', () => {
  it('a database that does not exist is a ConfigError naming DATABASE_URL', async () => {
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = '/riskwire_no_such_database';
    const err = await openError(url.toString());
    expectOneLineConfigError(err);
    expect(err.message).toMatch(/riskwire_no_such_database/);
  });
});
