/**
 * Keyed hashes and authenticated encryption for personal data at rest.
 *
 * - `keyedHash(secret, purpose, value)`: HMAC-SHA-256 with a per-purpose derived key, hex. Used as a
 *   blind index (find a phone without storing it in clear) and as the suppression key (block an address
 *   after its contact is erased). A purpose label keeps hashes of the same value unlinkable across uses.
 * - `encrypt`/`decrypt`: AES-256-GCM; the stored form is "v1:" + base64(iv | tag | ciphertext).
 */
import crypto from 'node:crypto';

/** Hash purposes in use; each derives its own key from the secret. */
export type HashPurpose = 'phone' | 'suppression' | 'consent' | 'event';

const derived = new Map<string, Buffer>();

function purposeKey(secret: string, purpose: HashPurpose): Buffer {
  const id = `${purpose}\u0000${secret}`;
  let k = derived.get(id);
  if (!k) {
    k = crypto.createHmac('sha256', secret).update(`sojourn/${purpose}/v1`).digest();
    derived.set(id, k);
  }
  return k;
}

/** HMAC-SHA-256 of `value` under a key derived from `secret` for `purpose`, as lower-case hex. */
export function keyedHash(secret: string, purpose: HashPurpose, value: string): string {
  return crypto.createHmac('sha256', purposeKey(secret, purpose)).update(value, 'utf8').digest('hex');
}

/**
 * Parses a 32-byte key given as 64 hex characters or canonical base64 (44 characters with its "="; or
 * base64url, 43). Throws when it is anything else, so a mistyped key fails at start-up, not at first use.
 */
export function parseKey(key: string): Buffer {
  if (/^[0-9a-fA-F]{64}$/.test(key)) return Buffer.from(key, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(key)) {
    const buf = Buffer.from(key, 'base64');
    if (buf.length === 32 && buf.toString('base64') === key) return buf;
  }
  if (/^[A-Za-z0-9_-]{43}$/.test(key)) {
    const buf = Buffer.from(key, 'base64url');
    if (buf.length === 32 && buf.toString('base64url') === key) return buf;
  }
  throw new Error('encryption key must be 32 bytes (64 hex characters or base64)');
}

const VERSION = 'v1:';

/** AES-256-GCM with a random 96-bit IV; `aad` binds the ciphertext to its context (e.g. the field name). */
export function encrypt(key: Buffer, plaintext: string, aad = ''): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return VERSION + Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64');
}

/** Reverses `encrypt`; throws when the key, the AAD or the ciphertext do not match (tampering). */
export function decrypt(key: Buffer, stored: string, aad = ''): string {
  if (!stored.startsWith(VERSION)) throw new Error('unknown ciphertext format');
  const raw = Buffer.from(stored.slice(VERSION.length), 'base64');
  if (raw.length < 28) throw new Error('ciphertext too short');
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

/** Constant-time string comparison (for API keys); unequal lengths compare a digest to avoid a length oracle. */
export function safeEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb) && a.length === b.length;
}
