/** The content hash of a plan: sha256 of its canonical JSON without `hash` and `sourceFile`. */
import { canonicalJson, sha256Hex } from './sha256';
import type { JourneyPlan } from './plan';

export function planHash(plan: Omit<JourneyPlan, 'hash'> & { hash?: string }): string {
  const { hash: _hash, sourceFile: _sourceFile, ...rest } = plan;
  return sha256Hex(canonicalJson(rest));
}
