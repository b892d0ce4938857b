/**
 * Black–Scholes (generalised with a cost of carry b) and Black-76, price and Greeks. Pure.
 *   stock / index option:  b = r − q        (q = continuous dividend yield)
 *   futures option (Black-76): b = 0, and S is the futures price F
 * European exercise. Units as the risk engine reports them (risk.md): theta per calendar day
 * (the annual figure / 365), vega per IV point (per 0.01 of σ), rho per rate point.
 */

/** Standard normal density. */
export function normPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/**
 * Standard normal CDF via erfc (Numerical Recipes' erfcc, Chebyshev fit, |relative error| <
 * 1.2e-7 everywhere): enough for prices to the cent on any realistic book.
 */
export function normCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

export type Right = 'C' | 'P';

export interface BsInput {
  right: Right;
  /** Spot (or the futures price for Black-76). */
  spot: number;
  strike: number;
  /** Years to expiry (calendar days / 365). ≤ 0 = at expiry: intrinsic value. */
  years: number;
  /** Volatility as a fraction (0.2 = 20 %). */
  vol: number;
  /** Risk-free rate, continuous, fraction. */
  rate: number;
  /** Cost of carry: r − q for stock options, 0 for futures options (Black-76). */
  carry: number;
}

export interface BsResult {
  price: number;
  delta: number;
  gamma: number;
  /** Per calendar day. */
  theta: number;
  /** Per IV point (0.01 of σ). */
  vega: number;
  /** Per rate point (0.01 of r). */
  rho: number;
}

/** Price and Greeks; at or past expiry (or σ = 0) the intrinsic value with a step delta. */
export function blackScholes(i: BsInput): BsResult {
  const { right, spot: S, strike: K, years: T, vol: v, rate: r, carry: b } = i;
  const call = right === 'C';
  if (!(T > 0) || !(v > 0)) {
    const fwd = T > 0 ? S * Math.exp(b * T) : S;
    const disc = T > 0 ? Math.exp(-r * T) : 1;
    const intrinsic = Math.max(0, call ? fwd - K : K - fwd) * disc;
    const itm = call ? fwd > K : fwd < K;
    return { price: intrinsic, delta: itm ? (call ? 1 : -1) * Math.exp((b - r) * Math.max(T, 0)) : 0, gamma: 0, theta: 0, vega: 0, rho: 0 };
  }
  const sqrtT = Math.sqrt(T);
  const d1 = (Math.log(S / K) + (b + (v * v) / 2) * T) / (v * sqrtT);
  const d2 = d1 - v * sqrtT;
  const carryDisc = Math.exp((b - r) * T);
  const disc = Math.exp(-r * T);
  const pdf = normPdf(d1);
  const gamma = (carryDisc * pdf) / (S * v * sqrtT);
  const vegaYear = S * carryDisc * pdf * sqrtT;
  const decay = -(S * carryDisc * pdf * v) / (2 * sqrtT);
  let price: number, delta: number, thetaYear: number, rhoYear: number;
  if (call) {
    price = S * carryDisc * normCdf(d1) - K * disc * normCdf(d2);
    delta = carryDisc * normCdf(d1);
    thetaYear = decay - (b - r) * S * carryDisc * normCdf(d1) - r * K * disc * normCdf(d2);
    rhoYear = b === 0 ? -T * price : K * T * disc * normCdf(d2);
  } else {
    price = K * disc * normCdf(-d2) - S * carryDisc * normCdf(-d1);
    delta = carryDisc * (normCdf(d1) - 1);
    thetaYear = decay + (b - r) * S * carryDisc * normCdf(-d1) + r * K * disc * normCdf(-d2);
    rhoYear = b === 0 ? -T * price : -K * T * disc * normCdf(-d2);
  }
  return { price, delta, gamma, theta: thetaYear / 365, vega: vegaYear / 100, rho: rhoYear / 100 };
}
