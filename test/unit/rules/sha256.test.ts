/**
 * rules/sha256.ts moved from a hand-written SHA-256 to @noble/hashes: every hash must stay identical,
 * or deployed plan versions would look changed. Compared against the old implementation
 * (legacy-sha256.ts) on arbitrary strings (lone surrogates included) and on the shipped journeys' plans.
 */
import path from 'node:path';
import fc from 'fast-check';
import { canonicalJson, sha256Hex } from '../../../rules';
import { loadProject } from '../../../engine/project';
import * as legacy from './legacy-sha256';

const root = path.join(__dirname, '..', '..', '..');

describe('plan hashes after the move to @noble/hashes', () => {
  it('equal the old implementation on any string, including lone surrogates and long inputs', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
      expect(sha256Hex(s)).toBe(legacy.sha256Hex(s));
    }), { numRuns: 500 });
    for (const s of ['\ud800', 'a\udfffb', '😀'.repeat(40), 'x'.repeat(64 * 3 + 55), '中文'.repeat(1000)]) expect(sha256Hex(s)).toBe(legacy.sha256Hex(s));
  });

  it('leave every shipped journey plan with the hash the old implementation gave it', () => {
    const { result } = loadProject([path.join(root, 'journeys')], path.join(root, 'templates'));
    const plans = Object.values(result.plans);
    expect(plans.length).toBeGreaterThanOrEqual(4);
    for (const p of plans) {
      const { hash, sourceFile: _s, ...rest } = p;
      expect(hash).toBe(legacy.sha256Hex(legacy.canonicalJson(rest)));
      expect(hash).toBe(sha256Hex(canonicalJson(rest)));
    }
  });
});
