import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { Connections, FaultLine, HoldBack, SentLedger, closeServer, defaultFaultKnobs, listen, startTicker } from '../../src/brokers/simkit/index.js';

/** A scripted random source: returns the given draws in order, then 0.99. */
const draws = (...xs: number[]) => {
  let i = 0;
  const f = () => (i++ < xs.length ? xs[i - 1] : 0.99);
  return Object.assign(f, { used: () => i });
};

describe('simulator kit: ticker on fake time', () => {
  it('interval mode ticks every period and reports the time since the previous tick', () => {
    const clock = new FakeClock();
    const ticks: [number, number][] = [];
    const start = clock.now();
    const t = startTicker({ clock, periodMs: 100, onTick: (now, since) => ticks.push([now - start, since]) });
    clock.advance(350);
    expect(ticks).toEqual([[100, 100], [200, 100], [300, 100]]);
    t.stop();
    clock.advance(1000);
    expect(ticks).toHaveLength(3);
  });

  it('fixed-rate mode reads the period before every tick (a knob changes it while running)', () => {
    const clock = new FakeClock();
    let period = 50;
    const at: number[] = [];
    const start = clock.now();
    const t = startTicker({ clock, mode: 'fixed-rate', periodMs: () => period, onTick: (now) => at.push(now - start) });
    clock.advance(100);
    period = 1_000;
    clock.advance(2_000);
    expect(at).toEqual([50, 100, 150, 1150]); // the period is read after each tick
    t.stop();
    expect(clock.pending()).toBe(0);
  });

  it('tickNow runs one tick outside the schedule', () => {
    const clock = new FakeClock();
    let n = 0;
    const t = startTicker({ clock, periodMs: 1_000, onTick: () => n++ });
    t.tickNow();
    expect(n).toBe(1);
    t.stop();
  });
});

describe('simulator kit: fault line', () => {
  const run = (knobs: Partial<ReturnType<typeof defaultFaultKnobs>>, rand: () => number, clock = new FakeClock()) => {
    const out: string[] = [];
    const line = new FaultLine<string, string>({ knobs: { ...defaultFaultKnobs(), ...knobs }, rand, clock, deliver: (m, _k, copy) => out.push(copy ? `${m}*` : m) });
    return { out, line, clock };
  };

  it('without faults every update goes out once, in order', () => {
    const { out, line } = run({}, draws());
    for (const m of ['a1', 'a2', 'b1']) line.offer(m[0], m);
    expect(out).toEqual(['a1', 'a2', 'b1']);
  });

  it('a held-back update goes out right after the next update of its key', () => {
    const rand = draws(0.1); // a1: reorder
    const { out, line } = run({ reorder: 0.5 }, rand);
    line.offer('a', 'a1');
    line.offer('b', 'b1');
    expect(out).toEqual(['b1']);
    line.offer('a', 'a2');
    expect(out).toEqual(['b1', 'a2', 'a1']);
    expect(line.held()).toBe(0);
  });

  it('duplicates are flagged as copies; drop sends nothing', () => {
    const { out, line } = run({ duplicate: 0.5, drop: 0.5 }, draws(0.9, 0.99, 0.1, 0.1));
    line.offer('a', 'a1'); // drop no (0.9), reorder no (0.99), duplicate yes (0.1)
    line.offer('a', 'a2'); // drop yes (0.1)
    expect(out).toEqual(['a1', 'a1*']);
  });

  it('drop draws nothing when off, so a seed replays the same stream', () => {
    const rand = draws();
    const { line } = run({}, rand);
    line.offer('a', 'a1');
    expect(rand.used()).toBe(2); // reorder + duplicate
  });

  it('delay waits on the clock; flush sends what is held; silence sends nothing', () => {
    const { out, line, clock } = run({ delayMs: 200, reorder: 0.5 }, draws(0.1));
    line.offer('a', 'a1'); // held
    line.offer('b', 'b1');
    expect(out).toEqual([]);
    clock.advance(200);
    expect(out).toEqual(['b1']);
    line.flush();
    clock.advance(200);
    expect(out).toEqual(['b1', 'a1']);
    const silent = run({ silent: true }, draws());
    silent.line.offer('a', 'x');
    expect(silent.out).toEqual([]);
  });
});

describe('simulator kit: hold-back, ledger, connections, listener', () => {
  it('HoldBack keeps one update per key and drains in order', () => {
    const h = new HoldBack<number, string>();
    h.hold(1, 'x');
    h.hold(2, 'y');
    expect(h.take(1)).toBe('x');
    expect(h.take(1)).toBeUndefined();
    h.hold(3, 'z');
    expect(h.drain()).toEqual([[2, 'y'], [3, 'z']]);
    expect(h.size).toBe(0);
  });

  it('the ledger keeps unique updates in send order', () => {
    const l = new SentLedger<{ k: string; v: number }>((e) => `${e.k}|${e.v}`);
    expect(l.record({ k: 'a', v: 1 })).toBe(true);
    expect(l.record({ k: 'a', v: 1 })).toBe(false);
    l.record({ k: 'b', v: 2 });
    l.record({ k: 'a', v: 3 });
    expect(l.size).toBe(3);
    expect(l.entries().map((e) => e.v)).toEqual([1, 2, 3]);
    expect([...l.groupBy((e) => e.k)].map(([k, es]) => [k, es.length])).toEqual([['a', 2], ['b', 1]]);
    const counting = new SentLedger<number>(String, false);
    counting.record(1);
    counting.record(1);
    expect([counting.size, counting.entries().length]).toEqual([2, 0]);
  });

  it('Connections drops, closes and silences the current connections', () => {
    const dropped: string[] = [];
    const closed: string[] = [];
    const conns = new Connections<{ id: string }>({ drop: (c) => dropped.push(c.id), close: (c, code) => closed.push(`${c.id}:${code}`) });
    const a = { id: 'a' };
    const b = { id: 'b' };
    conns.add(a);
    conns.add(b);
    conns.silenceAll();
    const c = { id: 'c' };
    conns.add(c);
    expect([conns.isSilenced(a), conns.isSilenced(c)]).toEqual([true, false]);
    conns.closeAll(1012);
    expect(closed).toEqual(['a:1012', 'b:1012', 'c:1012']);
    conns.dropAll();
    expect(dropped).toEqual(['a', 'b', 'c']);
    expect(conns.size).toBe(0);
  });

  it('listen binds an ephemeral port on 127.0.0.1', async () => {
    const server = net.createServer((s) => s.end('hi'));
    const bound = await listen(server);
    expect(bound.host).toBe('127.0.0.1');
    expect(bound.port).toBeGreaterThan(0);
    await closeServer(server);
    expect(server.listening).toBe(false);
  });
});
