/**
 * Broker outage isolation: the Tastytrade and IBKR (Client Portal) simulators stream through the
 * real plugins, each in its own actor, into PostgreSQL. Tastytrade's DXLink feed goes away (every
 * connection reset, new ones refused, on the same address) while IBKR streams on: IBKR's rows keep
 * being persisted with no gap longer than two flush intervals, no actor is restarted, and when the
 * feed comes back Tastytrade reconnects by itself and its rows resume.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { startCpapiSimulator, type CpapiSimulator } from '../../src/brokers/ibkr/sim/cpapi/index.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';
import { startProxiedTasty, type ProxiedTasty } from './tasty-behind-proxy.js';

const FLUSH_INTERVAL_MS = 1000;
const OUTAGE_MS = 4000;

describePg('fault: one broker goes away, the other keeps streaming', () => {
  let t: TestStorage;
  let tasty: ProxiedTasty;
  let ibkr: CpapiSimulator;
  const saved = { ...process.env };
  beforeAll(async () => {
    t = await openTestStorage('postgres');
    tasty = await startProxiedTasty({ tickMs: 50 });
    ibkr = await startCpapiSimulator({ hbMs: 1000, rateMs: 100 });
    // The plugins read their configuration from the environment, in their worker threads too.
    Object.assign(process.env, tasty.env, {
      TASTY_KEEPALIVE_TIMEOUT_MS: '5000',
      IBKR_TRANSPORT: 'cpapi', IBKR_GATEWAY_URL: ibkr.url, IBKR_TLS_INSECURE: '1', IBKR_HEARTBEAT_MS: '2000',
    });
    delete process.env.TASTY_ACCOUNTS;
    delete process.env.IBKR_ACCOUNTS;
  });
  afterAll(async () => {
    process.env = saved;
    await tasty?.close();
    await ibkr?.close();
    await t?.close();
  });

  it('keeps persisting IBKR without a gap while Tastytrade is down, and Tastytrade resumes when it is back', { timeout: 90_000 }, async () => {
    const pipeline = new Pipeline({ storage: t.storage, config: readAppConfig({ FLUSH_INTERVAL_MS: String(FLUSH_INTERVAL_MS) }), log: testLogger, journal: new MemoryJournal() });
    await Promise.all(['tasty', 'ibkr'].map((id) => pipeline.startActor({ id, broker: id })));
    const rowsSince = async (broker: string, since: number) =>
      Number((await t.storage.query<{ n: number }>('SELECT count(*)::int AS n FROM greek_snapshots WHERE broker = $1 AND received_at > $2', [broker, new Date(since)]))[0].n);
    const actor = (id: string) => pipeline.supervisor.status().find((a) => a.id === id)!;
    await waitFor(async () => (await rowsSince('tasty', 0)) > 20 && (await rowsSince('ibkr', 0)) > 20, 'rows from both brokers', 40_000, 200);

    const cutAt = Date.now();
    tasty.proxy.cut();
    await waitFor(() => actor('tasty').streamState !== 'connected', 'tasty to notice the outage', 20_000);
    // Keep the feed away for a while, measured in IBKR rows persisted meanwhile (not a sleep).
    await waitFor(async () => (await rowsSince('ibkr', cutAt + OUTAGE_MS)) > 0, `IBKR rows ${OUTAGE_MS} ms into the outage`, 30_000, 200);
    expect(tasty.proxy.refused).toBeGreaterThan(0); // the plugin did try to reconnect, and was refused
    const restoredAt = Date.now();
    tasty.proxy.restore();

    await waitFor(() => actor('tasty').streamState === 'connected', 'tasty to reconnect', 40_000);
    await waitFor(async () => (await rowsSince('tasty', restoredAt)) > 10, 'tasty rows after the outage', 30_000, 200);
    const ibkrAfter = Date.now();
    await waitFor(async () => (await rowsSince('ibkr', ibkrAfter)) > 0, 'IBKR rows after tasty is back', 20_000, 200);
    const report = await pipeline.stop();
    expect(report.drained).toBe(true);

    // IBKR was persisted continuously from before the cut until after the restore.
    const [gap] = await t.storage.query<{ max_gap_ms: number; n: number }>(
      `SELECT max(gap)::float8 AS max_gap_ms, count(*)::int AS n FROM (
         SELECT extract(epoch FROM persisted_at - lag(persisted_at) OVER (ORDER BY persisted_at)) * 1000 AS gap
           FROM greek_snapshots WHERE broker = 'ibkr' AND persisted_at BETWEEN $1 AND $2) g`,
      [new Date(cutAt - 1000), new Date(ibkrAfter)],
    );
    expect(gap.n).toBeGreaterThan(10);
    expect(gap.max_gap_ms).toBeLessThan(2 * FLUSH_INTERVAL_MS);
    // Neither actor was restarted: the outage was handled inside the tasty plugin.
    expect(actor('tasty').restarts).toBe(0);
    expect(actor('ibkr').restarts).toBe(0);
    expect(actor('tasty').health?.reconnects ?? 0).toBeGreaterThan(0);
  });
});
