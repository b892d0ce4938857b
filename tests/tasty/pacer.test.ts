/** Chunked, paced DXLink subscriptions (pure, fake clock). */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { SubscriptionPacer, type SubscriptionBatch } from '../../src/brokers/tasty/pacer.js';
import type { Sub } from '../../src/brokers/tasty/subscriptions.js';

const subs = (n: number, from = 0): Sub[] => Array.from({ length: n }, (_, i) => ({ type: 'Greeks', symbol: `.SPY261218C${from + i}` }));

function pacer(chunk: number, paceMs: number) {
  const clock = new FakeClock(0);
  const sent: (SubscriptionBatch & { at: number })[] = [];
  const p = new SubscriptionPacer({ clock, chunk, paceMs, send: (b) => sent.push({ ...b, at: clock.now() }) });
  return { clock, sent, p };
}

describe('SubscriptionPacer', () => {
  it('sends a big set in chunks of at most `chunk`, one per paceMs, the first at once', () => {
    const { clock, sent, p } = pacer(500, 100);
    p.add(subs(10_001));
    expect(sent).toHaveLength(1); // synchronously
    clock.advance(99);
    expect(sent).toHaveLength(1);
    clock.advance(1);
    expect(sent).toHaveLength(2);
    clock.advance(5_000);
    expect(sent).toHaveLength(21);
    expect(Math.max(...sent.map((b) => b.add.length))).toBe(500);
    const gaps = sent.slice(1).map((b, i) => b.at - sent[i].at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(100);
    expect(new Set(sent.flatMap((b) => b.add.map((s) => s.symbol))).size).toBe(10_001);
    expect(p.stats()).toEqual({ pending: 0, batches: 21, largestBatch: 500 });
  });

  it('keeps the latest intention per subscription and counts removes in the chunk', () => {
    const { clock, sent, p } = pacer(3, 10);
    p.add(subs(5)); // first 3 go now
    p.remove(subs(2, 3)); // the 2 still pending turn into removes
    p.add(subs(1, 100));
    clock.advance(100);
    const all = sent.flatMap((b) => [...b.remove.map((s) => `-${s.symbol}`), ...b.add.map((s) => `+${s.symbol}`)]);
    expect(all).toEqual(['+.SPY261218C0', '+.SPY261218C1', '+.SPY261218C2', '-.SPY261218C3', '-.SPY261218C4', '+.SPY261218C100']);
    expect(Math.max(...sent.map((b) => b.add.length + b.remove.length))).toBeLessThanOrEqual(3);
  });

  it('requeue (a reconnect) sends the whole set again at once, ahead of pending changes', () => {
    const { clock, sent, p } = pacer(2, 50);
    p.add(subs(4));
    clock.advance(1_000);
    expect(sent).toHaveLength(2);
    p.add(subs(1, 9)); // goes now: the pace allows it
    p.add(subs(1, 10)); // pending
    sent.length = 0;
    p.requeue(subs(5)); // the server forgot everything (it had 0..3 and 9)
    expect(sent).toHaveLength(1);
    clock.advance(1_000);
    const order = sent.flatMap((b) => b.add.map((s) => s.symbol.slice(11)));
    expect(order).toEqual(['0', '1', '2', '3', '4', '10']);
  });

  it('replaceAll drops pending changes; close stops everything', () => {
    const { clock, sent, p } = pacer(1, 10);
    p.add(subs(3));
    p.replaceAll(subs(1, 7));
    clock.advance(100);
    expect(sent.map((b) => b.add[0].symbol)).toEqual(['.SPY261218C0', '.SPY261218C7']);
    p.add(subs(3, 20));
    p.close();
    const n = sent.length;
    clock.advance(1_000);
    expect(sent.length).toBe(n);
    expect(p.stats().pending).toBe(0);
  });
});
