/**
 * The risk rules file (RISK_RULES_FILE, JSON): exit rules, limits, pin risk, feed bounds, beta
 * overrides, rate and dividend yields. Every field is optional; the defaults are the seed exit
 * rules. Validated at start: a bad file is one ConfigError line naming the field and the fix
 * (the CLI exits 2). Parsing is pure; only loadRules reads the file.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, errorText } from '../core/errors.js';
import type { BetaEntry } from './types.js';

export type LimitMetric = 'delta' | 'bwd' | 'vega' | 'theta' | 'gamma' | 'dollar_delta';

export interface Limit {
  metric: LimitMetric;
  /** 'portfolio' or an underlying symbol. */
  subject: string;
  /** Breach when |value| ≥ max. */
  max: number;
}

export interface RiskRules {
  /** Take profit at this % of max profit (credit strategies). */
  takeProfitPct: number;
  /** Exit at or below this many days to expiry. */
  exitDte: number;
  /** Hard max loss: loss ≥ this × credit (credit strategies). */
  maxLossCreditMultiple: number;
  /** Hard max loss in dollars per strategy, when set. */
  maxLossDollars: number | null;
  limits: Limit[];
  pinRisk: { dte: number; withinPct: number };
  /** A held contract without an update for this long is stale (stale-feed alert, `stale` flag). */
  staleFeedMs: number;
  /** An actor not connected for this long raises broker-down. */
  brokerDownMs: number;
  /** An alert closes once the value is back inside the threshold by this fraction of it. */
  hysteresis: number;
  rate: number;
  dividendYields: Record<string, number>;
  betas: Map<string, BetaEntry>;
}

export const DEFAULT_RULES: RiskRules = {
  takeProfitPct: 50,
  exitDte: 21,
  maxLossCreditMultiple: 2,
  maxLossDollars: null,
  limits: [],
  pinRisk: { dte: 2, withinPct: 1 },
  staleFeedMs: 300_000,
  brokerDownMs: 30_000,
  hysteresis: 0.1,
  rate: 0.04,
  dividendYields: {},
  betas: new Map(),
};

const KEYS = ['take_profit_pct', 'exit_dte', 'max_loss_credit_multiple', 'max_loss_dollars', 'limits', 'pin_risk', 'stale_feed_s', 'broker_down_s', 'hysteresis_pct', 'rate', 'dividend_yields', 'betas'];
const METRICS: LimitMetric[] = ['delta', 'bwd', 'vega', 'theta', 'gamma', 'dollar_delta'];

/** Parses and validates the rules document; `where` names the file in errors. */
export function parseRules(text: string, where: string): RiskRules {
  const fail = (msg: string): never => {
    throw new ConfigError(`RISK_RULES_FILE ${where}: ${msg}`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return fail(`not valid JSON (${errorText(err)}): fix the syntax (see specs/risk.md for the format)`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return fail('must be a JSON object: see specs/risk.md for the format');
  const o = doc as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.includes(k)) fail(`unknown field "${k}": use one of ${KEYS.join(', ')}`);
  const num = (v: unknown, name: string, min: number, max: number, dflt: number): number => {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) return fail(`${name} must be a number from ${min} to ${max}`);
    return v;
  };
  const r: RiskRules = { ...DEFAULT_RULES, limits: [], dividendYields: {}, betas: new Map() };
  r.takeProfitPct = num(o.take_profit_pct, 'take_profit_pct', 1, 100, DEFAULT_RULES.takeProfitPct);
  r.exitDte = num(o.exit_dte, 'exit_dte', 0, 3650, DEFAULT_RULES.exitDte);
  r.maxLossCreditMultiple = num(o.max_loss_credit_multiple, 'max_loss_credit_multiple', 0.01, 1000, DEFAULT_RULES.maxLossCreditMultiple);
  r.maxLossDollars = o.max_loss_dollars === undefined || o.max_loss_dollars === null ? null : num(o.max_loss_dollars, 'max_loss_dollars', 0.01, 1e12, 0);
  r.staleFeedMs = num(o.stale_feed_s, 'stale_feed_s', 1, 86_400, DEFAULT_RULES.staleFeedMs / 1000) * 1000;
  r.brokerDownMs = num(o.broker_down_s, 'broker_down_s', 0, 86_400, DEFAULT_RULES.brokerDownMs / 1000) * 1000;
  r.hysteresis = num(o.hysteresis_pct, 'hysteresis_pct', 0, 100, DEFAULT_RULES.hysteresis * 100) / 100;
  r.rate = num(o.rate, 'rate', -0.1, 1, DEFAULT_RULES.rate);
  if (o.pin_risk !== undefined) {
    if (!o.pin_risk || typeof o.pin_risk !== 'object') fail('pin_risk must be an object {"dte": 2, "within_pct": 1}');
    const p = o.pin_risk as Record<string, unknown>;
    for (const k of Object.keys(p)) if (k !== 'dte' && k !== 'within_pct') fail(`pin_risk.${k} is unknown: use dte, within_pct`);
    r.pinRisk = { dte: num(p.dte, 'pin_risk.dte', 0, 365, 2), withinPct: num(p.within_pct, 'pin_risk.within_pct', 0, 100, 1) };
  }
  if (o.limits !== undefined) {
    if (!Array.isArray(o.limits)) fail('limits must be a list of {"metric": "delta", "subject": "portfolio", "max": 500}');
    (o.limits as unknown[]).forEach((l, i) => {
      if (!l || typeof l !== 'object') return fail(`limits[${i}] must be an object {"metric", "subject", "max"}`);
      const x = l as Record<string, unknown>;
      for (const k of Object.keys(x)) if (!['metric', 'subject', 'max'].includes(k)) fail(`limits[${i}].${k} is unknown: use metric, subject, max`);
      if (!METRICS.includes(x.metric as LimitMetric)) fail(`limits[${i}].metric must be one of ${METRICS.join(', ')}`);
      const subject = x.subject === undefined ? 'portfolio' : x.subject;
      if (typeof subject !== 'string' || !/^[A-Za-z0-9/._ -]{1,40}$/.test(subject)) fail(`limits[${i}].subject must be "portfolio" or an underlying symbol`);
      const max = num(x.max, `limits[${i}].max`, 0, 1e15, NaN);
      if (!Number.isFinite(max)) fail(`limits[${i}].max is required: a positive number (breach when |value| ≥ max)`);
      r.limits.push({ metric: x.metric as LimitMetric, subject: subject as string, max });
    });
  }
  const symbolMap = (v: unknown, name: string, min: number, max: number): Record<string, number> => {
    if (v === undefined) return {};
    if (!v || typeof v !== 'object' || Array.isArray(v)) return fail(`${name} must be an object of symbol → number, e.g. {"AAPL": 1.2}`);
    const out: Record<string, number> = {};
    for (const [k, x] of Object.entries(v)) out[k.toUpperCase()] = num(x, `${name}.${k}`, min, max, NaN);
    return out;
  };
  r.dividendYields = symbolMap(o.dividend_yields, 'dividend_yields', 0, 1);
  for (const [k, b] of Object.entries(symbolMap(o.betas, 'betas', -20, 20))) r.betas.set(k, { beta: b, source: 'config' });
  return r;
}

/** Reads RISK_RULES_FILE (or the defaults when unset). */
export function loadRules(env: Record<string, string | undefined> = process.env): RiskRules {
  const file = env.RISK_RULES_FILE?.trim();
  if (!file) return { ...DEFAULT_RULES, betas: new Map() };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`RISK_RULES_FILE ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? errorText(err)}): fix the path or unset it for the defaults`);
  }
  return parseRules(text, file);
}

/** The benchmark: --benchmark, else BENCHMARK, else SPY. */
export function resolveBenchmark(flag: unknown, env: Record<string, string | undefined> = process.env): string {
  const raw = (typeof flag === 'string' ? flag : env.BENCHMARK ?? 'SPY').trim().toUpperCase();
  if (!/^\/?[A-Z0-9.]{1,10}$/.test(raw)) throw new ConfigError(`benchmark "${raw}" is not a symbol: use e.g. SPY, SPX, QQQ or /ES`);
  return raw;
}
