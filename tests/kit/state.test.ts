import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import type { BrokerEvent } from '../../src/core/types.js';
import { StateMachine } from '../../src/brokers/kit/state.js';
import { StreamReporter } from '../../src/brokers/kit/reporter.js';

describe('connection state', () => {
  it('tells listeners (state, prev, reason) on real changes only', () => {
    const m = new StateMachine<'a' | 'b'>('a');
    const heard: unknown[] = [];
    const off = m.onChange((s, p, r) => heard.push([s, p, r]));
    expect(m.set('a')).toBe(false);
    expect(m.set('b', 'why')).toBe(true);
    off();
    m.set('a');
    expect(heard).toEqual([['b', 'a', 'why']]);
  });
});

describe('stream reporter', () => {
  it('turns state changes and malformed messages into events and health', () => {
    const clock = new FakeClock();
    const events: BrokerEvent[] = [];
    const r = new StreamReporter({ broker: 'x', clock, emit: (e) => events.push(e) });
    r.setState('connecting');
    r.setState('connecting');
    r.setState('connected', 'greeted');
    r.malformed('bad frame');
    r.inbound();
    r.reconnects++;
    expect(events).toEqual([
      { kind: 'state', broker: 'x', at: clock.now(), state: 'connecting' },
      { kind: 'state', broker: 'x', at: clock.now(), state: 'connected', reason: 'greeted' },
      { kind: 'malformed', broker: 'x', at: clock.now(), reason: 'bad frame' },
    ]);
    expect(r.health(3, { transport: 't' })).toEqual({
      state: 'connected', lastMessageAt: clock.now(), lastEventAt: null, reconnects: 1, subscriptions: 3, malformed: 1, lastError: null, details: { transport: 't' },
    });
  });
});
