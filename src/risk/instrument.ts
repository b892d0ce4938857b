/**
 * What a position's contract key says about the instrument (interface.md contract keys):
 *   option         21-char OCC symbol           'SPY   261218C00500000'
 *   future_option  Tastytrade instrument form   './ESH7 EW4G7 270226C5750'
 *   future         '/ESH7'
 *   stock          the symbol ('SPY'), or asset_class 'equity'
 * Pure.
 */
import { isOccKey, parseOcc } from '../core/contract.js';
import type { Right } from './bs.js';

export type InstrumentKind = 'option' | 'stock' | 'future' | 'future_option' | 'other';

export interface Instrument {
  kind: InstrumentKind;
  /** Options only. */
  right?: Right;
  strike?: number;
  /** YYYY-MM-DD (options only). */
  expiry?: string;
  /** OCC root or the futures option's root (options only): decides AM/PM settlement. */
  root?: string;
}

const FUTURE_OPTION_RE = /^\.\/([A-Z0-9]+)\s+([A-Z0-9]+)\s+(\d{2})(\d{2})(\d{2})([CP])(\d+(?:\.\d+)?)$/;
const FUTURE_RE = /^\/[A-Z0-9]{1,5}[FGHJKMNQUVXZ]\d{1,2}$/;

const instruments = new Map<string, Readonly<Instrument>>();

/**
 * What a contract key is (parsed once per key and asset class: the alert loop and every report
 * ask for the same few thousand keys over and over). The result is shared: never mutate it.
 */
export function instrumentOf(contractKey: string, assetClass?: string): Readonly<Instrument> {
  const k = `${assetClass ?? ''}|${contractKey}`;
  let inst = instruments.get(k);
  if (!inst) {
    inst = parseInstrument(contractKey, assetClass);
    if (instruments.size > 50_000) instruments.clear();
    instruments.set(k, inst);
  }
  return inst;
}

function parseInstrument(contractKey: string, assetClass?: string): Instrument {
  if (assetClass !== 'equity' && isOccKey(contractKey)) {
    const o = parseOcc(contractKey);
    return { kind: 'option', right: o.right, strike: o.strike, expiry: o.expiry, root: o.root };
  }
  const fo = contractKey.trim().match(FUTURE_OPTION_RE);
  if (fo) {
    return { kind: 'future_option', right: fo[6] as Right, strike: Number(fo[7]), expiry: `20${fo[3]}-${fo[4]}-${fo[5]}`, root: fo[2] };
  }
  if (assetClass === 'future' || FUTURE_RE.test(contractKey.trim())) return { kind: 'future' };
  if (assetClass === 'equity' || /^[A-Z][A-Z0-9.]{0,9}$/.test(contractKey.trim())) return { kind: 'stock' };
  return { kind: 'other' };
}

export const isOptionKind = (k: InstrumentKind) => k === 'option' || k === 'future_option';
