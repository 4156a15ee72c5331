/**
 * A messy contacts CSV and the exact import summary it must produce, from the generator's own
 * bookkeeping: every row is generated as one kind (new, duplicate in another case/IDN form, update
 * of a pre-existing contact, unchanged pre-existing contact, or a specific defect with its code).
 */
export interface MessyCsv {
  csv: string;
  /** Contacts that must exist before the import (email, firstName). */
  seed: { email: string; firstName: string }[];
  expected: {
    rows: number; created: number; updated: number; unchanged: number; duplicates: number; rejected: number;
    rejectedByReason: Record<string, number>;
  };
  /** Distinct dedupe keys the import creates. */
  createdKeys: Set<string>;
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
const BAD_PHONES: [string, string][] = [['call me', 'E_PHONE_SYNTAX'], ['+86 12', 'E_PHONE_INVALID'], ['+1 555 0100', 'E_PHONE_INVALID'], ['+999 123456', 'E_PHONE_SYNTAX']];
const GOOD_PHONES = ['+86 138 0013 8000', '+44 20 7946 0958', '+1 202 555 0143', '(010) 6552 9988', ''];
const BAD_DATES = ['1990-02-30', '13/45/1990', '2099-01-01', '1985-13-01', 'yesterday'];
const GOOD_DATES = ['1990-05-17', '02-29', '--12-24', '1988-02-29', ''];

const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

function mixCase(s: string, rnd: () => number): string {
  return [...s].map((ch) => (rnd() < 0.5 ? ch.toUpperCase() : ch.toLowerCase())).join('');
}

export function generateMessyCsv(rows: number, seed = 20260301): MessyCsv {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  const lines = ['Email,First Name,Last Name,Phone,Phone Country,Birthday,Tags,Consent_Email'];
  const seed_: MessyCsv['seed'] = [];
  const expected = { rows, created: 0, updated: 0, unchanged: 0, duplicates: 0, rejected: 0, rejectedByReason: {} as Record<string, number> };
  const createdKeys = new Set<string>();
  const seenKeys = new Set<string>();
  const validSpellings: { local: string; domain: [string, string] }[] = [];
  // Pre-existing contacts: half get an update in the file, half appear unchanged.
  const preUpdate: { local: string; domain: [string, string]; firstName: string }[] = [];
  const preSame: { local: string; domain: [string, string]; firstName: string }[] = [];
  for (let i = 0; i < Math.max(2, Math.floor(rows / 50)); i++) {
    const c = { local: `existing${i}`, domain: DOMAINS[i % DOMAINS.length], firstName: `Old${i}` };
    seed_.push({ email: `${c.local}@${c.domain[0]}`, firstName: c.firstName });
    (i % 2 ? preSame : preUpdate).push(c);
  }
  const reject = (code: string) => {
    expected.rejected++;
    expected.rejectedByReason[code] = (expected.rejectedByReason[code] ?? 0) + 1;
  };
  const row = (email: string, first = '', last = '', phone = '', country = '', birthday = '', tags = '', consent = '') =>
    lines.push([email, first, last, phone, country, birthday, tags, consent].map(csvCell).join(','));
  let n = 0;
  for (let i = 0; i < rows; i++) {
    const r = rnd();
    if (r < 0.5 || validSpellings.length === 0) {
      const local = `user${n++}`;
      const domain = pick(DOMAINS);
      const key = `${local}@${domain[1]}`;
      const phone = pick(GOOD_PHONES);
      row(`${mixCase(local, rnd)}@${domain[0]}`, `First${n}`, `Last${n}`, phone, phone.startsWith('(') ? 'CN' : '', pick(GOOD_DATES), rnd() < 0.3 ? 'newsletter;VIP' : '', pick(['yes', 'subscribed', '', 'no']));
      validSpellings.push({ local, domain });
      createdKeys.add(key);
      seenKeys.add(key);
      expected.created++;
    } else if (r < 0.65) {
      // The same address again, in another case and (for IDN domains) the other form of the domain.
      const s = pick(validSpellings);
      const domain = s.domain[0] !== s.domain[1] && rnd() < 0.5 ? s.domain[1].toUpperCase() : mixCase(s.domain[0], rnd);
      row(`  ${mixCase(s.local, rnd)}@${domain} `, '', '', '', '', '', 'duplicate-row');
      expected.duplicates++;
    } else if (r < 0.7 && preUpdate.length + preSame.length > 0) {
      const usePre = rnd() < 0.5 && preUpdate.length ? preUpdate : preSame.length ? preSame : preUpdate;
      const c = usePre.pop()!;
      const key = `${c.local}@${c.domain[1]}`;
      const changed = usePre === preUpdate;
      row(mixCase(`${c.local}@${c.domain[0]}`, rnd), changed ? `New${c.firstName}` : c.firstName);
      if (seenKeys.has(key)) expected.duplicates++;
      else if (changed) expected.updated++;
      else expected.unchanged++;
      seenKeys.add(key);
      validSpellings.push({ local: c.local, domain: c.domain });
    } else if (r < 0.82) {
      const [email, code] = pick(BAD_EMAILS);
      row(email, 'Bad', 'Address');
      reject(code);
    } else if (r < 0.91) {
      const [phone, code] = pick(BAD_PHONES);
      row(`badphone${i}@example.com`, '', '', phone);
      reject(code);
    } else {
      row(`baddate${i}@example.com`, '', '', '', '', pick(BAD_DATES));
      reject('E_BIRTHDAY');
    }
  }
  return { csv: `${lines.join('\n')}\n`, seed: seed_, expected, createdKeys };
}
