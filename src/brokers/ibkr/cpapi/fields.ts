/**
 * Client Portal market-data fields (`smd+<conid>` frames) and how their string values are read.
 * Pure functions only: the stream feeds frames in, this module says what the numbers are.
 */

/** Field ids we subscribe to. Values arrive as strings, keyed by these ids. */
export const FIELD = {
  last: '31',
  bid: '84',
  ask: '86',
  delta: '7308',
  gamma: '7309',
  theta: '7310',
  vega: '7311',
  iv: '7633',
  mark: '7635',
  undConid: '6457',
} as const;

export const GREEK_FIELDS = [FIELD.iv, FIELD.delta, FIELD.gamma, FIELD.theta, FIELD.vega] as const;
export const PRICE_FIELDS = [FIELD.last, FIELD.bid, FIELD.ask, FIELD.mark] as const;

/** What an option subscription asks for: prices, greeks, mark and the underlying conid. */
export const OPTION_FIELDS = ['31', '84', '86', '7308', '7309', '7310', '7311', '7633', '7635', '6457'];
/** What an underlying subscription asks for. */
export const UNDERLYING_FIELDS = ['31', '84', '86'];

/** Every field id we read, as a set, so a frame can be tested for "carries anything of ours". */
const KNOWN = new Set<string>([...GREEK_FIELDS, ...PRICE_FIELDS]);
export const isKnownField = (id: string): boolean => KNOWN.has(id);

/**
 * A price field: "171.02", "C171.02" (C = previous close, H = halted: the gateway prefixes
 * `last` when it is not a live trade), "1,234.50", or a plain number. Anything else is unknown.
 */
export function parsePrice(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const s = v.trim().replace(/^[CH]/i, '').replace(/,/g, '');
  if (s === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/** A greek (delta, gamma, theta, vega): a decimal string or number. */
export function parseGreek(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const s = v.trim().replace(/,/g, '');
  if (s === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/**
 * Bare IV numbers above this are percent, at or below it a fraction. Listed options never show
 * an IV under 3 % and the gateway writes the `%` sign on anything it formats as a percentage,
 * so a bare "24.5" is percent and a bare "0.245" is already a fraction.
 */
export const BARE_IV_PERCENT_THRESHOLD = 3;

/**
 * Field 7633 ("Implied Vol. %" of this strike) as a fraction: "24.5%" → 0.245.
 * Rule (specs/ibkr.md): a trailing `%` means percent; a bare number above 3 is percent too,
 * a bare number at or below 3 is already a fraction. Negative or unreadable → unknown.
 */
export function parseIv(v: unknown): number | null {
  let percent = false;
  let n: number | null;
  if (typeof v === 'string' && v.trim().endsWith('%')) {
    percent = true;
    n = parseGreek(v.trim().slice(0, -1));
  } else {
    n = parseGreek(v);
  }
  if (n === null || n < 0) return null;
  if (percent || n > BARE_IV_PERCENT_THRESHOLD) return n / 100;
  return n;
}

/** Reads one field by id with the right parser. */
export function parseField(id: string, v: unknown): number | null {
  if (id === FIELD.iv) return parseIv(v);
  if (id === FIELD.delta || id === FIELD.gamma || id === FIELD.theta || id === FIELD.vega) return parseGreek(v);
  return parsePrice(v);
}

/** Renders the `smd` subscription command for a conid. */
export function smdCommand(conid: number, fields: string[]): string {
  return `smd+${conid}+${JSON.stringify({ fields })}`;
}

export function umdCommand(conid: number): string {
  return `umd+${conid}+{}`;
}
