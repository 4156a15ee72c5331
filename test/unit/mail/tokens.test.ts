import fc from 'fast-check';
import { TOKEN_TTL_SECONDS, TokenSigner } from '../../../mail/tokens';

const signer = new TokenSigner('unit-secret');

describe('signed link tokens', () => {
  it('verifies a token it signed and returns its claims', () => {
    const token = signer.sign({ purpose: 'click', contactId: 'c1', sendRef: 'ab'.repeat(16), url: 'https://x.example/a' });
    const check = signer.verify(token, 'click');
    expect(check).toMatchObject({ ok: true, claims: { purpose: 'click', contactId: 'c1', sendRef: 'ab'.repeat(16), url: 'https://x.example/a' } });
  });

  it('rejects a token whose payload or signature was changed, or that another secret signed', () => {
    const token = signer.sign({ purpose: 'unsubscribe', contactId: 'c1' });
    const [payload, sig] = token.split('.');
    const other = Buffer.from(Buffer.from(payload, 'base64url').toString().replace('"c1"', '"c2"')).toString('base64url');
    expect(signer.verify(`${other}.${sig}`, 'unsubscribe')).toEqual({ ok: false, reason: 'bad-signature' });
    expect(signer.verify(`${payload}.${sig.slice(0, -2)}AA`, 'unsubscribe')).toEqual({ ok: false, reason: 'bad-signature' });
    expect(new TokenSigner('other-secret').verify(token, 'unsubscribe')).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('rejects expired tokens and tokens made for another purpose', () => {
    const old = signer.sign({ purpose: 'verify', contactId: 'c1', now: new Date(Date.now() - 8 * 86400_000) });
    expect(signer.verify(old, 'verify')).toEqual({ ok: false, reason: 'expired' });
    expect(signer.verify(signer.sign({ purpose: 'preferences', contactId: 'c1' }), 'unsubscribe')).toEqual({ ok: false, reason: 'wrong-purpose' });
  });

  it('keeps unsubscribe links valid for at least 30 days and one-time links shorter', () => {
    expect(TOKEN_TTL_SECONDS.unsubscribe).toBeGreaterThanOrEqual(30 * 86400);
    expect(TOKEN_TTL_SECONDS.confirm).toBeLessThan(TOKEN_TTL_SECONDS.unsubscribe);
    const at29 = signer.sign({ purpose: 'unsubscribe', contactId: 'c1', now: new Date(Date.now() - 59 * 86400_000) });
    expect(signer.verify(at29, 'unsubscribe').ok).toBe(true);
  });

  it('gives each one-time token a nonce, so two confirm links have different ids', () => {
    const a = signer.verify(signer.sign({ purpose: 'confirm', contactId: 'c1' }), 'confirm');
    const b = signer.verify(signer.sign({ purpose: 'confirm', contactId: 'c1' }), 'confirm');
    expect(a.ok && b.ok && a.tokenId !== b.tokenId).toBe(true);
  });

  it('never throws and never accepts arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.constantFrom('unsubscribe', 'click', 'confirm') as fc.Arbitrary<'unsubscribe'>, (s, purpose) => {
        expect(signer.verify(s, purpose).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
