import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../tests/helpers/fake-clock.js';
import { WebhookSender } from '../../src/risk/webhook.js';
import { testLogger } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

describe('ALERT_WEBHOOK_URL delivery against a local HTTP server', () => {
  let server: Server;
  let url: string;
  const bodies: string[] = [];
  let failuresLeft = 2;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        bodies.push(body);
        res.statusCode = failuresLeft-- > 0 ? 503 : 204;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('retries with backoff on the Clock until the server takes it, in order, without blocking the caller', async () => {
    const clock = new FakeClock();
    const hook = new WebhookSender({ url, clock, log: testLogger, baseMs: 100, maxMs: 1000, random: () => 1 });
    hook.send({ n: 1 }); // returns at once: nothing awaited
    hook.send({ n: 2 });
    await waitFor(() => clock.pending() === 1 && bodies.length === 1, 'the first failed attempt and its retry timer');
    clock.advance(99);
    expect(bodies).toHaveLength(1); // not before the backoff
    clock.advance(1); // attempt 2 after 100 ms
    await waitFor(() => clock.pending() === 1 && bodies.length === 2, 'the second failed attempt');
    clock.advance(200); // attempt 3 after 200 ms: accepted, then n=2 straight away
    await waitFor(() => hook.stats.delivered === 2, 'both delivered');
    expect(bodies.map((b) => JSON.parse(b).n)).toEqual([1, 1, 1, 2]);
    expect(hook.stats).toMatchObject({ delivered: 2, failedAttempts: 2, dropped: 0, queued: 0 });
    hook.close();
  });
});
