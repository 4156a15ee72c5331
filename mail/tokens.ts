/**
 * Signed link tokens for the public endpoints (unsubscribe, preferences, confirm, verify, open, click).
 *
 * A token is `<payload>.<signature>`, both base64url: the payload is a small JSON object with the
 * purpose, the contact id, optionally a send reference (a hash, not the ledger key) and the click target, an expiry and, for
 * one-time tokens, a nonce. The signature is HMAC-SHA256 over the payload with a key derived from
 * SOJOURN_SECRET, compared in constant time. Tokens never carry an email address.
 */
import crypto from 'node:crypto';

export type TokenPurpose = 'unsubscribe' | 'preferences' | 'confirm' | 'verify' | 'open' | 'click';

/** Lifetimes per purpose. Unsubscribe links must work for at least 30 days after the send (we give 60). */
export const TOKEN_TTL_SECONDS = {
  unsubscribe: 60 * 86400,
  preferences: 60 * 86400,
  confirm: 7 * 86400,
  verify: 7 * 86400,
  open: 90 * 86400,
  click: 90 * 86400,
} as const satisfies Record<TokenPurpose, number>;

/** Purposes whose token may be used once: confirming consent or an address must not be replayable. */
export const ONE_TIME_PURPOSES: ReadonlySet<TokenPurpose> = new Set(['confirm', 'verify']);

export interface TokenClaims {
  purpose: TokenPurpose;
  contactId: string;
  /** Reference of the send that carried the link: the hash in its Message-ID (mail/headers.ts sendRefFor). */
  sendRef?: string;
  /** Click target (click tokens only): the redirect goes only to URLs we signed. */
  url?: string;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** Expires at, seconds since the epoch. */
  exp: number;
  /** Random nonce for one-time tokens; part of the token id used for replay protection. */
  nonce?: string;
}

export type TokenCheck =
  | { ok: true; claims: TokenClaims; tokenId: string }
  | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' | 'wrong-purpose' };

interface WirePayload { p: TokenPurpose; c: string; s?: string; u?: string; i: number; e: number; n?: string }

const PURPOSES = new Set<string>(Object.keys(TOKEN_TTL_SECONDS));

function b64url(buf: Buffer): string {
  return buf.toString('base64url');
}

/** Signs and verifies tokens with one derived key; build once per process from the configured secret. */
export class TokenSigner {
  private readonly key: Buffer;

  constructor(secret: string) {
    if (!secret) throw new Error('TokenSigner needs a non-empty secret');
    // Derive a purpose-specific key so the raw secret (also used for blind indexes) never signs links directly.
    this.key = crypto.createHmac('sha256', secret).update('sojourn/link-token/v1').digest();
  }

  /** Issues a token. `now` is injectable for tests (expired tokens) and defaults to the clock. */
  sign(input: { purpose: TokenPurpose; contactId: string; sendRef?: string; url?: string; now?: Date; ttlSeconds?: number }): string {
    const iat = Math.floor((input.now ?? new Date()).getTime() / 1000);
    const payload: WirePayload = { p: input.purpose, c: input.contactId, i: iat, e: iat + (input.ttlSeconds ?? TOKEN_TTL_SECONDS[input.purpose]) };
    if (input.sendRef) payload.s = input.sendRef;
    if (input.url) payload.u = input.url;
    if (ONE_TIME_PURPOSES.has(input.purpose)) payload.n = b64url(crypto.randomBytes(9));
    const body = b64url(Buffer.from(JSON.stringify(payload), 'utf8'));
    return `${body}.${this.mac(body)}`;
  }

  /** Checks signature (constant time), purpose and expiry. Never throws on hostile input. */
  verify(token: string, purpose: TokenPurpose, now: Date = new Date()): TokenCheck {
    if (typeof token !== 'string' || token.length > 4096) return { ok: false, reason: 'malformed' };
    const dot = token.indexOf('.');
    if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' };
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.mac(body), 'base64url');
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };
    let wire: WirePayload;
    try {
      wire = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as WirePayload;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (!wire || typeof wire.c !== 'string' || typeof wire.e !== 'number' || !PURPOSES.has(wire.p)) return { ok: false, reason: 'malformed' };
    if (wire.p !== purpose) return { ok: false, reason: 'wrong-purpose' };
    if (wire.e * 1000 <= now.getTime()) return { ok: false, reason: 'expired' };
    const claims: TokenClaims = { purpose: wire.p, contactId: wire.c, iat: wire.i, exp: wire.e };
    if (wire.s !== undefined) claims.sendRef = wire.s;
    if (wire.u !== undefined) claims.url = wire.u;
    if (wire.n !== undefined) claims.nonce = wire.n;
    return { ok: true, claims, tokenId: tokenId(token) };
  }

  private mac(body: string): string {
    return b64url(crypto.createHmac('sha256', this.key).update(body).digest());
  }
}

/** Stable id of a token (hash of its text), used as the replay-protection key for one-time tokens. */
export function tokenId(token: string): string {
  return crypto.createHash('sha256').update(token).digest('base64url');
}
