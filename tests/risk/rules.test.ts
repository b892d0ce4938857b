import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { DEFAULT_RULES, loadRules, parseRules } from '../../src/risk/rules.js';

describe('RISK_RULES_FILE', () => {
  it('defaults are the seed exit rules', () => {
    expect(loadRules({})).toMatchObject({ takeProfitPct: 50, exitDte: 21, maxLossCreditMultiple: 2, pinRisk: { dte: 2, withinPct: 1 } });
  });
  it('reads limits, betas, rate, and the shipped example is valid', () => {
    const r = loadRules({ RISK_RULES_FILE: 'config/risk-rules.example.json' });
    expect(r.betas.get('AAPL')).toEqual({ beta: 1.25, source: 'config' });
    expect(r.limits[0]).toEqual({ metric: 'delta', subject: 'portfolio', max: 2000 });
    expect(r.hysteresis).toBe(0.1);
  });
  it.each([
    ['{', /not valid JSON/],
    ['[]', /must be a JSON object/],
    ['{"exit_dte": -1}', /exit_dte must be a number from 0/],
    ['{"limits": [{"metric": "rho", "max": 1}]}', /limits\[0\]\.metric must be one of/],
    ['{"limits": [{"metric": "delta"}]}', /limits\[0\]\.max is required/],
    ['{"betas": {"AAPL": "high"}}', /betas\.AAPL must be a number/],
    ['{"take_profit": 50}', /unknown field "take_profit"/],
  ])('%s → one-line ConfigError', (text, re) => {
    let err: unknown;
    try {
      parseRules(text, 'rules.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).toMatch(/^RISK_RULES_FILE rules\.json: /);
    expect((err as Error).message).not.toContain('\n');
  });
  it('a missing file names the path', () => {
    expect(() => loadRules({ RISK_RULES_FILE: '/nope/rules.json' })).toThrow(/RISK_RULES_FILE \/nope\/rules.json: cannot read it \(ENOENT\)/);
    expect(DEFAULT_RULES.limits).toEqual([]);
  });
});
