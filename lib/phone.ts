/**
 * Phone numbers: parsed with libphonenumber (full "max" metadata, so the number type is known),
 * kept as E.164. Storage never holds the number in clear: `protectPhone` returns the AES-256-GCM
 * ciphertext and the keyed blind index used to find it.
 */
import { parsePhoneNumberFromString, isSupportedCountry, type CountryCode } from 'libphonenumber-js/max';
import { encrypt, decrypt, keyedHash, parseKey } from './crypto';

export type PhoneType = 'mobile' | 'landline' | 'fixed_or_mobile' | 'voip' | 'toll_free' | 'other' | 'unknown';
export type PhoneErrorCode = 'E_PHONE_EMPTY' | 'E_PHONE_SYNTAX' | 'E_PHONE_INVALID' | 'E_PHONE_COUNTRY';

export interface PhoneInfo {
  e164: string;
  /** ISO 3166-1 alpha-2 region, when libphonenumber can tell. */
  country: string | null;
  type: PhoneType;
}

export type PhoneResult = { ok: true; phone: PhoneInfo } | { ok: false; code: PhoneErrorCode; message: string };

const TYPE_MAP: Record<string, PhoneType> = {
  MOBILE: 'mobile',
  FIXED_LINE: 'landline',
  FIXED_LINE_OR_MOBILE: 'fixed_or_mobile',
  VOIP: 'voip',
  TOLL_FREE: 'toll_free',
};

/**
 * Parses a number as written. Without a leading "+" (or 00), `defaultCountry` says which national
 * plan to read it in. Only numbers libphonenumber considers valid (right length and prefix) pass.
 */
export function parsePhone(raw: unknown, defaultCountry?: string | null): PhoneResult {
  if (typeof raw !== 'string' && typeof raw !== 'number') return { ok: false, code: 'E_PHONE_EMPTY', message: 'phone number is empty' };
  const text = String(raw).trim();
  if (text === '') return { ok: false, code: 'E_PHONE_EMPTY', message: 'phone number is empty' };
  let country: CountryCode | undefined;
  if (defaultCountry) {
    const cc = defaultCountry.toUpperCase();
    if (!isSupportedCountry(cc)) return { ok: false, code: 'E_PHONE_COUNTRY', message: `unknown country code "${defaultCountry}"` };
    country = cc;
  }
  if (!/^[+\d\s().\-/]+$/.test(text.replace(/^00/, '+')) || !/\d/.test(text)) {
    return { ok: false, code: 'E_PHONE_SYNTAX', message: 'a phone number may only contain digits, spaces, ( ) . - / and a leading +' };
  }
  const n = parsePhoneNumberFromString(text.replace(/^00/, '+'), country);
  if (!n) return { ok: false, code: 'E_PHONE_SYNTAX', message: country ? 'not a phone number' : 'not a phone number (write it with + and the country code, or give a country)' };
  if (!n.isValid()) return { ok: false, code: 'E_PHONE_INVALID', message: 'not a valid number in its numbering plan (wrong length or prefix)' };
  const t = n.getType();
  return { ok: true, phone: { e164: n.number, country: n.country ?? null, type: t ? (TYPE_MAP[t] ?? 'other') : 'unknown' } };
}

/** How a phone is stored: encrypted value, blind index, and the non-identifying facts. */
export interface StoredPhone {
  /** AES-256-GCM ciphertext of the E.164 string (lib/crypto format). */
  enc: string;
  /** keyedHash(secret, 'phone', e164): equality lookups without decrypting. */
  index: string;
  type: PhoneType;
  country: string | null;
  source: string | null;
  addedAt: Date;
}

export interface PhoneKeys {
  secret: string;
  phoneKey: string;
}

/**
 * Associated data of a phone ciphertext: bound to the contact, so a ciphertext copied onto another
 * contact does not decrypt there. Rows written before this binding used the constant
 * `LEGACY_AAD` and carry no `BOUND` prefix; `sojourn migrate phones` (data/phone-aad-migration.ts)
 * rewrites them, and until then they still decrypt (documented in docs/data-model.md).
 */
const LEGACY_AAD = 'contact.phone';
const BOUND = 'p2:';
const aadFor = (contactId: string) => `contact.phone\u0000${contactId}`;

export function phoneBlindIndex(keys: PhoneKeys, e164: string): string {
  return keyedHash(keys.secret, 'phone', e164);
}

export function protectPhone(keys: PhoneKeys, phone: PhoneInfo, source: string | null, now: Date, contactId: string): StoredPhone {
  return {
    enc: BOUND + encrypt(parseKey(keys.phoneKey), phone.e164, aadFor(contactId)),
    index: phoneBlindIndex(keys, phone.e164),
    type: phone.type,
    country: phone.country,
    source,
    addedAt: now,
  };
}

/** True when a stored ciphertext is bound to its contact (written or migrated since the binding). */
export function isBoundPhone(stored: Pick<StoredPhone, 'enc'>): boolean {
  return stored.enc.startsWith(BOUND);
}

/** Decrypts a stored phone of contact `contactId`. Callers must write an audit record (data/contacts.ts does). */
export function revealPhone(keys: PhoneKeys, stored: Pick<StoredPhone, 'enc'>, contactId: string): string {
  const key = parseKey(keys.phoneKey);
  return isBoundPhone(stored) ? decrypt(key, stored.enc.slice(BOUND.length), aadFor(contactId)) : decrypt(key, stored.enc, LEGACY_AAD);
}

/** The stored phone with its ciphertext bound to `contactId` (unchanged when it already is). */
export function bindPhone<T extends Pick<StoredPhone, 'enc'>>(keys: PhoneKeys, stored: T, contactId: string): T {
  if (isBoundPhone(stored)) return stored;
  const e164 = decrypt(parseKey(keys.phoneKey), stored.enc, LEGACY_AAD);
  return { ...stored, enc: BOUND + encrypt(parseKey(keys.phoneKey), e164, aadFor(contactId)) };
}
