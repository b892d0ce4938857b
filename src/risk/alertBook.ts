/**
 * Alert state: opens an alert when an observation breaches and none is open for its (rule,
 * subject); closes it when the value is back past the hysteresis band (threshold ± band ×
 * |threshold|), or when the subject is gone (position closed). Pure state machine: the caller
 * stores and delivers the transitions it returns.
 */
import type { Observation } from './alertRules.js';

export interface Alert {
  id: number | null;
  rule: string;
  subject: string;
  openedAt: number;
  closedAt: number | null;
  value: number;
  threshold: number;
  message: string;
  /** The value and reason it closed with. */
  closeValue?: number | null;
  closeMessage?: string | null;
}

export interface Transition {
  kind: 'open' | 'close';
  alert: Alert;
}

export const alertKey = (rule: string, subject: string) => `${rule}\u0000${subject}`;

export function breaches(o: Observation): boolean {
  return o.direction === 'above' ? o.value >= o.threshold : o.value <= o.threshold;
}

export function clears(o: Observation, hysteresis: number): boolean {
  const band = Math.abs(o.threshold) * hysteresis;
  return o.direction === 'above' ? o.value < o.threshold - band : o.value > o.threshold + band;
}

export class AlertBook {
  private open = new Map<string, Alert>();

  constructor(private readonly hysteresis: number, initial: Alert[] = []) {
    for (const a of initial) if (a.closedAt === null) this.open.set(alertKey(a.rule, a.subject), a);
  }

  openAlerts(): Alert[] {
    return [...this.open.values()];
  }

  /**
   * Applies a set of observations at `now`. `scope` says what was evaluated: the rules (a Set of
   * names), or (rule, subject) → evaluated; an open alert in scope whose subject is no longer
   * observed is closed ('subject gone'). Without a scope everything was evaluated.
   */
  apply(observations: Observation[], now: number, scope?: Set<string> | ((rule: string, subject: string) => boolean)): Transition[] {
    const inScope = scope === undefined ? () => true : scope instanceof Set ? (rule: string) => scope.has(rule) : scope;
    const out: Transition[] = [];
    const seen = new Set<string>();
    for (const o of observations) {
      const key = alertKey(o.rule, o.subject);
      seen.add(key);
      const cur = this.open.get(key);
      if (!cur && breaches(o)) {
        const alert: Alert = { id: null, rule: o.rule, subject: o.subject, openedAt: now, closedAt: null, value: o.value, threshold: o.threshold, message: o.message };
        this.open.set(key, alert);
        out.push({ kind: 'open', alert });
      } else if (cur && clears(o, this.hysteresis)) {
        this.open.delete(key);
        out.push({ kind: 'close', alert: { ...cur, closedAt: now, closeValue: o.value, closeMessage: o.message } });
      }
    }
    for (const [key, cur] of this.open) {
      if (seen.has(key) || !inScope(cur.rule, cur.subject)) continue;
      this.open.delete(key);
      out.push({ kind: 'close', alert: { ...cur, closedAt: now, closeValue: null, closeMessage: 'subject gone (position closed or no longer observed)' } });
    }
    return out;
  }
}
