/**
 * Contact input from the edges (HTTP API, CSV import): checked and normalised in one place, before
 * anything is written. Returns data, not exceptions: `{ ok: false, error }` names the field (as a JSON
 * pointer) and a stable code, so the API and the import report the same reasons.
 */
import { parseEmail, type EmailInfo } from '../lib/email-address';
import { isTimeZone } from '../rules/duration';
import { parsePhone, type PhoneInfo } from '../lib/phone';
import { CHANNELS, type Channel } from './contact-model';

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
    firstName: string; lastName: string; locale: string; timezone: string; channel: string;
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

export type PrepareResult = { ok: true; contact: PreparedContact } | { ok: false; error: InputError };

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Reads a birthday; year optional; 29 February allowed without a year or in a leap year. */
export function parseBirthday(v: ContactInput['birthday']): { month: number; day: number; year?: number } | null {
  let month: number, day: number, year: number | undefined;
  if (typeof v === 'string') {
    const s = v.trim();
    let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
    if (m) [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
    else if ((m = /^(?:--)?(\d{2})-(\d{2})$/.exec(s))) [month, day] = [Number(m[1]), Number(m[2])];
    else return null;
  } else if (v && typeof v === 'object') {
    ({ month, day } = v);
    year = v.year ?? undefined;
  } else return null;
  if (!Number.isInteger(month) || !Number.isInteger(day) || month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]) return null;
  if (year !== undefined) {
    const thisYear = new Date().getUTCFullYear();
    if (!Number.isInteger(year) || year < 1900 || year > thisYear) return null;
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    if (month === 2 && day === 29 && !leap) return null;
  }
  return year === undefined ? { month, day } : { month, day, year };
}

/** An IANA zone name such as Asia/Shanghai (or UTC); abbreviations like EST are refused for contacts. */
export function isValidTimeZone(tz: string): boolean {
  return isTimeZone(tz) && (tz.includes('/') || tz === 'UTC');
}

export function isValidLocale(locale: string): boolean {
  if (locale.length > 35) return false; // BCP 47 tags in use are short; Intl is slow to reject huge strings.
  try {
    return Intl.getCanonicalLocales(locale).length === 1;
  } catch {
    return false;
  }
}

/** Tags are lower-case, trimmed, 1-64 characters of letters, digits, "_", "-", ":" or ".". */
export function normaliseTag(tag: string): string | null {
  const t = tag.trim().toLowerCase();
  return /^[\p{L}\p{N}_\-:.]{1,64}$/u.test(t) ? t : null;
}

const clean = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** Checks and normalises one contact input. `requireEmail` is set by the CSV import (its dedupe key). */
export function prepareContact(input: ContactInput, opts: { requireEmail?: boolean } = {}): PrepareResult {
  const err = (code: string, message: string, pointer: string): PrepareResult => ({ ok: false, error: { code, message, pointer } });
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
  if (clean(input.phone) !== null) {
    const r = parsePhone(input.phone, clean(input.phoneCountry));
    if (!r.ok) return err(r.code, r.message, r.code === 'E_PHONE_COUNTRY' ? '/phoneCountry' : '/phone');
    phone = r.phone;
  }

  const fields: PreparedContact['fields'] = {};
  for (const k of ['firstName', 'lastName', 'channel'] as const) {
    const v = clean(input[k]);
    if (v !== null) {
      if (v.length > 200) return err('E_FIELD_TOO_LONG', `${k} is longer than 200 characters`, `/${k}`);
      fields[k] = v;
    }
  }
  const locale = clean(input.locale);
  if (locale !== null) {
    if (!isValidLocale(locale)) return err('E_LOCALE', `"${locale}" is not a BCP 47 locale`, '/locale');
    fields.locale = Intl.getCanonicalLocales(locale)[0];
  }
  const timezone = clean(input.timezone);
  if (timezone !== null) {
    if (!isValidTimeZone(timezone)) return err('E_TIMEZONE', `"${timezone}" is not an IANA time zone`, '/timezone');
    fields.timezone = timezone;
  }
  if (input.birthday !== undefined && input.birthday !== null && input.birthday !== '') {
    const b = parseBirthday(input.birthday);
    if (!b) return err('E_BIRTHDAY', 'birthday must be YYYY-MM-DD or MM-DD and a real date', '/birthday');
    fields.birthday = b;
    fields.birthdayMonthDay = `${String(b.month).padStart(2, '0')}-${String(b.day).padStart(2, '0')}`;
  }

  const tags: string[] = [];
  for (const [i, t] of (input.tags ?? []).entries()) {
    const n = typeof t === 'string' ? normaliseTag(t) : null;
    if (n === null) return err('E_TAG', 'tags are 1-64 letters, digits, "_", "-", ":" or "."', `/tags/${i}`);
    if (!tags.includes(n)) tags.push(n);
  }
  const attributes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input.attributes ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(k)) return err('E_ATTRIBUTE', 'attribute names are letters, digits and "_" (max 64)', `/attributes/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    attributes[k] = v;
  }
  const consent: PreparedContact['consent'] = {};
  for (const [ch, st] of Object.entries(input.consent ?? {})) {
    if (!(CHANNELS as readonly string[]).includes(ch)) return err('E_CONSENT_CHANNEL', `unknown consent channel "${ch}"`, `/consent/${ch}`);
    if (st !== 'subscribed' && st !== 'unsubscribed' && st !== 'pending') return err('E_CONSENT_STATUS', 'consent is subscribed, unsubscribed or pending', `/consent/${ch}`);
    consent[ch as Channel] = st;
  }
  const cc = input.consentContext ?? {};
  return {
    ok: true,
    contact: {
      email, externalId, phone, fields, tags, attributes, consent,
      consentContext: { wording: clean(cc.wording), ip: clean(cc.ip), userAgent: clean(cc.userAgent) },
    },
  };
}
