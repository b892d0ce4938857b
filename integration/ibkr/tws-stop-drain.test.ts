/**
 * Ticks TWS wrote just before ingest stopped are still on the wire: stop() cancels the market
 * data and keeps reading a moment, so every one of them is emitted.
 */
import { afterEach, expect, it, describe } from 'vitest';
import { sentSet, startTwsRig, emittedByKey, tickUntilGreeks, type TwsRig } from './tws-helpers.js';

describe('stopping the tws stream mid-stream', () => {
  let rig: TwsRig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('emits every greeks update the simulator sent before the stop', async () => {
    rig = await startTwsRig();
    await tickUntilGreeks(rig, 1, 'the first greeks');
    for (let i = 0; i < 30; i++) rig.sim.tick(); // written to the socket, not yet read
    await rig.stream.stop();
    const sent = sentSet(rig.sim);
    const got = new Set(emittedByKey(rig.greeks()).values());
    expect([...sent].filter((s) => !got.has(s))).toEqual([]);
  });
});
