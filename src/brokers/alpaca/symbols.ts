/**
 * Alpaca spells option contracts as the unpadded OCC symbol (root + yymmdd + C/P + strike×1000 in
 * 8 digits: `AAPL240315C00172500`, `SPXW240327P04925000`). Riskwire keys every option by the
 * padded 21-character OCC symbol (src/core/contract.ts), so the mapping is padding only.
 */
import { canonicalOcc, parseOcc, underlyingOfRoot } from '../../core/contract.js';

const ALPACA_OCC = /^[A-Z0-9]{1,6}\d{6}[CP]\d{8}$/;

/** True for an Alpaca option symbol (unpadded OCC). */
export function isAlpacaOption(symbol: string): boolean {
  return ALPACA_OCC.test(symbol);
}

/** `SPXW240327P04925000` → `SPXW  240327P04925000`. Throws ContractKeyError on anything else. */
export function contractKeyOf(alpacaSymbol: string): string {
  return canonicalOcc(alpacaSymbol);
}

/** `SPXW  240327P04925000` → `SPXW240327P04925000`. */
export function alpacaSymbolOf(contractKey: string): string {
  return contractKey.replace(/ /g, '');
}

/** The underlying of an option symbol (SPXW → SPX). */
export function underlyingOfOption(alpacaSymbol: string): string {
  return underlyingOfRoot(parseOcc(alpacaSymbol).root);
}
