/**
 * Market-data subscriptions of one TWS stream: request id ↔ contract, the per-subscription
 * quote cache and best greeks source, and the per-contract sequence that makes the dedupe key
 * (contract, event_ts, seq) unique.
 *
 * TWS gives no timestamp or sequence, so event_ts is the receipt time and seq a per-contract
 * counter that only ever grows (it survives resubscribes and reconnects): two distinct updates
 * of one contract never share a seq, whatever the clock does. An update identical to the
 * previous one of the same contract is a wire duplicate (TWS re-sent it, or a resubscribe
 * replayed it): it reuses the previous (event_ts, seq) so the processor drops and counts it.
 */
import type { Contract } from '@stoqey/ib';

export interface Subscription {
  reqId: number;
  contractKey: string;
  underlying: string;
  contract: Contract;
  /** Best option-computation rank seen since this request was sent (see ticks.ts). */
  bestRank: number;
  quote: { bid: number | null; ask: number | null; last: number | null };
  /** A 354 fell back to delayed data for this contract once already. */
  delayedFallback: boolean;
  /** TWS stopped this request for a competing session (10197); retried later. */
  silenced: boolean;
}

export interface Stamp {
  eventTs: number;
  seq: number;
  duplicate: boolean;
}

export class SubscriptionBook {
  private byReqId = new Map<number, Subscription>();
  private byKey = new Map<string, Subscription>();
  private lastOf = new Map<string, { seq: number; signature: string | null; eventTs: number }>();

  add(reqId: number, contractKey: string, underlying: string, contract: Contract): Subscription {
    const sub: Subscription = {
      reqId, contractKey, underlying, contract, bestRank: 0,
      quote: { bid: null, ask: null, last: null }, delayedFallback: false, silenced: false,
    };
    this.byReqId.set(reqId, sub);
    this.byKey.set(contractKey, sub);
    return sub;
  }

  byRequest(reqId: number): Subscription | undefined {
    return this.byReqId.get(reqId);
  }

  byContract(contractKey: string): Subscription | undefined {
    return this.byKey.get(contractKey);
  }

  remove(contractKey: string): Subscription | undefined {
    const sub = this.byKey.get(contractKey);
    if (sub) {
      this.byKey.delete(contractKey);
      this.byReqId.delete(sub.reqId);
    }
    return sub;
  }

  /** Forgets every request (they died with the session or are being re-sent); sequences stay. */
  clear(): Subscription[] {
    const all = [...this.byKey.values()];
    this.byKey.clear();
    this.byReqId.clear();
    return all;
  }

  all(): Subscription[] {
    return [...this.byKey.values()];
  }

  contractKeys(): string[] {
    return [...this.byKey.keys()];
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Stamps a greeks update of `contractKey` received at `now` (see the file comment). */
  stamp(contractKey: string, signature: string, now: number): Stamp {
    const last = this.lastOf.get(contractKey);
    if (last && last.signature === signature) return { eventTs: last.eventTs, seq: last.seq, duplicate: true };
    const seq = (last?.seq ?? 0) + 1;
    this.lastOf.set(contractKey, { seq, signature, eventTs: now });
    return { eventTs: now, seq, duplicate: false };
  }
}
