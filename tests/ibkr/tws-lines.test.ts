/** TWS line rotation (pure, fake clock): a 300-contract book on 100 lines, paced. */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { LineScheduler } from '../../src/brokers/ibkr/tws/lines.js';

const keys = (n: number) => Array.from({ length: n }, (_, i) => `C${i}`);

/** A fake TWS: `allowance` lines, Greeks `latencyMs` after a request; records what it saw. */
function fakeTws(allowance: number, latencyMs: number, opts: { maxLines?: number; rate?: number; dwell?: number } = {}) {
  const clock = new FakeClock(0);
  const open = new Set<string>();
  const sends: number[] = [];
  const greeksAt = new Map<string, number[]>();
  let peak = 0;
  let refusals = 0;
  const lines: LineScheduler = new LineScheduler({
    clock,
    maxLines: opts.maxLines ?? 100,
    maxRequestsPerSec: opts.rate ?? 40,
    maxDwellMs: opts.dwell ?? 5_000,
    open(k) {
      sends.push(clock.now());
      if (open.size >= allowance) {
        refusals++;
        clock.setTimeout(() => lines.refusedLine(k), 5);
        return;
      }
      open.add(k);
      peak = Math.max(peak, open.size);
      clock.setTimeout(() => {
        if (!open.has(k)) return;
        greeksAt.set(k, [...(greeksAt.get(k) ?? []), clock.now()]);
        lines.gotGreeks(k);
      }, latencyMs);
    },
    close(k) {
      sends.push(clock.now());
      open.delete(k);
    },
  });
  const maxPerSecond = () => Math.max(0, ...sends.map((t) => sends.filter((u) => u >= t && u < t + 1000).length));
  return { clock, lines, open, sends, greeksAt, peak: () => peak, refusals: () => refusals, maxPerSecond };
}

describe('LineScheduler', () => {
  it('rotates 300 contracts over 100 lines: all get Greeks every cycle, never over 100 lines or the rate', () => {
    const t = fakeTws(100, 250);
    t.lines.setContracts(keys(300));
    expect(t.open.size).toBe(40); // the first second's requests
    t.clock.advance(60_000);
    expect(t.peak()).toBeLessThanOrEqual(100);
    expect(t.peak()).toBe(100);
    expect(t.maxPerSecond()).toBeLessThanOrEqual(40);
    expect(t.greeksAt.size).toBe(300);
    const s = t.lines.stats();
    expect(s.mode).toBe('rotate');
    expect(s.contracts).toBe(300);
    expect(s.lines).toBe(100);
    expect(s.contractsWithGreeks).toBe(300);
    expect(s.cycles).toBeGreaterThanOrEqual(3);
    // A cycle: 300 swaps of 2 requests at 40/s = 15 s.
    expect(s.refreshS).toBeGreaterThanOrEqual(14);
    expect(s.refreshS).toBeLessThanOrEqual(17);
    expect(s.targetRefreshS).toBe(15);
    // Every contract got Greeks again within about one cycle.
    for (const times of t.greeksAt.values()) {
      expect(times.length).toBeGreaterThanOrEqual(3);
      const gaps = times.slice(1).map((x, i) => x - times[i]);
      expect(Math.max(...gaps)).toBeLessThanOrEqual(17_000);
    }
  });

  it('a book that fits streams: each contract keeps its line, requests paced', () => {
    const t = fakeTws(100, 250);
    t.lines.setContracts(keys(80));
    t.clock.advance(10_000);
    expect(t.sends).toHaveLength(80); // 80 opens, no cancels
    expect(t.maxPerSecond()).toBeLessThanOrEqual(40);
    expect(t.lines.stats()).toMatchObject({ mode: 'stream', contracts: 80, openLines: 80, refreshS: 0, contractsWithGreeks: 80 });
    t.lines.setContracts(keys(70)); // 10 closed
    t.clock.advance(1_000);
    expect(t.open.size).toBe(70);
  });

  it('a 101 shrinks the allowance to the lines TWS really gives, and rotation still covers the book', () => {
    const t = fakeTws(90, 250);
    t.lines.setContracts(keys(120));
    t.clock.advance(60_000);
    expect(t.refusals()).toBeGreaterThanOrEqual(1);
    expect(t.peak()).toBe(90);
    const s = t.lines.stats();
    expect(s.lines).toBe(90);
    expect(s.mode).toBe('rotate');
    expect(s.contractsWithGreeks).toBe(120);
    expect(t.greeksAt.size).toBe(120);
  });

  it('a line without Greeks is released after the dwell bound; suspend/resume re-requests the book', () => {
    const t = fakeTws(100, 1e9, { maxLines: 10, rate: 100, dwell: 2_000 }); // Greeks never come
    t.lines.setContracts(keys(20));
    t.clock.advance(2_500);
    expect(t.sends.length).toBe(10 + 20); // 10 opens, then 10 swaps after the dwell
    t.lines.suspend();
    t.open.clear();
    const n = t.sends.length;
    t.clock.advance(10_000);
    expect(t.sends.length).toBe(n);
    t.lines.resume();
    expect(t.open.size).toBe(10);
  });
});

describe('/v1/streaming/status carries the rotation', () => {
  it('an actor whose stream reports lines gets a `lines` object; others none', async () => {
    const { actorJson } = await import('../../src/api/routes/streaming.js');
    const t = fakeTws(100, 250);
    t.lines.setContracts(keys(300));
    t.clock.advance(40_000);
    const base = { id: 'tws', broker: 'ibkr', state: 'connected', phase: 'running', streamState: 'connected', lastEventAt: null, eventsIn: 0, reconnects: 0, restarts: 0, queueDepth: 0, lastError: null, nextRestartAt: null };
    const withLines = actorJson({ ...base, health: { details: { lines: t.lines.stats() } } } as never, 0) as Record<string, unknown>;
    expect(withLines.lines).toMatchObject({ mode: 'rotate', contracts: 300, line_limit: 100, contracts_with_greeks: 300 });
    expect((withLines.lines as { refresh_s: number }).refresh_s).toBeGreaterThan(0);
    expect(actorJson({ ...base, health: null } as never, 0)).not.toHaveProperty('lines');
  });
});
