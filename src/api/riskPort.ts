/**
 * What the API needs from the risk engine (src/risk, risk14), as the risk14/web11 contract names
 * it: `summary(filters?)` → the /v1/risk/summary document, and alerts as `onAlert(listener) →
 * unsubscribe`. Structural on purpose: the API works without it (the page then says "risk
 * engine unavailable"), and whichever side lands second wires the real service in.
 */
import type { AlertJson } from '../risk/service.js';

export type { AlertJson };

export interface AlertSource {
  onAlert(listener: (alert: AlertJson) => void): () => void;
}

export interface RiskPort {
  summary(filters?: Record<string, string | undefined>): unknown;
  /** The contract puts onAlert on an `alerts` member; a service that has it directly works too. */
  alerts?: AlertSource;
  onAlert?: AlertSource['onAlert'];
}

/** The alert source of a risk service, whichever of the two shapes it has; undefined if none. */
export function alertSourceOf(risk: RiskPort | undefined): AlertSource | undefined {
  if (!risk) return undefined;
  if (risk.alerts && typeof risk.alerts.onAlert === 'function') return risk.alerts;
  if (typeof risk.onAlert === 'function') return { onAlert: risk.onAlert.bind(risk) };
  return undefined;
}
