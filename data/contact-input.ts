/**
 * Contact input from the edges (HTTP API, CSV import): checked and normalised in one place, before
 * anything is written. Returns data, not exceptions: `{ ok: false, error }` names the field (as a JSON
 * pointer) and a stable code, so the API and the import report the same reasons. In lenient mode
 * (API and import) a bad secondary field is dropped and listed in `warnings` instead; the key
 * fields (email, externalId) and consent always reject, since a wrong consent must never be guessed.
 */
import { parseEmail, type EmailInfo } from '../lib/email-address';
import { isTimeZone } from '../rules/duration';
import { parsePhone, type PhoneInfo } from '../lib/phone';
import { readBirthday, checkBirthday, type DateOrder } from '../lib/date-reader';
import { readTimeZone, readCountry } from '../lib/time-zone-reader';
import { CHANNELS, type Channel } from './contact-model';
import { OWNER_ID_RE } from './owners';

export type InputConsentStatus = 'subscribed' | 'unsubscribed' | 'pending';

export interface ContactInput {
  email?: string | null;
  externalId?: string | null;
  phone?: string | null;
  /** Country (ISO alpha-2) used to read a phone written without "+"; also a default for the contact. */
  phoneCountry?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  locale?: string | null;
  timezone?: string | null;
  /** "YYYY-MM-DD", "MM-DD", "--MM-DD", or { month, day, year? }. */
  birthday?: string | { month: number; day: number; year?: number | null } | null;
  tags?: string[];
  attributes?: Record<string, unknown>;
  channel?: string | null;
  /** Owner (user) id: who gets the contact's tasks. */
  owner?: string | null;
  consent?: Partial<Record<Channel, InputConsentStatus>>;
  /** Evidence stored with any consent change this input makes. */
  consentContext?: { wording?: string | null; ip?: string | null; userAgent?: string | null };
}

export interface PreparedContact {
  email: EmailInfo | null;
  externalId: string | null;
  phone: PhoneInfo | null;
  /** Plain fields to set (only those given). */
  fields: Partial<{
    firstName: string; lastName: string; locale: string; timezone: string; channel: string; owner: string;
    birthday: { month: number; day: number; year?: number }; birthdayMonthDay: string;
  }>;
  tags: string[];
  attributes: Record<string, unknown>;
  consent: Partial<Record<Channel, InputConsentStatus>>;
  consentContext: { wording: string | null; ip: string | null; userAgent: string | null };
}

export interface InputError {
  code: string;
  message: string;
  /** JSON pointer of the bad field in the input, e.g. "/email". */
  pointer: string;
}

/**
 * A field problem that did not stop the contact (lenient reading): the field was left unset
 * (`dropped`), or it was read by a guess the person should check (`guessed`, e.g. "EST" as
 * America/New_York). `value` is the text as given.
 */
export interface FieldWarning extends InputError {
  kind: 'dropped' | 'guessed';
  value: string;
}

export type PrepareResult = { ok: true; contact: PreparedContact; warnings: FieldWarning[] } | { ok: false; error: InputError };

export interface PrepareOptions {
  /** Set by the CSV import (its dedupe key). */
  requireEmail?: boolean;
  /**
   * Keep the person, drop the bad field: problems in secondary fields (phone, birthday, time zone,
   * locale, names, tags, attributes) become warnings and the field is left unset; time zones,
   * countries and dates are also read in the forms people write. Without it (strict, the default for
   * internal callers) the first problem rejects the input, with today's codes.
   */
  lenient?: boolean;
  /** Country (ISO alpha-2) for phone numbers written without "+" when the input has no phoneCountry. */
  defaultRegion?: string | null;
  /** Order of numeric day/month dates such as 03/04/1990. */
  dateOrder?: DateOrder | null;
}

/** Reads a birthday; year optional; 29 February allowed without a year or in a leap year. */
export function parseBirthday(v: ContactInput['birthday']): { month: number; day: number; year?: number } | null {
  if (typeof v === 'string') {
    const r = readBirthday(v);
    return r.ok ? r.birthday : null;
  }
  if (v && typeof v === 'object') return checkBirthday(v.month, v.day, v.year ?? undefined);
  return null;
}

/** An IANA zone name such as Asia/Shanghai (or UTC); abbreviations like EST are refused for contacts. */
export function isValidTimeZone(tz: string): boolean {
  return isTimeZone(tz) && (tz.includes('/') || tz === 'UTC');
}

export function isValidLocale(locale: string): boolean {
  if (locale.length > 35) return false; // BCP 47 tags in use are short; Intl is slow to reject huge strings.
  try {
    return locale.length <= 35 && Intl.getCanonicalLocales(locale).length === 1;
  } catch {
    return false;
  }
}

/** Tags are lower-case, trimmed, 1-64 characters of letters, digits, "_", "-", ":" or ".". */
export function normaliseTag(tag: string): string | null {
  const t = tag.trim().toLowerCase();
  return /^[\p{L}\p{N}_\-:.]{1,64}$/u.test(t) ? t : null;
}

/** Attribute names that would reach an object's prototype machinery if used as keys. */
const RESERVED_ATTRIBUTES = new Set(['__proto__', 'constructor', 'prototype']);

const clean = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
const escapePointer = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');

/** Checks and normalises one contact input (see PrepareOptions for strict and lenient reading). */
export function prepareContact(input: ContactInput, opts: PrepareOptions = {}): PrepareResult {
  const lenient = Boolean(opts.lenient);
  const err = (code: string, message: string, pointer: string): PrepareResult => ({ ok: false, error: { code, message, pointer } });
  const warnings: FieldWarning[] = [];
  /** A secondary-field problem: a warning when lenient, the rejection otherwise. */
  let rejection: InputError | null = null;
  const problem = (code: string, message: string, pointer: string, value: unknown, kind: FieldWarning['kind'] = 'dropped') => {
    if (!lenient) rejection ??= { code, message, pointer };
    else warnings.push({ code, message, pointer, kind, value: typeof value === 'string' ? value : JSON.stringify(value) ?? '' });
  };

  let email: EmailInfo | null = null;
  if (clean(input.email) !== null || opts.requireEmail) {
    const r = parseEmail(input.email);
    if (!r.ok) return err(r.code, r.message, '/email');
    email = r.email;
  }
  const externalId = clean(input.externalId);
  if (externalId !== null && externalId.length > 128) return err('E_EXTERNAL_ID', 'externalId is longer than 128 characters', '/externalId');
  if (!email && !externalId) return err('E_CONTACT_KEY', 'a contact needs an email address or an externalId', '/email');

  let phone: PhoneInfo | null = null;
  let country = clean(input.phoneCountry);
  if (country !== null && lenient) {
    const c = readCountry(country);
    if (!c) problem('E_PHONE_COUNTRY', `unknown country "${country}" (ISO code such as CN, or an English name)`, '/phoneCountry', input.phoneCountry);
    country = c;
  }
  country ??= clean(opts.defaultRegion);
  if (clean(input.phone) !== null) {
    const r = parsePhone(input.phone, country);
    if (!r.ok) problem(r.code, r.message, r.code === 'E_PHONE_COUNTRY' ? '/phoneCountry' : '/phone', r.code === 'E_PHONE_COUNTRY' ? country : input.phone);
    else phone = r.phone;
  }

  const fields: PreparedContact['fields'] = {};
  for (const k of ['firstName', 'lastName', 'channel'] as const) {
    const v = clean(input[k]);
    if (v !== null) {
      if (v.length > 200) problem('E_FIELD_TOO_LONG', `${k} is longer than 200 characters`, `/${k}`, v);
      else fields[k] = v;
    }
  }
  const owner = clean(input.owner);
  if (owner !== null) {
    if (!OWNER_ID_RE.test(owner)) problem('E_OWNER', `"${owner.slice(0, 64)}" is not an owner id (letters, digits, . _ -, at most 64)`, '/owner', owner);
    else fields.owner = owner;
  }
  const locale = clean(input.locale);
  if (locale !== null) {
    if (!isValidLocale(locale)) problem('E_LOCALE', `"${locale.slice(0, 40)}" is not a BCP 47 locale`, '/locale', locale);
    else fields.locale = Intl.getCanonicalLocales(locale)[0];
  }
  const timezone = clean(input.timezone);
  if (timezone !== null) {
    if (!lenient) {
      if (!isValidTimeZone(timezone)) problem('E_TIMEZONE', `"${timezone.slice(0, 64)}" is not an IANA time zone`, '/timezone', timezone);
      else fields.timezone = timezone;
    } else {
      const r = readTimeZone(timezone);
      if (!r.ok) problem(r.code, r.message, '/timezone', timezone);
      else {
        fields.timezone = r.zone;
        if (r.how === 'guessed') problem('W_TIMEZONE_GUESSED', r.note ?? `read as ${r.zone}`, '/timezone', timezone, 'guessed');
      }
    }
  }
  if (input.birthday !== undefined && input.birthday !== null && input.birthday !== '') {
    const r = typeof input.birthday === 'string' ? readBirthday(input.birthday, { lenient, order: opts.dateOrder }) : null;
    const b = r ? (r.ok ? r.birthday : null) : parseBirthday(input.birthday);
    if (!b) problem(r && !r.ok ? r.code : 'E_BIRTHDAY', r && !r.ok && lenient ? r.message : 'birthday must be YYYY-MM-DD or MM-DD and a real date', '/birthday', input.birthday);
    else {
      fields.birthday = b;
      fields.birthdayMonthDay = `${String(b.month).padStart(2, '0')}-${String(b.day).padStart(2, '0')}`;
    }
  }

  const tags: string[] = [];
  for (const [i, t] of (input.tags ?? []).entries()) {
    const n = typeof t === 'string' ? normaliseTag(t) : null;
    if (n === null) problem('E_TAG', 'tags are 1-64 letters, digits, "_", "-", ":" or "."', `/tags/${i}`, t);
    else if (!tags.includes(n)) tags.push(n);
  }
  const attributes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input.attributes ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(k) || RESERVED_ATTRIBUTES.has(k)) {
      problem('E_ATTRIBUTE', `attribute name "${k.slice(0, 64)}" is not allowed (letters, digits and "_", max 64; not __proto__, constructor or prototype)`, `/attributes/${escapePointer(k)}`, v);
    } else attributes[k] = v;
  }
  if (rejection) return { ok: false, error: rejection };
  const consent: PreparedContact['consent'] = {};
  for (const [ch, st] of Object.entries(input.consent ?? {})) {
    if (!(CHANNELS as readonly string[]).includes(ch)) return err('E_CONSENT_CHANNEL', `unknown consent channel "${ch}"`, `/consent/${escapePointer(ch)}`);
    if (st !== 'subscribed' && st !== 'unsubscribed' && st !== 'pending') return err('E_CONSENT_STATUS', 'consent is subscribed, unsubscribed or pending', `/consent/${ch}`);
    consent[ch as Channel] = st;
  }
  const cc = input.consentContext ?? {};
  return {
    ok: true,
    warnings,
    contact: {
      email, externalId, phone, fields, tags, attributes, consent,
      consentContext: { wording: clean(cc.wording), ip: clean(cc.ip), userAgent: clean(cc.userAgent) },
    },
  };
}
