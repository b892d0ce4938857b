/**
 * What is held and therefore what is subscribed: option conids (prices + greeks) and the
 * underlying conids of held options (price only). Pure state, no I/O.
 */
import type { Position } from '../../../core/types.js';
import type { OptionHolding } from './positions.js';

export type Target =
  | { kind: 'option'; conid: number; contractKey: string; underlying: string }
  | { kind: 'underlying'; conid: number; symbol: string };

export class Holdings {
  private positions = new Map<string, Position[]>();
  private options = new Map<string, OptionHolding[]>();
  /** Underlying conids learned from field 6457 when positions did not carry undConid. */
  private learnedUnderlyings = new Map<number, string>();

  /** Replaces an account's positions; true when they differ from the previous set. */
  setAccount(account: string, positions: Position[], options: OptionHolding[]): boolean {
    const sig = (ps: Position[]) => JSON.stringify([...ps].sort((a, b) => a.contractKey.localeCompare(b.contractKey)));
    const prev = this.positions.get(account);
    this.positions.set(account, positions);
    this.options.set(account, options);
    return prev === undefined || sig(prev) !== sig(positions);
  }

  /** Records an underlying conid seen in an option's frame; true when it is new. */
  learnUnderlying(conid: number, symbol: string): boolean {
    if (this.learnedUnderlyings.has(conid) || this.targets().has(conid)) return false;
    this.learnedUnderlyings.set(conid, symbol);
    return true;
  }

  accounts(): string[] {
    return [...this.positions.keys()];
  }

  /** Every conid to subscribe, options first; an option never also counts as an underlying. */
  targets(): Map<number, Target> {
    const out = new Map<number, Target>();
    const unds = new Map<number, string>(this.learnedUnderlyings);
    for (const list of this.options.values()) {
      for (const o of list) {
        out.set(o.conid, { kind: 'option', conid: o.conid, contractKey: o.contractKey, underlying: o.underlying });
        if (o.undConid !== null) unds.set(o.undConid, o.underlying);
      }
    }
    for (const [conid, symbol] of unds) if (!out.has(conid)) out.set(conid, { kind: 'underlying', conid, symbol });
    return out;
  }

  /** Is a conid known for this underlying symbol (so 6457 need not be learned)? */
  underlyingKnown(symbol: string): boolean {
    for (const t of this.targets().values()) if (t.kind === 'underlying' && t.symbol === symbol) return true;
    return false;
  }
}
