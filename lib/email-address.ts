/**
 * Email addresses: checked, keyed for dedupe, flagged, never rewritten.
 *
 * The address is stored exactly as entered (trimmed of surrounding white space only). Dedupe uses
 * `emailKey`: the local part lower-cased and the domain lower-cased and converted to ASCII (IDN
 * punycode, UTS #46 via node:url domainToASCII). Lower-casing the local part is a deliberate choice:
 * RFC 5321 allows case-sensitive local parts, but every large provider treats them case-insensitively
 * and two contacts "Ana@x" and "ana@x" are, in practice, one person. We never send to the key, only to
 * the address as entered.
 *
 * Provider aliases (Gmail ignores dots and "+tag") are reported as `aliasKey` but not merged: a
 * "+tag" address is often a deliberate, separate subscription.
 */
import { domainToASCII } from 'node:url';
import emailAddresses from 'email-addresses';
import disposableDomains from 'disposable-email-domains/index.json';

export type EmailErrorCode =
  | 'E_EMAIL_EMPTY'
  | 'E_EMAIL_SYNTAX'
  | 'E_EMAIL_TOO_LONG'
  | 'E_EMAIL_LOCAL_TOO_LONG'
  | 'E_EMAIL_DOMAIN_TOO_LONG'
  | 'E_EMAIL_DOMAIN'
  | 'E_EMAIL_UNSUPPORTED';

export interface EmailInfo {
  /** As entered, minus surrounding white space. */
  address: string;
  /** Dedupe key: lower-case local part + "@" + lower-case ASCII domain. */
  key: string;
  local: string;
  /** Lower-case ASCII (punycode) domain. */
  domain: string;
  /** Provider-alias key when the provider ignores dots / "+tag" (Gmail); otherwise equal to `key`. */
  aliasKey: string;
  flags: { role: boolean; disposable: boolean; alias: boolean; idn: boolean };
}

export type EmailResult = { ok: true; email: EmailInfo } | { ok: false; code: EmailErrorCode; message: string };

/** Role mailboxes: addresses of a function, not a person (RFC 2142 and common practice). */
export const ROLE_LOCAL_PARTS: ReadonlySet<string> = new Set([
  'abuse', 'admin', 'administrator', 'billing', 'contact', 'customerservice', 'enquiries', 'events', 'feedback',
  'finance', 'help', 'hello', 'hostmaster', 'hr', 'info', 'inquiries', 'it', 'jobs', 'legal', 'mail', 'mailer-daemon',
  'marketing', 'media', 'news', 'newsletter', 'no-reply', 'noc', 'noreply', 'office', 'orders', 'postmaster',
  'press', 'privacy', 'sales', 'security', 'service', 'shop', 'support', 'team', 'webmaster',
]);

const DISPOSABLE: ReadonlySet<string> = new Set(disposableDomains as string[]);
const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com']);

// RFC 5321 4.5.3.1: local part 64 octets, domain 255 octets, path 256 octets including "<>" -> 254 for the address.
const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;
const MAX_TOTAL = 254;

function fail(code: EmailErrorCode, message: string): EmailResult {
  return { ok: false, code, message };
}

function isDisposable(domain: string): boolean {
  // The list holds registrable domains; also match their subdomains.
  const labels = domain.split('.');
  for (let i = 0; i < labels.length - 1; i++) if (DISPOSABLE.has(labels.slice(i).join('.'))) return true;
  return false;
}

const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * RFC 1035/1123 host-name rules on the ASCII (punycode) form of a domain, after UTS #46 mapping by
 * node:url `domainToASCII` (which validates the IDN labels): letters, digits and hyphens only, no
 * leading or trailing hyphen, no underscore, 1-63 characters per label, and a top-level label that
 * is not all digits. Returns what is wrong, or null.
 */
export function domainLabelProblem(asciiDomain: string): string | null {
  const labels = asciiDomain.split('.');
  for (const l of labels) {
    if (l === '') return 'an empty label (two dots, or a dot at the end)';
    if (l.length > 63) return `the label "${l.slice(0, 20)}..." is longer than 63 characters`;
    if (l.includes('_')) return `the label "${l}" contains "_"`;
    if (l.startsWith('-') || l.endsWith('-')) return `the label "${l}" starts or ends with "-"`;
    if (!LDH_LABEL.test(l)) return `the label "${l}" has characters other than letters, digits and "-"`;
    if (/^..--/.test(l) && !l.startsWith('xn--')) return `the label "${l}" has "--" in positions 3-4, reserved for IDN (RFC 5891)`;
  }
  if (/^\d+$/.test(labels[labels.length - 1])) return 'the top-level label is all digits';
  return null;
}

/**
 * A plain ASCII address: a dot-atom local part (RFC 5322 atext) and a domain of letters, digits and
 * hyphens with at least one dot. Nearly every real address is one; for these the RFC 5322 parser
 * returns the two halves unchanged, so they skip it (it was a third of an import's CPU time). A
 * property test checks that both ways give the same result.
 */
const PLAIN_ADDRESS = /^([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)$/;

/** Checks an address and computes its keys and flags. Never throws; the error says what is wrong. */
export function parseEmail(raw: unknown): EmailResult {
  return parseAddress(raw, true);
}

/** parseEmail without the fast path for plain addresses (for the test that compares the two). */
export function parseEmailThroughParser(raw: unknown): EmailResult {
  return parseAddress(raw, false);
}

function parseAddress(raw: unknown, fastPath: boolean): EmailResult {
  if (typeof raw !== 'string' || raw.trim() === '') return fail('E_EMAIL_EMPTY', 'email address is empty');
  const address = raw.trim();
  if (Buffer.byteLength(address, 'utf8') > MAX_TOTAL * 4) return fail('E_EMAIL_TOO_LONG', `email address is longer than ${MAX_TOTAL} characters`);
  const plain = fastPath ? PLAIN_ADDRESS.exec(address) : null;
  let parsed: { local: string; domain: string };
  if (plain) parsed = { local: plain[1], domain: plain[2] };
  else {
    const full = emailAddresses.parseOneAddress({ input: address, rfc6532: true, rejectTLD: true });
    if (!full || full.type !== 'mailbox') return fail('E_EMAIL_SYNTAX', 'not a valid email address');
    // Only a bare addr-spec: no display name, no comments, no quoted local part, no address literal.
    if (full.name === null && full.parts.local.tokens.trim().startsWith('"')) {
      return fail('E_EMAIL_UNSUPPORTED', 'quoted local parts are not accepted');
    }
    if (full.name !== null || full.parts.comments.length > 0 || full.address !== address) {
      return fail('E_EMAIL_SYNTAX', 'expected a bare address like name@example.com (no display name or comments)');
    }
    if (full.domain.startsWith('[')) return fail('E_EMAIL_UNSUPPORTED', 'address literals like user@[192.0.2.1] are not accepted');
    parsed = full;
  }
  const domain = domainToASCII(parsed.domain.toLowerCase());
  if (!domain || !domain.includes('.')) return fail('E_EMAIL_DOMAIN', 'the domain is not a valid host name');
  const labelProblem = domainLabelProblem(domain);
  if (labelProblem) return fail('E_EMAIL_DOMAIN', `the domain is not a valid host name: ${labelProblem}`);
  const localBytes = Buffer.byteLength(parsed.local, 'utf8');
  if (localBytes > MAX_LOCAL) return fail('E_EMAIL_LOCAL_TOO_LONG', `the part before @ is longer than ${MAX_LOCAL} octets`);
  if (domain.length > MAX_DOMAIN) return fail('E_EMAIL_DOMAIN_TOO_LONG', `the domain is longer than ${MAX_DOMAIN} octets`);
  if (localBytes + 1 + domain.length > MAX_TOTAL) return fail('E_EMAIL_TOO_LONG', `email address is longer than ${MAX_TOTAL} octets`);

  const local = parsed.local.toLowerCase();
  const key = `${local}@${domain}`;
  let aliasKey = key;
  if (GMAIL_DOMAINS.has(domain)) aliasKey = `${local.split('+')[0].replace(/\./g, '')}@gmail.com`;
  else if (local.includes('+')) aliasKey = `${local.split('+')[0]}@${domain}`;
  return {
    ok: true,
    email: {
      address,
      key,
      local,
      domain,
      aliasKey,
      flags: {
        role: ROLE_LOCAL_PARTS.has(local.split('+')[0]),
        disposable: isDisposable(domain),
        alias: aliasKey !== key,
        idn: domain !== parsed.domain.toLowerCase(),
      },
    },
  };
}

/** The dedupe key of an address, or null when it is not valid. */
export function emailKey(raw: unknown): string | null {
  const r = parseEmail(raw);
  return r.ok ? r.email.key : null;
}
