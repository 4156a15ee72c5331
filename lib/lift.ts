/**
 * Lift of a variant's conversion rate against the holdout's: the difference of two proportions with a
 * Wald interval (unpooled standard error) and the two-sided p-value of the pooled two-proportion z-test.
 * The normal quantile and the error function come from simple-statistics (a maintained package); its
 * `probit` is an approximation (1.9572 for 97.5 %), so one Newton step on its error function brings the
 * critical value to 1.95996 (within 1e-5, the accuracy of its error function). Pure code: the report (engine/journey-report.ts) calls it.
 */
import { errorFunction, probit } from 'simple-statistics';

export interface Lift {
  /** Variant rate minus holdout rate (e.g. 0.03 = three percentage points). */
  absolute: number;
  /** absolute / holdout rate; null when the holdout converted nobody. */
  relative: number | null;
  /** Interval of `absolute` at `confidence`. */
  interval: [number, number];
  confidence: number;
  /** Two-sided p-value of "no difference" (pooled z-test); null when it cannot be computed (no variance). */
  pValue: number | null;
}

/** Standard normal CDF through the error function. */
export function normalCdf(z: number): number {
  return 0.5 * (1 + Math.sign(z) * errorFunction(Math.abs(z) / Math.SQRT2));
}

/** The z with P(Z <= z) = p: simple-statistics' probit refined by one Newton step. */
export function normalQuantile(p: number): number {
  const z0 = probit(p);
  const density = Math.exp(-0.5 * z0 * z0) / Math.sqrt(2 * Math.PI);
  return z0 - (normalCdf(z0) - p) / density;
}

/**
 * Lift of `variant` (conversions of entries) against `holdout`. null when either has no entries.
 */
export function liftAgainstHoldout(variant: { converted: number; entered: number }, holdout: { converted: number; entered: number }, confidence = 0.95): Lift | null {
  if (variant.entered <= 0 || holdout.entered <= 0) return null;
  const p1 = variant.converted / variant.entered;
  const p0 = holdout.converted / holdout.entered;
  const diff = p1 - p0;
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const se = Math.sqrt((p1 * (1 - p1)) / variant.entered + (p0 * (1 - p0)) / holdout.entered);
  const pooled = (variant.converted + holdout.converted) / (variant.entered + holdout.entered);
  const sePooled = Math.sqrt(pooled * (1 - pooled) * (1 / variant.entered + 1 / holdout.entered));
  const pValue = sePooled > 0 ? 2 * (1 - normalCdf(Math.abs(diff) / sePooled)) : null;
  return {
    absolute: diff,
    relative: p0 > 0 ? diff / p0 : null,
    interval: [diff - z * se, diff + z * se],
    confidence,
    pValue,
  };
}
