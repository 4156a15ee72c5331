import { parseEmail } from '../../../lib/email-address';
import { parsePhone, protectPhone, revealPhone } from '../../../lib/phone';
import { encrypt, decrypt, keyedHash, parseKey, safeEqual } from '../../../lib/crypto';
import { parseBirthday, prepareContact } from '../../../data/contact-input';
import { emptyContact, planMerge } from '../../../data/contact-merge';
import { Types } from 'mongoose';

const keys = { secret: 's', phoneKey: '00'.repeat(32) };

describe('email addresses', () => {
  it('keys addresses that differ in case or IDN form the same, and keeps the address as entered', () => {
    const a = parseEmail(' Ana@Müller.DE ');
    const b = parseEmail('ana@xn--mller-kva.de');
    expect(a.ok && b.ok && a.email.key === b.email.key).toBe(true);
    expect(a.ok && a.email.address).toBe('Ana@Müller.DE');
  });
  it.each([
    ['', 'E_EMAIL_EMPTY'], ['plain', 'E_EMAIL_SYNTAX'], ['a@b', 'E_EMAIL_SYNTAX'], ['Ana <a@b.com>', 'E_EMAIL_SYNTAX'],
    [`${'a'.repeat(65)}@x.com`, 'E_EMAIL_LOCAL_TOO_LONG'], [`${'a'.repeat(10)}@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.com`, 'E_EMAIL_TOO_LONG'],
    ['"a b"@x.com', 'E_EMAIL_UNSUPPORTED'], ['a@[192.0.2.1]', 'E_EMAIL_UNSUPPORTED'],
  ])('rejects %j with %s', (raw, code) => {
    const r = parseEmail(raw);
    expect(r.ok ? 'ok' : r.code).toBe(code);
  });
  it('flags role, disposable and provider-alias addresses without rewriting them', () => {
    const r = parseEmail('A.n.a+news@GoogleMail.com');
    expect(r.ok && r.email).toMatchObject({ address: 'A.n.a+news@GoogleMail.com', aliasKey: 'ana@gmail.com', flags: { alias: true } });
    expect(parseEmail('sales@x.com').ok && (parseEmail('sales@x.com') as { email: { flags: { role: boolean } } }).email.flags.role).toBe(true);
    expect((parseEmail('x@mailinator.com') as { email: { flags: { disposable: boolean } } }).email.flags.disposable).toBe(true);
  });
});

describe('phone numbers', () => {
  it('reads national numbers with a country and tells mobile from landline', () => {
    expect(parsePhone('138 0013 8000', 'CN')).toEqual({ ok: true, phone: { e164: '+8613800138000', country: 'CN', type: 'mobile' } });
    expect(parsePhone('020 7946 0958', 'GB')).toMatchObject({ ok: true, phone: { type: 'landline' } });
    expect(parsePhone('+86 12')).toMatchObject({ ok: false, code: 'E_PHONE_INVALID' });
  });
  it('encrypts with AES-256-GCM (tamper-evident) and indexes with a keyed hash', () => {
    const stored = protectPhone(keys, { e164: '+8613800138000', country: 'CN', type: 'mobile' }, 'api', new Date(), 'contact-a');
    expect(stored.enc).not.toContain('13800138000');
    expect(revealPhone(keys, stored, 'contact-a')).toBe('+8613800138000');
    // Bound to its contact: the same ciphertext moved to another contact does not decrypt.
    expect(() => revealPhone(keys, stored, 'contact-b')).toThrow();
    expect(stored.index).toBe(keyedHash('s', 'phone', '+8613800138000'));
    const k = parseKey(keys.phoneKey);
    const c = encrypt(k, 'x', 'aad');
    expect(() => decrypt(k, c, 'other')).toThrow();
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
  });
});

describe('contact input and merge rules', () => {
  it('accepts birthdays with or without a year and rejects impossible dates', () => {
    expect(parseBirthday('02-29')).toEqual({ month: 2, day: 29 });
    expect(parseBirthday('1990-02-29')).toBeNull();
    expect(parseBirthday('1990-05-17')).toEqual({ month: 5, day: 17, year: 1990 });
  });
  it('never lets an upsert undo an unsubscribe', () => {
    const doc = emptyContact(new Types.ObjectId(), new Date(), 'api');
    doc.consent.email = { status: 'unsubscribed', recordId: 'r', at: new Date() };
    const p = prepareContact({ email: 'a@x.com', consent: { email: 'subscribed' } });
    const plan = planMerge(doc, (p as unknown as { contact: never }).contact, { keys, now: new Date(), source: 'import' });
    expect(plan.set['consent.email']).toBeUndefined();
    expect(plan.ignored[0].code).toBe('E_CONSENT_LOCKED');
  });
});
