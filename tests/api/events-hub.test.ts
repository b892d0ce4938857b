import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { FakeClock } from '../helpers/fake-clock.js';
import type { LatestGreeks } from '../../src/core/processor.js';
import { EventHub, GREEKS_EVERY_MS, STATUS_EVERY_MS, type HubClient } from '../../src/api/events/hub.js';
import { MAX_TICKETS, TicketBook, TICKET_TTL_MS } from '../../src/api/events/tickets.js';
import type { AlertJson } from '../../src/api/riskPort.js';

const log = pino({ level: 'silent' });

class FakeClient implements HubClient {
  events: { event: string; data: any }[] = [];
  private onCloseFns: (() => void)[] = [];
  send(event: string, data: unknown) {
    this.events.push({ event, data });
    return true;
  }
  heartbeat() {}
  close() {
    for (const f of this.onCloseFns) f();
  }
  onClose(fn: () => void) {
    this.onCloseFns.push(fn);
  }
  of(event: string) {
    return this.events.filter((e) => e.event === event).map((e) => e.data);
  }
}

function snap(contractKey: string, mark: number, account = 'A1'): LatestGreeks {
  return {
    broker: 'sim', account, contractKey, underlying: 'SPY', eventTs: 1, seq: 1, receivedAt: 1, updatedAt: 1, quantity: 1, multiplier: 100,
    bid: null, ask: null, mark, underlyingPrice: 500, iv: 0.2, delta: 0.5, gamma: 0.01, theta: -0.1, vega: 0.2, rho: null,
  };
}

function setup(risk?: ConstructorParameters<typeof EventHub>[0]['risk']) {
  const clock = new FakeClock();
  const listeners = new Set<(s: LatestGreeks) => void>();
  let state = 'connected';
  const hub = new EventHub({
    latest: {
      onLatest: (fn) => (listeners.add(fn), () => listeners.delete(fn)),
      latestGreeks: () => [snap('SPY   261218C00500000', 1)],
    },
    status: () => ({ doc: { actors: [{ actor: 'sim', state }] }, key: state }),
    risk,
    clock,
    log,
  });
  const tick = (s: LatestGreeks) => listeners.forEach((fn) => fn(s));
  return { clock, hub, listeners, tick, setState: (s: string) => (state = s) };
}

describe('/v1/events hub', () => {
  it('sends hello, the full snapshot and the status on connect', () => {
    const { hub } = setup();
    const c = new FakeClient();
    hub.add(c);
    expect(c.events.map((e) => e.event)).toEqual(['hello', 'greeks', 'status']);
    expect(c.events[0].data).toMatchObject({ risk: false, alerts: false });
    expect(c.events[1].data).toMatchObject({ snapshot: true, rows: [{ contract_key: 'SPY   261218C00500000', mark: 1, multiplier: 100 }] });
  });

  it('conflates: many updates of one position in one interval go out once, with the newest values', () => {
    const { hub, tick, clock } = setup();
    const c = new FakeClient();
    hub.add(c);
    for (let i = 0; i < 100; i++) tick(snap('SPY   261218C00500000', i));
    tick(snap('SPY   261218C00500000', 7, 'A2'));
    expect(c.of('greeks')).toHaveLength(1); // only the connect snapshot so far
    clock.advance(GREEKS_EVERY_MS);
    const batches = c.of('greeks').slice(1);
    expect(batches).toHaveLength(1);
    expect(batches[0].rows.map((r: any) => [r.account, r.mark])).toEqual([['A1', 99], ['A2', 7]]);
    clock.advance(GREEKS_EVERY_MS * 4); // nothing changed: nothing sent
    expect(c.of('greeks')).toHaveLength(2);
  });

  it('sends status on an actor state change within a second, else every 5 s', () => {
    const { hub, clock, setState } = setup();
    const c = new FakeClient();
    hub.add(c);
    clock.advance(STATUS_EVERY_MS - 1000);
    expect(c.of('status')).toHaveLength(1);
    clock.advance(1000);
    expect(c.of('status')).toHaveLength(2);
    setState('degraded');
    clock.advance(1000);
    expect(c.of('status').at(-1)).toEqual({ actors: [{ actor: 'sim', state: 'degraded' }] });
    expect(c.of('status')).toHaveLength(3);
  });

  it('listens to the processor only while a page is connected', () => {
    const { hub, listeners, clock } = setup();
    expect(listeners.size).toBe(0);
    const a = new FakeClient();
    const b = new FakeClient();
    hub.add(a);
    hub.add(b);
    expect(listeners.size).toBe(1);
    a.close();
    expect(listeners.size).toBe(1);
    b.close();
    expect(listeners.size).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('sends risk only when the numbers change, and forwards alerts', async () => {
    let delta = 1;
    const alertFns = new Set<(a: AlertJson) => void>();
    const { hub, clock } = setup({
      summary: async () => ({ as_of: new Date(clock.now()).toISOString(), data_age_ms: clock.now() % 1000, totals: { delta } }),
      alerts: { onAlert: (fn) => (alertFns.add(fn), () => alertFns.delete(fn)) },
    });
    const c = new FakeClient();
    hub.add(c);
    expect(c.events[0].data).toMatchObject({ risk: true, alerts: true });
    await clock.advanceAsync(3000, 1000);
    expect(c.of('risk')).toHaveLength(1);
    delta = 2;
    await clock.advanceAsync(1000);
    expect(c.of('risk').map((d) => d.totals.delta)).toEqual([1, 2]);
    const alert: AlertJson = { id: 1, rule: 'delta_limit', subject: 'portfolio', opened_at: 'x', closed_at: null, value: 2, threshold: 1, message: 'delta over 1', close_value: null, close_message: null };
    alertFns.forEach((fn) => fn(alert));
    expect(c.of('alert')).toEqual([alert]);
    c.close();
    expect(alertFns.size).toBe(0);
  });
});

describe('SSE tickets', () => {
  it('work once, and not after their time', () => {
    const clock = new FakeClock();
    const book = new TicketBook(clock);
    const a = book.issue().ticket;
    const b = book.issue().ticket;
    expect(a).not.toBe(b);
    expect(a.length).toBeGreaterThanOrEqual(32);
    expect(book.redeem(a)).toBe(true);
    expect(book.redeem(a)).toBe(false);
    clock.advance(TICKET_TTL_MS);
    expect(book.redeem(b)).toBe(false);
    expect(book.redeem(undefined)).toBe(false);
    expect(book.redeem('')).toBe(false);
  });

  it('stay bounded in number', () => {
    const book = new TicketBook(new FakeClock());
    const first = book.issue().ticket;
    for (let i = 0; i < MAX_TICKETS + 10; i++) book.issue();
    expect(book.size()).toBe(MAX_TICKETS);
    expect(book.redeem(first)).toBe(false);
  });
});
