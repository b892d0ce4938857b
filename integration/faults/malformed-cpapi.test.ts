/**
 * Malformed input on the IBKR Client Portal WebSocket. The gateway simulator has no "send
 * garbage" knob, so it runs on plain http behind a TCP proxy that slips extra WebSocket frames
 * between the gateway's own (integration/helpers/ws-inject.ts): random bytes in binary frames,
 * random text, truncated JSON, wrong types, unknown topics, a 4 MB frame. Each is counted and
 * skipped; the actor is not restarted, the socket not dropped, and every greeks update the
 * gateway sent is stored with the values it sent.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { startCpapiSimulator, type CpapiSimulator } from '../../src/brokers/ibkr/sim/cpapi/index.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { startProxy, type TcpProxy } from '../helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';
import { binaryFrame, injectWsFrames, textFrame, type WsInjector } from '../helpers/ws-inject.js';

function randomBytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    b[i] = x & 0xff;
  }
  return b;
}

/** Garbage frames, and whether the plugin must count them (unknown topics are valid and ignored). */
function cpapiGarbage(conid: number): { frame: Buffer; what: string; counted: boolean }[] {
  const bad = (what: string, frame: Buffer) => ({ what, frame, counted: true });
  return [
    bad('random bytes (binary frame)', binaryFrame(randomBytes(512, 1))),
    bad('random text', textFrame(randomBytes(200, 2).toString('base64'))),
    bad('truncated JSON', textFrame(`{"topic":"smd+${conid}","conid":${conid},"_updated":17`)),
    bad('a JSON list', textFrame('[1,2,3]')),
    bad('no topic', textFrame('{"conid":1,"31":"1.5"}')),
    bad('smd without a valid conid', textFrame('{"topic":"smd+abc","conid":"x"}')),
    bad('oversize (4 MB, not JSON)', textFrame(`{"topic":"smd+${conid}","x":"${'y'.repeat(4_000_000)}`)),
    { what: 'wrong field types for a held contract', frame: textFrame(JSON.stringify({ topic: `smd+${conid}`, conid, _updated: 'yesterday', 7308: { x: 1 }, 7309: [1], 7633: true })), counted: false },
    { what: 'unknown topic', frame: textFrame('{"topic":"zzz","args":{"a":1}}'), counted: false },
    { what: 'unknown topic (binary)', frame: binaryFrame(Buffer.from('{"topic":"blt","args":[]}')), counted: false },
  ];
}

describePg('fault: malformed input on the Client Portal WebSocket', () => {
  let t: TestStorage;
  let sim: CpapiSimulator;
  let proxy: TcpProxy;
  let inject: WsInjector;
  const saved = { ...process.env };
  beforeAll(async () => {
    t = await openTestStorage('postgres');
    sim = await startCpapiSimulator({ plainHttp: true, hbMs: 1000, rateMs: 50 });
    proxy = await startProxy(sim.port);
    inject = injectWsFrames(proxy);
    Object.assign(process.env, { IBKR_TRANSPORT: 'cpapi', IBKR_GATEWAY_URL: `http://127.0.0.1:${proxy.port}`, IBKR_HEARTBEAT_MS: '2000' });
    delete process.env.IBKR_ACCOUNTS;
  });
  afterAll(async () => {
    process.env = saved;
    await proxy?.close();
    await sim?.close();
    await t?.close();
  });

  it('counts and skips every garbage frame, keeps the actor and the socket, and stores every update the gateway sent', { timeout: 60_000 }, async () => {
    const pipeline = new Pipeline({ storage: t.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal(), supervisor: { pingIntervalMs: 250 } });
    await pipeline.startActor({ id: 'ibkr', broker: 'ibkr' });
    const actor = () => pipeline.supervisor.status().find((a) => a.id === 'ibkr')!;
    await waitFor(() => sim.greeksSent().length >= 20 && inject.upgraded() === 1, 'streaming through the proxy', 40_000);
    const conid = sim.liveSubscriptions()[0];

    const malformed = () => pipeline.processor.stats().drops.malformed;
    const garbage = cpapiGarbage(conid);
    for (const { frame, what, counted } of garbage) {
      const sent = sim.greeksSent().length;
      const before = malformed();
      inject.send(frame);
      await waitFor(() => sim.greeksSent().length > sent, `a valid update after ${what}`, 20_000, 10);
      if (counted) await waitFor(() => malformed() > before, `${what} to be counted as malformed`, 20_000, 10);
    }
    const after = sim.greeksSent().length;
    await waitFor(() => sim.greeksSent().length > after + 20, 'valid updates after the garbage', 20_000);
    sim.knobs.silent = true;
    const line = (k: string, ts: number, delta: number | null, iv: number | null) => `${k}|${ts}|${delta === null ? 'null' : delta.toFixed(9)}|${iv === null ? 'null' : iv.toFixed(9)}`;
    const want = new Set(sim.greeksSent().map((g) => line(g.contractKey, g.eventTs, g.delta, g.iv)));
    const stored = async () =>
      new Set((await t.storage.querySnapshots({ broker: 'ibkr', limit: 10_000 })).map((r) => line(r.contractKey, r.eventTs, r.delta, r.iv)));
    const missing = async () => {
      const got = await stored();
      return [...want].filter((k) => !got.has(k));
    };
    await waitFor(async () => (await missing()).length === 0, 'every sent update stored', 30_000, 250);
    await waitFor(() => actor().health?.malformed === malformed(), 'the actor to report the same malformed count', 10_000);
    await pipeline.stop();

    expect(await missing()).toEqual([]);
    expect((await stored()).size).toBe(want.size); // nothing made up from the garbage
    expect(malformed()).toBeGreaterThanOrEqual(garbage.filter((g) => g.counted).length);
    expect(actor().restarts).toBe(0);
    expect(actor().health?.reconnects).toBe(0);
    expect(sim.stats.connections).toBe(1); // the socket was never replaced
  });
});
