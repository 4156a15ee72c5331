/**
 * The dashboard's browser session: a login form exchanges the API key for a cookie, so the key never
 * goes into a URL, a bookmark or the browser's history, and page scripts cannot read it.
 *
 * The cookie value is `v1.<expires, unix seconds>.<random nonce>.<HMAC-SHA256>`, signed with a key
 * derived from SOJOURN_SECRET *and* the API key: rotating either one ends every session, and the server
 * keeps no session state. The expiry is inside the signed value, so a cookie kept past its Max-Age is
 * still refused. Logging out clears the cookie in that browser; a copied cookie stays valid until it
 * expires (8 hours), as with any stateless session: rotate the API key to end all sessions at once.
 */
import crypto from 'node:crypto';

export const SESSION_COOKIE = 'sojourn_dashboard';
export const SESSION_TTL_SECONDS = 8 * 3600;

/** Why a presented cookie was refused (for the tests; the browser just sees the login form). */
export type SessionCheck = { ok: true; expiresAt: Date } | { ok: false; reason: 'missing' | 'malformed' | 'bad-signature' | 'expired' };

/**
 * The signing key of dashboard sessions: HMAC(secret, purpose label + SHA-256 of the API key). A purpose
 * label of its own, so a session MAC can never be replayed as any other token of the product.
 */
export function sessionKey(secret: string, apiKey: string): Buffer {
  const keyDigest = crypto.createHash('sha256').update(apiKey, 'utf8').digest('hex');
  return crypto.createHmac('sha256', secret).update(`sojourn/dashboard-session/v1\u0000${keyDigest}`).digest();
}

/** A key for the CSRF cookie's signature, separate from the session key (same inputs, another label). */
export function csrfCookieKey(secret: string, apiKey: string): string {
  const keyDigest = crypto.createHash('sha256').update(apiKey, 'utf8').digest('hex');
  return crypto.createHmac('sha256', secret).update(`sojourn/dashboard-csrf/v1\u0000${keyDigest}`).digest('base64url');
}

function mac(key: Buffer, body: string): string {
  return crypto.createHmac('sha256', key).update(body, 'utf8').digest('base64url');
}

/** A new session cookie value, valid for `ttlSeconds` from `now`. */
export function issueSession(key: Buffer, now: Date, ttlSeconds = SESSION_TTL_SECONDS): string {
  const body = `v1.${Math.floor(now.getTime() / 1000) + ttlSeconds}.${crypto.randomBytes(16).toString('base64url')}`;
  return `${body}.${mac(key, body)}`;
}

const SHAPE = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/** Checks a presented cookie value: its exact shape, its signature (constant time), then its expiry. */
export function verifySession(key: Buffer, value: string | undefined, now: Date): SessionCheck {
  if (value === undefined || value === '') return { ok: false, reason: 'missing' };
  const m = SHAPE.exec(value);
  if (!m) return { ok: false, reason: 'malformed' };
  const body = value.slice(0, value.length - m[3].length - 1);
  const expected = Buffer.from(mac(key, body));
  const given = Buffer.from(m[3]);
  if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) return { ok: false, reason: 'bad-signature' };
  const expiresAt = new Date(Number(m[1]) * 1000);
  if (expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, expiresAt };
}
