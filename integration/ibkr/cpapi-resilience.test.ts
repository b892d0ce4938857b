import { afterEach, describe, expect, it } from 'vitest';
import type { StateEvent } from '../../src/core/types.js';
import { startRig, waitFor, type Rig } from './cpapi-helpers.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

/** Every option conid and every underlying conid of the book is subscribed on the open socket. */
function allSubscribed(r: Rig): boolean {
  const want = [...r.sim.book.contracts.map((_, i) => r.sim.book.optionConid(i)), 756733, 416904, 265598, 320227571].sort((a, b) => a - b);
  return JSON.stringify(r.sim.liveSubscriptions()) === JSON.stringify(want) && r.sim.openSockets() === 1;
}

/** Greeks keep flowing: `n` more updates arrive from now on. */
async function flowing(r: Rig, n = 10): Promise<void> {
  const before = r.greeks().length;
  await waitFor(() => r.greeks().length >= before + n, `${n} more greeks updates`);
}

const states = (r: Rig) => r.events.filter((e): e is StateEvent => e.kind === 'state').map((e) => e.state);

describe('cpapi heartbeat', () => {
  it('keeps the session: with a 300 ms heartbeat the gateway never expires it', async () => {
    rig = await startRig({ ticTimeoutMs: 1500 }, { IBKR_HEARTBEAT_MS: '300' });
    await waitFor(() => rig!.sim.stats.tics >= 7, '7 tics (2.1 s, beyond the 1.5 s expiry window)');
    expect(rig.sim.stats.ticExpiries).toBe(0);
    expect(rig.sim.stats.connections).toBe(1);
    expect(rig.sim.stats.tickles).toBeGreaterThanOrEqual(7);
  });

  it('without the heartbeat the gateway expires the session; the client reconnects and resubscribes', async () => {
    rig = await startRig({ ticTimeoutMs: 800 }, { IBKR_HEARTBEAT_MS: '600000' });
    await waitFor(() => rig!.sim.stats.ticExpiries >= 1, 'the gateway to expire the tic-less session');
    expect(rig.sim.stats.tics).toBe(0);
    await waitFor(() => rig!.sim.stats.connections >= 2 && allSubscribed(rig!), 'reconnect with every subscription');
  });
});

describe('cpapi reconnects', () => {
  it('after an abrupt close, reconnects and restores every subscription', async () => {
    rig = await startRig({});
    await waitFor(() => allSubscribed(rig!) && rig!.greeks().length > 5, 'streaming');
    rig.sim.dropConnections();
    await waitFor(() => rig!.sim.stats.connections === 2 && allSubscribed(rig!), 'reconnect with every subscription');
    await flowing(rig);
    expect(states(rig)).toEqual(['connecting', 'connected', 'disconnected', 'connecting', 'connected']);
    expect(rig.stream.health().reconnects).toBe(1);
  });

  it('after a competing login, re-authenticates with ssodh/init and restores every subscription', async () => {
    rig = await startRig({});
    await waitFor(() => allSubscribed(rig!) && rig!.greeks().length > 5, 'streaming');
    rig.sim.competeSession();
    await waitFor(() => rig!.sim.stats.ssodhInits === 1 && rig!.sim.stats.connections === 2 && allSubscribed(rig!), 're-auth and resubscribe');
    await flowing(rig);
    expect(rig.sim.stats.accountsCalls).toBe(2);
    expect(rig.sim.stats.rateLimited).toBe(0);
    const lost = rig.events.find((e): e is StateEvent => e.kind === 'state' && e.state === 'disconnected');
    expect(lost?.reason).toMatch(/competing/);
  });

  it('detects a socket that went silent (no system heartbeat) and reconnects', async () => {
    rig = await startRig({}, {}, { silenceMs: 1000 });
    await waitFor(() => allSubscribed(rig!) && rig!.greeks().length > 5, 'streaming');
    rig.sim.knobs.mute = true;
    await waitFor(() => rig!.stream.health().reconnects >= 1, 'the watchdog to give up on the silent socket');
    rig.sim.knobs.mute = false;
    await waitFor(() => allSubscribed(rig!), 'every subscription restored');
    await flowing(rig);
    const lost = rig.events.find((e): e is StateEvent => e.kind === 'state' && e.state === 'disconnected');
    expect(lost?.reason).toMatch(/no message from the gateway/);
  });
});

describe('cpapi smd expiry', () => {
  it('re-sent subscriptions outlive the gateway expiry', async () => {
    rig = await startRig({ smdExpiryMs: 1000 }, {}, { smdResendMs: 400 });
    await waitFor(() => (rig!.sim.stats.smdRequests.get(800000001) ?? 0) >= 6, 'six rounds of smd (2.4 s, over twice the expiry)');
    expect(rig.sim.stats.expiredSubscriptions).toBe(0);
    await flowing(rig);
  });

  it('without re-sending, the gateway expires the subscriptions and data stops', async () => {
    rig = await startRig({ smdExpiryMs: 800 }, {}, { smdResendMs: 600_000 });
    await waitFor(() => rig!.sim.stats.expiredSubscriptions >= 9, 'every subscription to expire');
    expect(rig.sim.liveSubscriptions()).toEqual([]);
  });
});
