/**
 * The shared local Redis (127.0.0.1:6379, REDIS_TEST_URL): every test run uses its own key
 * prefix and deletes its keys (SCAN prefix*), never FLUSHALL/FLUSHDB.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, it } from 'vitest';

export const REDIS_TEST_URL = process.env.REDIS_TEST_URL || 'redis://127.0.0.1:6379';

let available: Promise<boolean> | undefined;
export function redisAvailable(): Promise<boolean> {
  available ??= (async () => {
    const c = new Redis(REDIS_TEST_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
    try {
      await c.connect();
      return (await c.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      c.disconnect();
    }
  })();
  return available;
}

const REDIS_UP = await redisAvailable();
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** describe() for tests that need Redis: runs when reachable; otherwise fails in CI, skips elsewhere. */
export function describeRedis(name: string, fn: () => void): void {
  if (REDIS_UP) {
    describe(name, fn);
  } else if (IN_CI) {
    describe(name, () => {
      it('needs Redis', () => {
        throw new Error(`Redis is not reachable at ${REDIS_TEST_URL}: .ci/run starts redis-server (CI=true, so this fails instead of skipping)`);
      });
    });
  } else {
    describe.skip(`${name} (Redis not reachable at ${REDIS_TEST_URL})`, fn);
  }
}

export function uniquePrefix(): string {
  return `rwtest:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under the prefix. */
export async function cleanPrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

/** A subscriber collecting messages of the given channels. */
export async function subscriber(channels: string[]): Promise<{ messages: Array<{ channel: string; message: string }>; close(): void }> {
  const sub = new Redis(REDIS_TEST_URL);
  const messages: Array<{ channel: string; message: string }> = [];
  sub.on('message', (channel: string, message: string) => messages.push({ channel, message }));
  await sub.subscribe(...channels);
  return { messages, close: () => sub.disconnect() };
}
