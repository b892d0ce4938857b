/**
 * Query strings → RawParams: unknown names and repeated names are 400s, so a typo never widens a
 * query silently. Routes check the same with their JSON schema first; this keeps callers without one honest.
 */
import { badRequest } from './errors.js';
import type { RawParams } from './params.js';
import { repeatedParameter, unknownParameter } from './validation.js';

export function fromQuery(query: unknown, allowed: readonly string[]): RawParams {
  const out: RawParams = {};
  for (const [k, v] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (!allowed.includes(k)) throw badRequest(unknownParameter(k, allowed));
    if (Array.isArray(v)) throw badRequest(repeatedParameter(k));
    out[k] = String(v);
  }
  return out;
}
