/**
 * ingest --cluster with the real brokers' plugins against their simulators (specs/cluster.md,
 * D82-D84): Tastytrade leased per account (TASTY_ACCOUNTS: three units, each actor streaming one
 * account's positions and a DXLink feed of its contracts, its greeks naming the account), Alpaca
 * as one unit (one key = one account), IBKR as one unit (the gateway session). Three members,
 * lease time on a FakeClock; one member dies: every unit is streamed again by exactly one member,
 * and every row a member accepted is stored.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clusterStatus, clusterUnits, unitCovers } from '../../src/app/cluster.js';
import { startAlpacaSimulator, type AlpacaSimulator } from '../../src/brokers/alpaca/sim/index.js';
import { startCpapiSimulator, type CpapiSimulator } from '../../src/brokers/ibkr/sim/cpapi/index.js';
import { defaultContracts } from '../../src/brokers/simbook.js';
import { optionHolding, startTastySimulator, type TastySimulator } from '../../src/brokers/tasty/sim/index.js';
import { FakeClock } from '../../tests/helpers/fake-clock.js';
import { describePg, openTestStorage, type TestStorage } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';
import { threeMembers } from './members.js';

const ACCOUNTS = ['5WT00001', '5WT00002', '5WT00003'];

it('units: tasty per TASTY_ACCOUNTS account, else one; alpaca and ibkr one unit each, and status says what a unit covers', () => {
  const specs = [{ id: 'tasty', broker: 'tasty' }, { id: 'alpaca', broker: 'alpaca' }, { id: 'ibkr', broker: 'ibkr' }, { id: 'sim', broker: 'sim', flags: { accounts: '2' } }];
  const units = clusterUnits(specs, { TASTY_ACCOUNTS: '5WT1, 5WT2,5WT1' });
  expect([...units]).toEqual(['tasty:5WT1', 'tasty:5WT2', 'alpaca:*', 'ibkr:*', 'sim:SIM-1', 'sim:SIM-2']);
  expect(units.spec('tasty:5WT2')).toMatchObject({ id: 'tasty:5WT2', broker: 'tasty', flags: { 'only-account': '5WT2' } });
  expect(units.spec('ibkr:*').flags?.['only-account']).toBeUndefined();
  expect([...clusterUnits(specs.slice(0, 1), {})]).toEqual(['tasty:*']);
  expect(unitCovers('tasty:5WT1')).toBe('account 5WT1');
  expect(unitCovers('tasty:*')).toMatch(/every account of the login.*TASTY_ACCOUNTS/);
  expect(unitCovers('alpaca:*')).toMatch(/one key = one account/);
  expect(unitCovers('ibkr:*')).toMatch(/gateway session.*not split/);
});

describePg('ingest --cluster: tasty per account, alpaca and ibkr whole, three members, one dies', () => {
  let t: TestStorage;
  let tasty: TastySimulator;
  let alpaca: AlpacaSimulator;
  let ibkr: CpapiSimulator;
  const saved = { ...process.env };
  beforeAll(async () => {
    t = await openTestStorage('postgres');
    const [spyCall, spyPut, spxPut, aaplCall] = defaultContracts();
    // every account holds the SPY call: a feed that forgot its account would write the others' rows too
    tasty = await startTastySimulator({
      book: new Map([
        [ACCOUNTS[0], [optionHolding(spyCall, 10), optionHolding(spyPut, -5)]],
        [ACCOUNTS[1], [optionHolding(spyCall, -3), optionHolding(aaplCall, 4)]],
        [ACCOUNTS[2], [optionHolding(spyCall, 2), optionHolding(spxPut, 1)]],
      ]),
    });
    alpaca = await startAlpacaSimulator();
    ibkr = await startCpapiSimulator({ hbMs: 1000 });
    Object.assign(process.env, tasty.env, alpaca.env, {
      TASTY_ACCOUNTS: ACCOUNTS.join(','), ALPACA_GREEKS_POLL_MS: '500',
      IBKR_TRANSPORT: 'cpapi', IBKR_GATEWAY_URL: ibkr.url, IBKR_TLS_INSECURE: '1', IBKR_HEARTBEAT_MS: '2000',
    });
  });
  afterAll(async () => {
    process.env = saved;
    await tasty?.close();
    await alpaca?.close();
    await ibkr?.close();
    await t?.close();
  });

  it('each unit streamed by exactly one member; the dead member\'s units taken over; 0 rows lost; no account written from another\'s feed', { timeout: 120_000 }, async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 15, 0, 0));
    const units = clusterUnits([{ id: 'tasty', broker: 'tasty' }, { id: 'alpaca', broker: 'alpaca' }, { id: 'ibkr', broker: 'ibkr' }]);
    expect([...units]).toEqual([...ACCOUNTS.map((a) => `tasty:${a}`), 'alpaca:*', 'ibkr:*']);
    const { pipelines, members, running, exactlyOnce, beat } = threeMembers(t.storage, clock, units);
    const [a, b, c] = members;
    /** rows of a unit: its account's rows for tasty, the broker's rows otherwise */
    const rowsOf = async (unit: string) => {
      const [broker, account] = unit.split(':') as [string, string];
      const [r] = await t.storage.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM greek_snapshots WHERE broker = $1 AND ($2 = '*' OR account = $2)`, [broker, account]);
      return Number(r.n);
    };

    for (const m of members) await m.join();
    await beat(0, members);
    expect(exactlyOnce(members)).toEqual([...units].sort());
    expect(members.map((m) => m.owned().length).sort()).toEqual([1, 2, 2]); // fair share: ceil(5 / 3)
    await waitFor(async () => (await Promise.all(units.map(rowsOf))).every((n) => n > 0), 'rows from every unit', 60_000, 200);

    // b dies: its streams stop, its leases stay until they expire
    const orphaned = b.owned();
    expect(orphaned.length).toBeGreaterThan(0);
    await b.crash();
    const alive = [a, c];
    await beat(5_000, alive);
    await beat(5_000, alive);
    expect(exactlyOnce(alive)).toHaveLength(5 - orphaned.length);
    for (let i = 0; i < 6 && exactlyOnce(alive).length < 5; i++) await beat(5_000, alive);
    expect(exactlyOnce(alive)).toEqual([...units].sort());
    expect([...a.takeovers, ...c.takeovers].map((x) => x.unit).sort()).toEqual(orphaned);

    const before = await Promise.all(orphaned.map(rowsOf));
    await waitFor(async () => (await Promise.all(orphaned.map(rowsOf))).every((n, i) => n > before[i]), 'rows from the taken-over units', 60_000, 200);

    const status = await clusterStatus(t.storage, clock.now());
    const live = status.leases.filter((l) => l.live);
    expect(live.map((l) => l.unit).sort()).toEqual([...units].sort());
    expect(live.find((l) => l.unit === 'ibkr:*')?.covers).toMatch(/gateway session/);
    expect(live.find((l) => l.unit === `tasty:${ACCOUNTS[0]}`)?.covers).toBe(`account ${ACCOUNTS[0]}`);
    expect(a.view().leases.find((l) => l.unit === 'alpaca:*')?.covers).toMatch(/one key = one account/);

    for (const m of alive) await m.stop();
    expect(running().flat()).toEqual([]);
    for (const p of pipelines) await p.stop();
    // Every accepted row is stored, but for the ones the database already had: a new owner's first
    // poll/snapshot can repeat the last update the dead owner stored (same key: counted, not lost).
    const accepted = pipelines.reduce((n, p) => n + p.processor.stats().rowsProduced, 0);
    const already = pipelines.reduce((n, p) => n + p.processor.stats().drops.duplicate_db, 0);
    const [{ n: stored }] = await t.storage.query<{ n: number }>('SELECT count(*)::int AS n FROM greek_snapshots');
    expect(accepted).toBeGreaterThan(0);
    expect(already).toBeLessThanOrEqual(orphaned.length * 10);
    expect(stored).toBe(accepted - already);
    // A tasty feed writes only its own account's rows: none refused as already seen (a feed that
    // forgot its account would offer the shared SPY call's update to every account its member holds).
    expect(pipelines.map((p) => p.processor.stats().drops.duplicate)).toEqual([0, 0, 0]);
    const accounts = await t.storage.query<{ account: string }>(`SELECT DISTINCT account FROM greek_snapshots WHERE broker = 'tasty' ORDER BY 1`);
    expect(accounts.map((r) => r.account)).toEqual(ACCOUNTS);
  });
});
