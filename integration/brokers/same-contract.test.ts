import { afterAll, beforeAll, expect, it } from 'vitest';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { startCpapiSimulator, type CpapiSimulator } from '../../src/brokers/ibkr/sim/cpapi/index.js';
import { defaultContracts, simContractKey } from '../../src/brokers/simbook.js';
import { startTastySimulator, type TastySimulator } from '../../src/brokers/tasty/sim/index.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

describePg('one canonical contract identity across brokers', () => {
  let t: TestStorage;
  let tasty: TastySimulator;
  let ibkr: CpapiSimulator;
  const saved = { ...process.env };
  beforeAll(async () => {
    t = await openTestStorage('postgres');
    tasty = await startTastySimulator();
    ibkr = await startCpapiSimulator({ hbMs: 1000 });
    Object.assign(process.env, tasty.env, { IBKR_TRANSPORT: 'cpapi', IBKR_GATEWAY_URL: ibkr.url, IBKR_TLS_INSECURE: '1', IBKR_HEARTBEAT_MS: '2000' });
  });
  afterAll(async () => {
    process.env = saved;
    await tasty?.close();
    await ibkr?.close();
    await t?.close();
  });

  it('stores the SPY 500 call held at Tastytrade and at IBKR under the same OCC contract_key', { timeout: 60_000 }, async () => {
    const expected = simContractKey(defaultContracts()[0]); // 'SPY   yymmddC00500000'
    const pipeline = new Pipeline({ storage: t.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() });
    await Promise.all(['tasty', 'ibkr'].map((id) => pipeline.startActor({ id, broker: id })));
    const brokersOf = async () =>
      (await t.storage.query<{ broker: string }>('SELECT DISTINCT broker FROM greek_snapshots WHERE contract_key = $1 ORDER BY 1', [expected])).map((r) => r.broker);
    await waitFor(async () => (await brokersOf()).length === 2, 'rows for the shared contract from both brokers', 40_000, 200);
    await pipeline.stop();
    expect(await brokersOf()).toEqual(['ibkr', 'tasty']);
    const positions = await t.storage.listPositions({});
    expect(new Set(positions.filter((p) => p.contractKey === expected).map((p) => p.broker))).toEqual(new Set(['ibkr', 'tasty']));
    // Every stored key is a well-formed 21-character OCC symbol, whichever broker it came from.
    const keys = await t.storage.query<{ contract_key: string }>('SELECT DISTINCT contract_key FROM greek_snapshots');
    for (const k of keys) expect(k.contract_key).toMatch(/^[A-Z0-9 ]{6}\d{6}[CP]\d{8}$/);
  });
});
