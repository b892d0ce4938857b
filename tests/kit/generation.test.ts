import { describe, expect, it } from 'vitest';
import { Generation } from '../../src/brokers/kit/generation.js';

describe('generation guard', () => {
  it('passes callbacks of the current connection through', () => {
    const g = new Generation();
    const seen: string[] = [];
    const onMessage = g.guard(g.next(), (m: string) => seen.push(m));
    onMessage('a');
    expect(seen).toEqual(['a']);
  });

  it('ignores callbacks of a superseded connection, however late they come', () => {
    const g = new Generation();
    const seen: string[] = [];
    const old = g.guard(g.next(), (m: string) => seen.push(`old ${m}`));
    const cur = g.guard(g.next(), (m: string) => seen.push(`new ${m}`));
    old('late close');
    cur('data');
    expect(seen).toEqual(['new data']);
  });

  it('a torn-down connection (next() with no successor) is superseded too', () => {
    const g = new Generation();
    const token = g.next();
    g.next();
    expect(g.isCurrent(token)).toBe(false);
    expect(g.guard(token, () => 1)()).toBeUndefined();
  });
});
