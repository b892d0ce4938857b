import { describe, expect, it } from 'vitest';
import type { CpapiRest } from '../../src/brokers/ibkr/cpapi/rest.js';
import { ensureBrokerageSession } from '../../src/brokers/ibkr/cpapi/session.js';

/** A gateway whose brokerage session becomes authenticated `lag` status checks after ssodh/init. */
function gateway(lag: number) {
  const calls: string[] = [];
  let initAt = -1;
  const rest = {
    async post(path: string) {
      calls.push(path);
      if (path === '/iserver/auth/ssodh/init') initAt = calls.length;
      if (path === '/iserver/auth/status') {
        const checksSinceInit = initAt < 0 ? -1 : calls.slice(initAt).filter((c) => c === '/iserver/auth/status').length;
        return { authenticated: initAt >= 0 && checksSinceInit > lag, competing: false, connected: true };
      }
      return {};
    },
    async get() {
      return {};
    },
  } as unknown as CpapiRest;
  return { rest, calls };
}

const noWait = async () => undefined;

describe('brokerage session after ssodh/init', () => {
  it('keeps checking the status while the gateway opens the session', async () => {
    const { rest, calls } = gateway(3);
    await expect(ensureBrokerageSession(rest, noWait)).resolves.toBe(true);
    expect(calls.filter((c) => c === '/iserver/auth/ssodh/init')).toHaveLength(1);
    expect(calls.filter((c) => c === '/iserver/auth/status')).toHaveLength(5); // 1 before, 4 after
  });

  it('gives up with a one-line error when the session never opens', async () => {
    const { rest } = gateway(100);
    await expect(ensureBrokerageSession(rest, noWait, 4)).rejects.toThrow(/not authenticated: log in to the Client Portal gateway/);
  });
});
