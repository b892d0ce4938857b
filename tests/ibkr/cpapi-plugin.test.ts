import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { FakeClock } from '../helpers/fake-clock.js';
import { plugin } from '../../src/brokers/ibkr/index.js';
import { CpapiStream } from '../../src/brokers/ibkr/cpapi/stream.js';

const ctx = { emit: () => {}, log: pino({ level: 'silent' }), clock: new FakeClock() };

describe('ibkr plugin', () => {
  it('is the ibkr broker, parses IBKR_* config with cpapi by default', () => {
    expect(plugin.id).toBe('ibkr');
    const c = plugin.parseConfig({ IBKR_POSITIONS_POLL_MS: '5000' }, {});
    expect(c).toMatchObject({ transport: 'cpapi', gatewayUrl: 'https://localhost:5000', tlsInsecure: true, heartbeatMs: 60000, positionsPollMs: 5000 });
  });
  it('creates the Client Portal stream for cpapi and a TWS stream for tws, connecting nothing yet', async () => {
    expect(plugin.createStream(plugin.parseConfig({}, {}), ctx)).toBeInstanceOf(CpapiStream);
    const tws = plugin.createStream(plugin.parseConfig({ IBKR_TRANSPORT: 'tws' }, {}), ctx);
    expect(tws.health().details).toMatchObject({ transport: 'tws' });
    await tws.stop();
  });
});
