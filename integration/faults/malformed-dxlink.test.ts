/**
 * Malformed input on the DXLink WebSocket: while the Tastytrade simulator streams through the
 * real plugin in an actor, the server also sends garbage frames (random text, truncated JSON,
 * wrong types, unknown message types, a 4 MB frame). Each is counted and skipped: the actor is
 * not restarted, the connection is not even dropped, and every valid Greeks event the server
 * sent (before, between and after the garbage) is stored.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { startTastySimulator, type TastySimulator } from '../../src/brokers/tasty/sim/index.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

/** Printable junk of every script (valid UTF-8, so it is a legal text frame and reaches the parser). */
function randomText(n: number, seed: number): string {
  let x = seed;
  let s = '';
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    s += String.fromCharCode(32 + (x % 0x2f0));
  }
  return s;
}

/** Garbage frames, and whether the plugin must count them as malformed (unknown types are valid and ignored). */
function dxlinkGarbage(channel: number): { frame: string; counted: boolean }[] {
  const bad = (frame: string) => ({ frame, counted: true });
  return [
    bad(randomText(300, 1)),
    bad(randomText(50, 2)),
    bad(`{"type":"FEED_DATA","channel":${channel},"data":["Greeks",["Greeks",".SPY`), // truncated
    bad(JSON.stringify({ type: 'FEED_DATA', channel, data: 'not a list' })),
    bad(JSON.stringify({ type: 'FEED_DATA', channel, data: [42, { not: 'values' }] })),
    bad(JSON.stringify({ type: 'FEED_DATA', channel, data: ['Greeks', ['Greeks', 12345, true, null, {}, [], 'x']] })),
    bad(JSON.stringify({ type: 'FEED_CONFIG', channel, eventFields: 'nope' })),
    bad(JSON.stringify({ type: 7, channel: 'zero' })),
    bad('[1,2,3]'),
    bad('null'),
    // Oversize: a 4 MB FEED_DATA of nonsense values (counted once per undecodable event).
    bad(JSON.stringify({ type: 'FEED_DATA', channel, data: ['Greeks', new Array(400_000).fill('xxxxxxxx')] })),
    // Unknown event and message types: valid envelopes, skipped without a count.
    { frame: JSON.stringify({ type: 'FEED_DATA', channel, data: ['NoSuchEvent', ['NoSuchEvent', 'SPY']] }), counted: false },
    { frame: JSON.stringify({ type: 'NO_SUCH_MESSAGE', channel: 0 }), counted: false },
  ];
}

describePg('fault: malformed input on the DXLink WebSocket', () => {
  let t: TestStorage;
  let sim: TastySimulator;
  const saved = { ...process.env };
  beforeAll(async () => {
    t = await openTestStorage('postgres');
    sim = await startTastySimulator({ dxlink: { tickMs: 50 } });
    Object.assign(process.env, sim.env);
    delete process.env.TASTY_ACCOUNTS;
  });
  afterAll(async () => {
    process.env = saved;
    await sim?.close();
    await t?.close();
  });

  it('counts and skips every garbage frame, keeps the actor and the connection, and stores every valid event', { timeout: 60_000 }, async () => {
    const pipeline = new Pipeline({ storage: t.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal(), supervisor: { pingIntervalMs: 250 } });
    await pipeline.startActor({ id: 'tasty', broker: 'tasty' });
    const actor = () => pipeline.supervisor.status().find((a) => a.id === 'tasty')!;
    await waitFor(() => sim.sentGreeks().length >= 20 && sim.dxlink.subscriptionMessages.length > 0, 'streaming before the garbage', 40_000);
    const channel = sim.dxlink.subscriptionMessages[0].channel;

    const garbage = dxlinkGarbage(channel);
    const malformed = () => pipeline.processor.stats().drops.malformed;
    for (const { frame, counted } of garbage) {
      const sent = sim.sentGreeks().length;
      const before = malformed();
      sim.dxlink.sendRaw(frame);
      // Valid events between every two garbage frames.
      await waitFor(() => sim.sentGreeks().length > sent, 'a valid event after a garbage frame', 20_000, 10);
      if (counted) await waitFor(() => malformed() > before, `${frame.slice(0, 40)}… to be counted as malformed`, 20_000, 10);
    }
    const sentBefore = sim.sentGreeks().length;
    await waitFor(() => sim.sentGreeks().length > sentBefore + 20, 'valid events after the garbage', 20_000);
    sim.dxKnobs.silent = true;
    const sent = sim.sentGreeks();
    const want = new Set(sent.map((s) => `${s.contractKey}|${s.time}|${s.sequence}`));
    const stored = async () =>
      new Set((await t.storage.query<{ k: string }>(
        `SELECT DISTINCT contract_key || '|' || (extract(epoch FROM event_ts) * 1000)::bigint || '|' || seq AS k FROM greek_snapshots WHERE broker = 'tasty'`,
      )).map((r) => r.k));
    const missing = async () => {
      const got = await stored();
      return [...want].filter((k) => !got.has(k));
    };
    await waitFor(async () => (await missing()).length === 0, 'every valid event stored', 30_000, 250);
    await waitFor(() => actor().health?.malformed === malformed(), 'the actor to report the same malformed count', 10_000);
    const s = pipeline.processor.stats();
    await pipeline.stop();

    expect(await missing()).toEqual([]);
    expect((await stored()).size).toBe(want.size); // and nothing made up from the garbage
    expect(actor().restarts).toBe(0);
    expect(actor().health?.reconnects).toBe(0); // not even the connection was dropped
    expect(s.drops.malformed).toBeGreaterThanOrEqual(garbage.filter((g) => g.counted).length);
  });
});
