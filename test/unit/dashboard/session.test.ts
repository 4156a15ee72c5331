/**
 * The dashboard's session cookie: signed with a key derived from the secret and the API key, expiring
 * by the time inside the signed value, refused in every other spelling.
 */
import fc from 'fast-check';
import { issueSession, sessionKey, verifySession, SESSION_TTL_SECONDS } from '../../../server/dashboard/session';

const SECRET = 'dashboard-test-secret-0123456789abcdef';
const KEY = sessionKey(SECRET, 'api-key-one');
const T0 = new Date('2026-03-01T10:00:00Z');

describe('dashboard sessions', () => {
  it('accepts a fresh session until its expiry, then refuses it', () => {
    const v = issueSession(KEY, T0);
    expect(verifySession(KEY, v, T0)).toEqual({ ok: true, expiresAt: new Date(T0.getTime() + SESSION_TTL_SECONDS * 1000) });
    expect(verifySession(KEY, v, new Date(T0.getTime() + (SESSION_TTL_SECONDS - 1) * 1000)).ok).toBe(true);
    expect(verifySession(KEY, v, new Date(T0.getTime() + SESSION_TTL_SECONDS * 1000))).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a session after the API key or the secret changed', () => {
    const v = issueSession(KEY, T0);
    expect(verifySession(sessionKey(SECRET, 'api-key-two'), v, T0)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifySession(sessionKey(`${SECRET}x`, 'api-key-one'), v, T0)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a later expiry written into a signed value', () => {
    const v = issueSession(KEY, T0);
    const [, exp, nonce, mac] = v.split('.');
    const forged = `v1.${Number(exp) + 86_400}.${nonce}.${mac}`;
    expect(verifySession(KEY, forged, T0)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses missing, malformed and re-spelled values', () => {
    const v = issueSession(KEY, T0);
    expect(verifySession(KEY, undefined, T0)).toEqual({ ok: false, reason: 'missing' });
    for (const bad of [`${v} `, v.replace('v1.', 'v2.'), `${v}=`, v.toUpperCase(), v.slice(0, -1), `${v.slice(0, -1)}${v.endsWith('A') ? 'B' : 'A'}`]) {
      expect(verifySession(KEY, bad, T0).ok).toBe(false);
    }
  });

  it('never accepts an arbitrary string or a mutated session (property)', () => {
    const v = issueSession(KEY, T0);
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => !verifySession(KEY, s, T0).ok), { numRuns: 2000 });
    fc.assert(
      fc.property(fc.nat({ max: v.length - 1 }), fc.string({ minLength: 1, maxLength: 1 }), (i, c) => {
        const mutated = v.slice(0, i) + c + v.slice(i + 1);
        return mutated === v || !verifySession(KEY, mutated, T0).ok;
      }),
      { numRuns: 2000 },
    );
  });
});
