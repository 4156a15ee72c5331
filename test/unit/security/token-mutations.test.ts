/**
 * Exactly one spelling of a link token is accepted: every mutation of a valid token of every purpose
 * (property test, fast-check) is refused by the verifier, whatever the purpose it is checked for.
 */
import fc from 'fast-check';
import { ONE_TIME_PURPOSES, TOKEN_TTL_SECONDS, TokenSigner, type TokenPurpose } from '../../../mail/tokens';
import { mutationArb } from '../../helpers/token-mutations';

const PURPOSES = Object.keys(TOKEN_TTL_SECONDS) as TokenPurpose[];
const signer = new TokenSigner('token-mutation-secret-0123456789abcdef');
const now = new Date('2026-06-01T00:00:00Z');
/** Survey tokens carry their survey (id, scale, score); others none. */
const surveyOf = (purpose: TokenPurpose) => (purpose === 'survey' ? { id: 'order_csat', scale: 'csat' as const, score: 2 } : undefined);

describe('link tokens accept exactly one encoding', () => {
  it('refuses at least 1,000 mutations of valid tokens of every purpose', () => {
    const counts: Record<string, number> = {};
    const kinds: Record<string, number> = {};
    for (const purpose of PURPOSES) {
      counts[purpose] = 0;
      fc.assert(
        fc.property(
          fc.stringMatching(/^[0-9a-f]{24}$/),
          fc.option(fc.stringMatching(/^[0-9a-f]{32}$/), { nil: undefined }),
          fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
          (contactId, sendRef, mutations) => {
            const token = signer.sign({ purpose, contactId, sendRef, url: purpose === 'click' ? 'https://example.com/a?b=c' : undefined, survey: surveyOf(purpose), now });
            expect(signer.verify(token, purpose, now).ok).toBe(true);
            // Each mutation alone, and all of them applied in turn.
            const variants = [...mutations.map((m) => m.apply(token)), mutations.reduce((t, m) => m.apply(t), token)];
            for (const [i, v] of variants.entries()) {
              if (v === token) continue;
              counts[purpose]++;
              const name = mutations[i]?.name ?? 'combined';
              kinds[name] = (kinds[name] ?? 0) + 1;
              for (const p of PURPOSES) {
                const r = signer.verify(v, p, now);
                if (r.ok) throw new Error(`${name} of a ${purpose} token accepted as ${p}: ${JSON.stringify(v)}`);
              }
            }
          },
        ),
        { numRuns: 150, seed: 11_2026 + PURPOSES.indexOf(purpose) },
      );
    }
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    console.log(`token mutations refused: ${total} (${PURPOSES.map((p) => `${p} ${counts[p]}`).join(', ')}); by kind: ${Object.entries(kinds).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    expect(total).toBeGreaterThanOrEqual(1000);
    for (const p of PURPOSES) expect(counts[p]).toBeGreaterThan(100);
  });

  it('identifies a one-time token by its signed nonce, other tokens by their payload', () => {
    for (const purpose of PURPOSES) {
      const a = signer.sign({ purpose, contactId: 'c1', survey: surveyOf(purpose), now });
      const b = signer.sign({ purpose, contactId: 'c1', survey: surveyOf(purpose), now });
      const ra = signer.verify(a, purpose, now);
      const rb = signer.verify(b, purpose, now);
      expect(ra.ok && rb.ok).toBe(true);
      if (!ra.ok || !rb.ok) continue;
      expect(ra.claims.nonce !== undefined).toBe(ONE_TIME_PURPOSES.has(purpose));
      // Two one-time tokens signed at the same second differ by nonce; two others are the same token.
      expect(ra.tokenId === rb.tokenId).toBe(!ONE_TIME_PURPOSES.has(purpose));
    }
  });
});
