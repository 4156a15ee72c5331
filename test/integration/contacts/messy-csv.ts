/**
 * A messy contacts CSV (the kind a CRM or spreadsheet export produces) and the exact import summaries
 * it must produce, lenient and strict, computed from the generator's own bookkeeping and never from
 * the importer: every row is generated as one kind (new, duplicate in another case/IDN form, update of
 * a pre-existing contact, unchanged pre-existing contact, bad address) and every secondary cell is
 * drawn from a pool whose verdict is written next to it: fine, read (a city or offset for a zone, an
 * explicit-order date), guessed (a warning, the field set) or dropped (a warning, the field unset) in
 * lenient mode, and accepted or rejected with a given code in strict mode (the rules before warnings).
 */
export interface ExpectedSummary {
  rows: number; created: number; updated: number; unchanged: number; duplicates: number; rejected: number;
  rejectedByReason: Record<string, number>;
  withWarnings: number;
  warnings: Record<string, Record<string, number>>;
}

export interface MessyCsv {
  csv: string;
  header: string[];
  /** Contacts that must exist before the import (email, firstName). */
  seed: { email: string; firstName: string }[];
  lenient: ExpectedSummary;
  strict: ExpectedSummary;
  /** Distinct dedupe keys of the rows with a valid address (lower-cased local part, ASCII domain). */
  validKeys: Set<string>;
  /** Keys the lenient import creates (valid keys that were not seeded). */
  createdKeys: Set<string>;
  /** Row number (header = 1) -> what to write in each bad cell to fix it, by column. */
  fixes: Map<number, Record<string, string>>;
  /** Formula-like first names the file holds (stored as written, escaped in the report). */
  formulaNames: string[];
}

/** Small deterministic PRNG (mulberry32) so a failing run can be reproduced from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Domains with the spelling the generator writes and its ASCII dedupe form.
const DOMAINS: [string, string][] = [
  ['example.com', 'example.com'], ['mail.example.org', 'mail.example.org'], ['müller.de', 'xn--mller-kva.de'],
  ['例子.广告', 'xn--fsqu00a.xn--4rr70v'], ['shop.example.cn', 'shop.example.cn'],
];
const BAD_EMAILS: [string, string][] = [
  ['not-an-address.example.com', 'E_EMAIL_SYNTAX'], ['someone@localhost', 'E_EMAIL_SYNTAX'], ['two@@example.com', 'E_EMAIL_SYNTAX'],
  ['Name <name@example.com>', 'E_EMAIL_SYNTAX'], [`${'x'.repeat(65)}@example.com`, 'E_EMAIL_LOCAL_TOO_LONG'], ['', 'E_EMAIL_EMPTY'],
  ['"quoted local"@example.com', 'E_EMAIL_UNSUPPORTED'], ['user@[192.0.2.1]', 'E_EMAIL_UNSUPPORTED'],
];

/** A cell value with its verdicts: lenient (null = fine or read, no warning) and strict (null = accepted). */
interface Cell { value: string; country?: string; warn: string | null; strict: string | null }
const ok = (value: string, country = ''): Cell => ({ value, country, warn: null, strict: null });

// Read with --default-region CN in both modes (an explicit option), so only the junk is a problem.
const PHONES: Cell[] = [ok('+86 138 0013 8000'), ok('+44 20 7946 0958'), ok('+1 202 555 0143'), ok('(010) 6552 9988', 'CN'), ok('138 0013 8001'), ok(''), ok('')];
const BAD_PHONES: Cell[] = [
  { value: 'n/a', warn: 'E_PHONE_SYNTAX', strict: 'E_PHONE_SYNTAX' },
  { value: '12', warn: 'E_PHONE_INVALID', strict: 'E_PHONE_INVALID' },
  { value: 'call me', warn: 'E_PHONE_SYNTAX', strict: 'E_PHONE_SYNTAX' },
  { value: '+1 555 0100', warn: 'E_PHONE_INVALID', strict: 'E_PHONE_INVALID' },
];
// Read with --date-order dmy in both modes; month names and ISO timestamps only in lenient mode.
const BIRTHDAYS: Cell[] = [
  ok('1990-05-17'), ok('02-29'), ok('--12-24'), ok('1988-02-29'), ok(''), ok(''), ok('17/05/1990'), ok('29/02'),
  { value: '17 May 1990', warn: null, strict: 'E_BIRTHDAY' },
  { value: '1985-07-04T00:00:00Z', warn: null, strict: 'E_BIRTHDAY' },
];
const BAD_BIRTHDAYS: Cell[] = [
  { value: 'yesterday', warn: 'E_BIRTHDAY', strict: 'E_BIRTHDAY' },
  { value: '31/04', warn: 'E_BIRTHDAY', strict: 'E_BIRTHDAY' },
  { value: '1990-02-30', warn: 'E_BIRTHDAY', strict: 'E_BIRTHDAY' },
  { value: '2099-01-01', warn: 'E_BIRTHDAY', strict: 'E_BIRTHDAY' },
];
// Strict mode takes IANA names only (as before); lenient reads what people write.
const ZONES: Cell[] = [
  ok('Asia/Shanghai'), ok('Europe/Berlin'), ok(''), ok(''), ok(''),
  { value: 'Shanghai', warn: null, strict: 'E_TIMEZONE' },
  { value: 'GMT+8', warn: null, strict: 'E_TIMEZONE' },
  { value: 'asia/tokyo', warn: null, strict: null },
];
const BAD_ZONES: Cell[] = [
  { value: 'EST', warn: 'W_TIMEZONE_GUESSED', strict: 'E_TIMEZONE' },
  { value: 'Mars/Olympus', warn: 'E_TIMEZONE', strict: 'E_TIMEZONE' },
  { value: 'CST', warn: 'E_TIMEZONE_AMBIGUOUS', strict: 'E_TIMEZONE' },
];
const FORMULA_NAMES = ['=HYPERLINK("http://example.com","click")', '+SUM(1,2)', '@cmd', '-2+3'];
/** Good values written into bad cells when the report is "fixed" by hand. */
const FIX: Record<string, string> = { Phone: '+86 139 0000 0001', Birthday: '1991-01-02', 'Time Zone': 'Asia/Singapore' };

const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

function mixCase(s: string, rnd: () => number): string {
  return [...s].map((ch) => (rnd() < 0.5 ? ch.toUpperCase() : ch.toLowerCase())).join('');
}

interface RowPlan {
  key: string | null;
  emailCode: string | null;
  /** Lenient warnings: field -> code. */
  warnings: [string, string][];
  /** First strict rejection in the importer's check order (phone, names, locale, zone, birthday). */
  strictCode: string | null;
  pre: 'update' | 'same' | null;
}

function summarise(rows: RowPlan[], strict: boolean, seeded: Set<string>): ExpectedSummary {
  const s: ExpectedSummary = { rows: rows.length, created: 0, updated: 0, unchanged: 0, duplicates: 0, rejected: 0, rejectedByReason: {}, withWarnings: 0, warnings: {} };
  const seen = new Set<string>();
  const reject = (code: string) => {
    s.rejected++;
    s.rejectedByReason[code] = (s.rejectedByReason[code] ?? 0) + 1;
  };
  for (const r of rows) {
    if (r.emailCode) reject(r.emailCode);
    else if (strict && r.strictCode) reject(r.strictCode);
    else {
      const key = r.key!;
      if (seen.has(key)) s.duplicates++;
      else if (seeded.has(key)) s[r.pre === 'update' ? 'updated' : 'unchanged']++;
      else s.created++;
      seen.add(key);
      if (!strict && r.warnings.length) {
        s.withWarnings++;
        for (const [field, code] of r.warnings) (s.warnings[field] ??= {})[code] = (s.warnings[field]?.[code] ?? 0) + 1;
      }
    }
  }
  return s;
}

export function generateMessyCsv(rows: number, seed = 20260301): MessyCsv {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  const header = ['Email', 'First Name', 'Last Name', 'Phone', 'Phone Country', 'Birthday', 'Time Zone', 'Tags', 'Consent_Email'];
  const lines = [header.join(',')];
  const seedContacts: MessyCsv['seed'] = [];
  const seeded = new Set<string>();
  const validSpellings: { local: string; domain: [string, string] }[] = [];
  const plans: RowPlan[] = [];
  const fixes = new Map<number, Record<string, string>>();
  const formulaNames: string[] = [];
  // Pre-existing contacts: half get an update in the file, half appear unchanged.
  const preUpdate: { local: string; domain: [string, string]; firstName: string }[] = [];
  const preSame: { local: string; domain: [string, string]; firstName: string }[] = [];
  for (let i = 0; i < Math.max(2, Math.floor(rows / 50)); i++) {
    const c = { local: `existing${i}`, domain: DOMAINS[i % DOMAINS.length], firstName: `Old${i}` };
    seedContacts.push({ email: `${c.local}@${c.domain[0]}`, firstName: c.firstName });
    seeded.add(`${c.local}@${c.domain[1]}`);
    (i % 2 ? preSame : preUpdate).push(c);
  }
  const row = (cells: string[]) => lines.push(cells.map(csvCell).join(','));
  let n = 0;
  for (let i = 0; i < rows; i++) {
    const rowNo = i + 2;
    const r = rnd();
    if (r < 0.68 || validSpellings.length === 0) {
      // A new person; each secondary cell drawn from its pool (so some rows carry several problems).
      const local = `user${n++}`;
      const domain = pick(DOMAINS);
      // A few percent of each column is junk (a warning when lenient); the rest is written in many forms.
      const phone = rnd() < 0.005 ? pick(BAD_PHONES) : pick(PHONES);
      const birthday = rnd() < 0.005 ? pick(BAD_BIRTHDAYS) : pick(BIRTHDAYS);
      const zone = rnd() < 0.005 ? pick(BAD_ZONES) : pick(ZONES);
      const first = rnd() < 0.02 ? pick(FORMULA_NAMES) : `First${n}`;
      if (first !== `First${n}`) formulaNames.push(first);
      row([`${mixCase(local, rnd)}@${domain[0]}`, first, `Last${n}`, phone.value, phone.country ?? '', birthday.value, zone.value, rnd() < 0.3 ? 'newsletter;VIP' : '', pick(['yes', 'subscribed', '', 'no'])]);
      const warnings: [string, string][] = [];
      const fix: Record<string, string> = {};
      if (phone.warn) { warnings.push(['phone', phone.warn]); fix.Phone = FIX.Phone; }
      if (zone.warn) { warnings.push(['timezone', zone.warn]); fix['Time Zone'] = FIX['Time Zone']; }
      if (birthday.warn) { warnings.push(['birthday', birthday.warn]); fix.Birthday = FIX.Birthday; }
      if (warnings.length) fixes.set(rowNo, fix);
      plans.push({ key: `${local}@${domain[1]}`, emailCode: null, warnings, strictCode: phone.strict ?? zone.strict ?? birthday.strict, pre: null });
      validSpellings.push({ local, domain });
    } else if (r < 0.83) {
      // The same address again, in another case and (for IDN domains) the other form of the domain.
      const s = pick(validSpellings);
      const domain = s.domain[0] !== s.domain[1] && rnd() < 0.5 ? s.domain[1].toUpperCase() : mixCase(s.domain[0], rnd);
      row([`  ${mixCase(s.local, rnd)}@${domain} `, '', '', '', '', '', '', 'duplicate-row', '']);
      plans.push({ key: `${s.local}@${s.domain[1]}`, emailCode: null, warnings: [], strictCode: null, pre: null });
    } else if (r < 0.88 && preUpdate.length + preSame.length > 0) {
      const usePre = rnd() < 0.5 && preUpdate.length ? preUpdate : preSame.length ? preSame : preUpdate;
      const c = usePre.pop()!;
      const changed = usePre === preUpdate;
      row([mixCase(`${c.local}@${c.domain[0]}`, rnd), changed ? `New${c.firstName}` : c.firstName, '', '', '', '', '', '', '']);
      plans.push({ key: `${c.local}@${c.domain[1]}`, emailCode: null, warnings: [], strictCode: null, pre: changed ? 'update' : 'same' });
      validSpellings.push({ local: c.local, domain: c.domain });
    } else if (r < 0.993) {
      const [email, code] = pick(BAD_EMAILS);
      row([email, 'Bad', 'Address', '', '', '', '', '', '']);
      plans.push({ key: null, emailCode: code, warnings: [], strictCode: null, pre: null });
      fixes.set(rowNo, { Email: `fixed${rowNo}@example.com` });
    } else {
      // Junk in a secondary column of an otherwise good row (the lines that strict mode rejected).
      const local = `extra${i}`;
      const phone = pick(BAD_PHONES);
      row([`${local}@example.com`, '', '', phone.value, '', '', '', '', '']);
      plans.push({ key: `${local}@example.com`, emailCode: null, warnings: [['phone', phone.warn!]], strictCode: phone.strict, pre: null });
      fixes.set(rowNo, { Phone: FIX.Phone });
      validSpellings.push({ local, domain: ['example.com', 'example.com'] });
    }
  }
  const validKeys = new Set(plans.filter((p) => p.key).map((p) => p.key!));
  return {
    csv: `${lines.join('\n')}\n`,
    header,
    seed: seedContacts,
    lenient: summarise(plans, false, seeded),
    strict: summarise(plans, true, seeded),
    validKeys,
    createdKeys: new Set([...validKeys].filter((k) => !seeded.has(k))),
    fixes,
    formulaNames,
  };
}
