import { afterEach, describe, expect, it } from 'vitest';
import { startTwsRig, tickUntilGreeks, waitFor, type TwsRig } from './tws-helpers.js';

let rig: TwsRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/** Every contract gets greeks again after `since` (index into the greeks list). */
async function dataResumesForAll(r: TwsRig, what: string): Promise<void> {
  const since = r.greeks().length;
  const keys = new Set(r.sim.contracts.map((c) => c.contractKey));
  await waitFor(() => {
    r.sim.tick();
    const seen = new Set(r.greeks().slice(since).map((g) => g.contractKey));
    return [...keys].every((k) => seen.has(k));
  }, what);
}

describe('tws stream recovery against the TWS simulator', () => {
  it('1100 → degraded; 1101 (data lost) → every subscription re-sent and data resumes', async () => {
    rig = await startTwsRig();
    const n = rig.sim.contracts.length;
    await tickUntilGreeks(rig, n, 'initial greeks');
    rig.sim.notice(1100);
    await waitFor(() => rig!.stream.health().state === 'degraded', 'degraded after 1100');
    rig.sim.notice(1101);
    expect(rig.sim.liveContracts()).toEqual([]); // TWS dropped them all
    await waitFor(() => rig!.sim.liveContracts().length === n, 'resubscribed after 1101');
    await dataResumesForAll(rig, 'greeks for every contract after 1101');
    await waitFor(() => rig!.sim.stats().requests.reqPositions === 2, 'positions requested again');
    const req = rig.sim.stats().requests;
    expect(req.reqMktData).toBe(2 * n);
    expect(req.cancelMktData).toBe(n);
    expect(req.reqPositions).toBe(2);
    expect(rig.stream.health().state).toBe('connected');
    expect(rig.sim.stats().connections).toBe(1);
  });

  it('2103 farm broken → degraded; 2104 farm OK → resubscribed and data resumes', async () => {
    rig = await startTwsRig();
    const n = rig.sim.contracts.length;
    await tickUntilGreeks(rig, n, 'initial greeks');
    rig.sim.notice(2103);
    await waitFor(() => rig!.stream.health().state === 'degraded', 'degraded after 2103');
    const before = rig.greeks().length;
    rig.sim.tick();
    rig.sim.notice(2104);
    await waitFor(() => rig!.sim.liveContracts().length === n, 'resubscribed after 2104');
    expect(rig.greeks().length).toBe(before); // nothing flowed while the farm was down
    await dataResumesForAll(rig, 'greeks for every contract after 2104');
    expect(rig.stream.health().state).toBe('connected');
    expect(rig.sim.stats().requests.reqMktData).toBe(2 * n);
  });

  it('2108 (farm inactive) changes nothing', async () => {
    rig = await startTwsRig();
    rig.sim.notice(2108);
    await tickUntilGreeks(rig, rig.sim.contracts.length, 'greeks after 2108');
    expect(rig.sim.stats().requests.reqMktData).toBe(rig.sim.contracts.length);
    expect(rig.stream.health().state).toBe('connected');
  });

  it('abrupt close → reconnects with backoff and restores every subscription', async () => {
    rig = await startTwsRig();
    const n = rig.sim.contracts.length;
    await tickUntilGreeks(rig, n, 'initial greeks');
    rig.sim.dropConnections();
    await waitFor(() => rig!.sim.stats().connections >= 2 && rig!.sim.liveContracts().length === n, 'reconnected and resubscribed');
    await dataResumesForAll(rig, 'greeks for every contract after reconnect');
    expect(rig.states()).toContain('disconnected');
    expect(rig.stream.health()).toMatchObject({ state: 'connected', reconnects: 1, subscriptions: n });
    expect(rig.sim.stats().requests.reqPositions).toBe(2);
  });

  it('hung TWS (no currentTime reply) → degraded, reconnect, streaming again', async () => {
    rig = await startTwsRig({ env: { IBKR_HEARTBEAT_MS: '200' }, stream: { replyTimeoutMs: 1000 } });
    const n = rig.sim.contracts.length;
    await waitFor(() => rig!.sim.stats().requests.reqCurrentTime >= 2, 'heartbeats answered');
    expect(rig.stream.health().reconnects).toBe(0);
    const mark = rig.states().length;
    rig.sim.knobs.hung = true;
    await waitFor(() => rig!.states().slice(mark).includes('disconnected'), 'heartbeat timeout');
    expect(rig.states().slice(mark, mark + 2)).toEqual(['degraded', 'disconnected']);
    expect(rig.stream.health().lastError).toMatch(/heartbeat timeout/);
    rig.sim.knobs.hung = false;
    await waitFor(() => rig!.stream.health().state === 'connected' && rig!.sim.liveContracts().length === n, 'connected again');
    expect(rig.sim.stats().connections).toBeGreaterThanOrEqual(2);
    await dataResumesForAll(rig, 'greeks after the hang');
  });

  it('competing session (10197) → degraded; retried later, connected once data flows', async () => {
    rig = await startTwsRig({ stream: { competingRetryMs: 300 } });
    const n = rig.sim.contracts.length;
    rig.sim.competingSession();
    await waitFor(() => rig!.stream.health().state === 'degraded', 'degraded after 10197');
    expect(rig.stream.health().lastError).toMatch(/10197/);
    await waitFor(() => rig!.sim.liveContracts().length === n, 'resubscribed after the retry delay');
    await dataResumesForAll(rig, 'greeks after the competing session ended');
    await waitFor(() => rig!.stream.health().state === 'connected', 'connected again');
  });
});
