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

const AAD = 'contact.phone';

export function phoneBlindIndex(keys: PhoneKeys, e164: string): string {
  return keyedHash(keys.secret, 'phone', e164);
}

export function protectPhone(keys: PhoneKeys, phone: PhoneInfo, source: string | null, now: Date): StoredPhone {
  return {
    enc: encrypt(parseKey(keys.phoneKey), phone.e164, AAD),
    index: phoneBlindIndex(keys, phone.e164),
    type: phone.type,
    country: phone.country,
    source,
    addedAt: now,
  };
}

/** Decrypts a stored phone. Callers must write an audit record (data/contacts.ts does). */
export function revealPhone(keys: PhoneKeys, stored: Pick<StoredPhone, 'enc'>): string {
  return decrypt(parseKey(keys.phoneKey), stored.enc, AAD);
}
