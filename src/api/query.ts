/** Query strings → RawParams: unknown names and repeated names are 400s, so a typo never widens a query silently. */
import { badRequest } from './errors.js';
import type { RawParams } from './params.js';

export function fromQuery(query: unknown, allowed: readonly string[]): RawParams {
  const out: RawParams = {};
  for (const [k, v] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (!allowed.includes(k)) throw badRequest(`unknown parameter ${k}: use ${allowed.join(', ')}`);
    if (Array.isArray(v)) throw badRequest(`parameter ${k} is given more than once: give it once (comma lists where supported)`);
    out[k] = String(v);
  }
  return out;
}
