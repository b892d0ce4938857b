import { ConfigError, errorText } from '../core/errors.js';
import { redactText } from '../core/logger.js';

/** Exit codes: 0 ok, 1 runtime failure, 2 bad configuration / flags / unreachable dependency. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_CONFIG = 2;

/** Prints an error as one line (no stack unless LOG_LEVEL=debug) and returns the exit code. */
export function reportFatal(command: string, err: unknown): number {
  const message = redactText(errorText(err)).replace(/\s+/g, ' ').trim();
  process.stderr.write(`riskwire ${command}: ${message}\n`);
  if (process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace') {
    if (err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  }
  return err instanceof ConfigError ? EXIT_CONFIG : EXIT_FAILURE;
}

export function fmtNum(n: number | null | undefined, digits = 4): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  return Math.abs(n) >= 1000 ? n.toFixed(0) : n.toPrecision(digits).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

export function fmtMs(n: number | null | undefined): string {
  return n === null || n === undefined ? '-' : `${Math.round(n)}ms`;
}

/** Left/right-aligned plain-text table. Numbers (and '-') right-aligned. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const isNum = headers.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.,%e$]+(ms|s)?$|^-$/.test(r[i] ?? '')));
  const line = (cells: string[]) => cells.map((c, i) => (isNum[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
