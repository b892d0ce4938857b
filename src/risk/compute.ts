/** Load + compute in one call, shared by the CLI, the API routes and the RiskService. */
import type { Storage } from '../db/types.js';
import type { ScenarioMeta } from './json.js';
import { loadRiskInputs, type LiveState } from './load.js';
import { buildRiskReport, type RiskFilter, type RiskReport } from './report.js';
import type { RiskRules } from './rules.js';
import { DAYS, IV_SHIFTS_PTS, scenarioGrid, SPOT_MOVES_PCT, type ScenarioResult } from './scenarios.js';

export interface ComputeOptions {
  now: number;
  benchmark: string;
  rules: RiskRules;
  live?: LiveState;
  filter?: RiskFilter;
}

export async function computeRisk(storage: Storage, o: ComputeOptions): Promise<RiskReport> {
  const inputs = await loadRiskInputs(storage, o);
  return buildRiskReport(inputs, o.filter);
}

export function computeScenarios(report: RiskReport, rules: RiskRules, mode: 'underlying' | 'beta'): { meta: ScenarioMeta; result: ScenarioResult } {
  const result = scenarioGrid(report.positions, { rate: rules.rate, dividendYield: (u) => rules.dividendYields[u] ?? 0, mode });
  const meta: ScenarioMeta = {
    asOf: report.asOf, benchmark: report.benchmark.symbol, rate: rules.rate,
    dividendYield: Object.keys(rules.dividendYields).length ? rules.dividendYields : 0,
    mode, spotMovesPct: SPOT_MOVES_PCT, ivShiftsPts: IV_SHIFTS_PTS, days: DAYS,
  };
  return { meta, result };
}
