/** Fuzz: link tokens. Mutations of valid tokens and arbitrary strings never verify and never throw. */
import fc from 'fast-check';
import { TOKEN_TTL_SECONDS, TokenSigner, type TokenPurpose } from '../../mail/tokens';
import { mutationArb } from '../helpers/token-mutations';
import { report, runCase, tally } from './harness';

const PURPOSES = Object.keys(TOKEN_TTL_SECONDS) as TokenPurpose[];
const signer = new TokenSigner('fuzz-token-secret-0123456789abcdef0123');
const now = new Date('2026-06-01T00:00:00Z');

describe('fuzz: tokens', () => {
  it('accepts no mutated or arbitrary token (8,000 cases)', async () => {
    const t = tally();
    const mutated = fc.sample(fc.tuple(fc.constantFrom(...PURPOSES), fc.stringMatching(/^[0-9a-f]{24}$/), fc.array(mutationArb, { minLength: 1, maxLength: 4 })), { numRuns: 6000, seed: 4242 });
    for (const [purpose, contactId, ms] of mutated) {
      const token = signer.sign({ purpose, contactId, now, ...(purpose === 'survey' ? { survey: { id: 'order_csat', scale: 'csat' as const, score: 4 } } : {}) });
      const bad = ms.reduce((x, m) => m.apply(x), token);
      if (bad === token) continue;
      await runCase(t, bad, () => PURPOSES.map((p) => signer.verify(bad, p, now)), (rs) => (rs.some((r) => r.ok) ? 'accepted' : null));
    }
    const arbitrary = fc.sample(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.base64String({ maxLength: 400 }).map((s) => `${s}.${s}`)), { numRuns: 8000 - t.cases, seed: 4343 });
    for (const s of arbitrary) await runCase(t, s, () => PURPOSES.map((p) => signer.verify(s, p, now)), (rs) => (rs.some((r) => r.ok) ? 'accepted' : null));
    console.log(report('tokens', t));
    expect(t.failures).toEqual([]);
    expect(t.cases).toBeGreaterThanOrEqual(8000);
  }, 300_000);
});
