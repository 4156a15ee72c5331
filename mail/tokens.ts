/**
 * Signed link tokens for the public endpoints (unsubscribe, preferences, confirm, verify, open, click,
 * survey ratings).
 *
 * A token is `<payload>.<signature>`, both base64url: the payload is a small JSON object with the
 * purpose, the contact id, optionally a send reference (a hash, not the ledger key) and the click target, an expiry and, for
 * one-time tokens, a nonce. The signature is HMAC-SHA256 over the payload with a key derived from
 * SOJOURN_SECRET, compared in constant time. Tokens never carry an email address.
 */
import crypto from 'node:crypto';

export type TokenPurpose = 'unsubscribe' | 'preferences' | 'confirm' | 'verify' | 'open' | 'click' | 'survey';

/** Lifetimes per purpose. Unsubscribe links must work for at least 30 days after the send (we give 60). */
export const TOKEN_TTL_SECONDS = {
  unsubscribe: 60 * 86400,
  preferences: 60 * 86400,
  confirm: 7 * 86400,
  verify: 7 * 86400,
  open: 90 * 86400,
  click: 90 * 86400,
  survey: 30 * 86400,
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
  /** Survey tokens only: which survey, its scale and the rating the link stands for (preselected on the page). */
  survey?: SurveyClaim;
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

/** The survey a rating link belongs to: its id (template front matter), scale and the score clicked. */
export interface SurveyClaim { id: string; scale: SurveyScale; score: number }
/** csat: 1-5 stars; nps: 0-10 "how likely are you to recommend". */
export type SurveyScale = 'csat' | 'nps';
export const SURVEY_SCALES: Record<SurveyScale, { min: number; max: number }> = { csat: { min: 1, max: 5 }, nps: { min: 0, max: 10 } };
/** A survey id: lower_snake_case, short (it is a contact field name: surveys.<id>). */
export const SURVEY_ID_RE = /^[a-z][a-z0-9_]{0,39}$/;

/** True when `score` is a whole number on the survey's scale. */
export function scoreOnScale(scale: SurveyScale, score: unknown): score is number {
  const r = SURVEY_SCALES[scale];
  return typeof score === 'number' && Number.isInteger(score) && score >= r.min && score <= r.max;
}

interface WirePayload { p: TokenPurpose; c: string; s?: string; u?: string; i: number; e: number; n?: string; q?: string; k?: SurveyScale; g?: number }

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
  sign(input: { purpose: TokenPurpose; contactId: string; sendRef?: string; url?: string; survey?: SurveyClaim; now?: Date; ttlSeconds?: number }): string {
    const iat = Math.floor((input.now ?? new Date()).getTime() / 1000);
    const payload: WirePayload = { p: input.purpose, c: input.contactId, i: iat, e: iat + (input.ttlSeconds ?? TOKEN_TTL_SECONDS[input.purpose]) };
    if (input.sendRef) payload.s = input.sendRef;
    if (input.url) payload.u = input.url;
    if (input.survey) Object.assign(payload, { q: input.survey.id, k: input.survey.scale, g: input.survey.score });
    if (ONE_TIME_PURPOSES.has(input.purpose)) payload.n = b64url(crypto.randomBytes(9));
    const body = b64url(Buffer.from(JSON.stringify(payload), 'utf8'));
    return `${body}.${this.mac(body)}`;
  }

  /**
   * Checks encoding, signature (constant time), shape, purpose and expiry. Exactly one spelling of a
   * token is accepted: both parts strict base64url (no padding, no whitespace, no `+/`) that
   * re-encode to themselves, so a changed last character or added padding is a different, refused
   * token rather than the same one under another name. Never throws on hostile input.
   */
  verify(token: string, purpose: TokenPurpose, now: Date = new Date()): TokenCheck {
    if (typeof token !== 'string' || token.length > 4096) return { ok: false, reason: 'malformed' };
    const dot = token.indexOf('.');
    if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' };
    const body = token.slice(0, dot);
    const bodyBytes = canonicalBase64url(body);
    const given = canonicalBase64url(token.slice(dot + 1));
    if (!bodyBytes || !given || given.length !== MAC_BYTES) return { ok: false, reason: 'malformed' };
    const expected = crypto.createHmac('sha256', this.key).update(body).digest();
    if (!crypto.timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };
    let wire: unknown;
    try {
      wire = JSON.parse(bodyBytes.toString('utf8'));
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (!isWirePayload(wire)) return { ok: false, reason: 'malformed' };
    if (wire.p !== purpose) return { ok: false, reason: 'wrong-purpose' };
    if (wire.e * 1000 <= now.getTime()) return { ok: false, reason: 'expired' };
    const claims: TokenClaims = { purpose: wire.p, contactId: wire.c, iat: wire.i, exp: wire.e };
    if (wire.s !== undefined) claims.sendRef = wire.s;
    if (wire.u !== undefined) claims.url = wire.u;
    if (wire.n !== undefined) claims.nonce = wire.n;
    if (wire.q !== undefined && wire.k !== undefined && wire.g !== undefined) claims.survey = { id: wire.q, scale: wire.k, score: wire.g };
    return { ok: true, claims, tokenId: tokenIdOf(wire, body) };
  }

  private mac(body: string): string {
    return b64url(crypto.createHmac('sha256', this.key).update(body).digest());
  }
}

const MAC_BYTES = 32;
const NONCE_RE = /^[A-Za-z0-9_-]{12}$/;
const WIRE_KEYS = new Set(['p', 'c', 's', 'u', 'i', 'e', 'n', 'q', 'k', 'g']);

/** The bytes of `text` if it is strict, canonical base64url (alphabet A-Z a-z 0-9 - _, no padding, unused bits zero). */
export function canonicalBase64url(text: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

/** The signed payload has exactly our shape: known keys, right types, a nonce iff the purpose is one-time. */
function isWirePayload(w: unknown): w is WirePayload {
  if (typeof w !== 'object' || w === null || Array.isArray(w)) return false;
  const o = w as Record<string, unknown>;
  if (Object.keys(o).some((k) => !WIRE_KEYS.has(k))) return false;
  if (typeof o.p !== 'string' || !PURPOSES.has(o.p) || typeof o.c !== 'string' || o.c === '' || o.c.length > 64) return false;
  if (!Number.isSafeInteger(o.i) || !Number.isSafeInteger(o.e)) return false;
  if (o.s !== undefined && typeof o.s !== 'string') return false;
  if (o.u !== undefined && typeof o.u !== 'string') return false;
  const oneTime = ONE_TIME_PURPOSES.has(o.p as TokenPurpose);
  if (oneTime ? typeof o.n !== 'string' || !NONCE_RE.test(o.n) : o.n !== undefined) return false;
  // Survey tokens carry exactly a valid survey id, scale and on-scale score; other purposes none of them.
  if (o.p === 'survey') {
    if (typeof o.q !== 'string' || !SURVEY_ID_RE.test(o.q) || (o.k !== 'csat' && o.k !== 'nps') || !scoreOnScale(o.k, o.g)) return false;
  } else if (o.q !== undefined || o.k !== undefined || o.g !== undefined) return false;
  return true;
}

/**
 * Stable id of a verified token. One-time tokens are identified by their signed nonce (with purpose
 * and contact), so replay protection does not depend on how the token was spelled; other tokens by
 * a hash of their signed payload. Used as the replay key and in deterministic event ids.
 */
function tokenIdOf(wire: WirePayload, body: string): string {
  const basis = wire.n !== undefined ? `nonce/v1\u0000${wire.p}\u0000${wire.c}\u0000${wire.n}` : `payload/v1\u0000${body}`;
  return crypto.createHash('sha256').update(basis).digest('base64url');
}
