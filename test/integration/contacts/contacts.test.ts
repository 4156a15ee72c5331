import mongoose from 'mongoose';
import { Readable } from 'node:stream';
import { useContactsDatabase, dumpAllCollections, TEST_KEYS } from './setup';
import { ContactModel } from '../../../data/contact-model';
import { ConsentRecordModel } from '../../../data/consent-model';
import { SuppressionModel } from '../../../data/suppression-model';
import { ContactEventModel } from '../../../data/contact-event-model';
import { AuditModel } from '../../../data/audit-model';
import { importContacts } from '../../../data/import';
import { keyedHash } from '../../../lib/crypto';

describe('contacts in the database', () => {
  const { contacts } = useContactsDatabase('contacts');

  it('merges addresses that differ only in case or IDN form into one contact, keeping the address as first entered', async () => {
    const a = await contacts.upsertContact({ email: 'Li.Wei@Müller.de', firstName: 'Wei' });
    const b = await contacts.upsertContact({ email: 'li.wei@XN--MLLER-KVA.DE', lastName: 'Li' });
    const c = await contacts.upsertContact({ email: '  LI.WEI@müller.DE ', tags: ['VIP'] });
    expect(a.created).toBe(true);
    expect(b).toMatchObject({ created: false, merged: true });
    expect(c).toMatchObject({ created: false, merged: true });
    expect(String(b.contact._id)).toBe(String(a.contact._id));
    expect(await ContactModel.countDocuments({ emailKey: 'li.wei@xn--mller-kva.de' })).toBe(1);
    const stored = await contacts.getContact(a.contact._id);
    expect(stored).toMatchObject({ email: 'Li.Wei@Müller.de', firstName: 'Wei', lastName: 'Li', tags: ['vip'], emailDomain: 'xn--mller-kva.de' });
  });

  it('keeps an unsubscribed contact unsubscribed after an API upsert and a CSV re-import that say subscribed', async () => {
    const { contact } = await contacts.upsertContact({ email: 'ana@example.com', consent: { email: 'subscribed' } });
    await contacts.applyContactUpdate(String(contact._id), { consent: { channel: 'email', status: 'unsubscribed' } }, { source: 'one_click' });
    const again = await contacts.upsertContact({ email: 'ANA@example.com', consent: { email: 'subscribed' } });
    expect(again.ignored.map((i) => i.code)).toEqual(['E_CONSENT_LOCKED']);
    const csv = 'email,consent_email,first_name\nana@EXAMPLE.com,yes,Ana\n';
    const summary = await importContacts(Readable.from([csv]), contacts);
    expect(summary).toMatchObject({ updated: 1, ignoredByReason: { E_CONSENT_LOCKED: 1 } });
    const stored = await contacts.getContact(contact._id);
    expect(stored!.consent.email.status).toBe('unsubscribed');
    expect(stored!.firstName).toBe('Ana');
    expect(await contacts.isSuppressed('ana@example.com')).toBe(true);
    // The consent history is append-only evidence: subscribed, then unsubscribed; the ignored attempts left no record.
    const records = await ConsentRecordModel.find({ contactId: String(contact._id) }).sort({ at: 1 }).lean();
    expect(records.map((r) => r.status)).toEqual(['subscribed', 'unsubscribed']);
    expect(stored!.consent.email.recordId).toBe(records[1].recordId);
  });

  it('lets only a confirmed re-opt-in lift an unsubscribe', async () => {
    const { contact } = await contacts.upsertContact({ email: 'bo@example.com', consent: { email: 'unsubscribed' } });
    const id = String(contact._id);
    expect((await contacts.applyContactUpdate(id, { consent: { channel: 'email', status: 'subscribed' } })).ignored).toHaveLength(1);
    await contacts.applyContactUpdate(id, { consent: { channel: 'email', status: 'subscribed' } }, { reconsent: true, source: 'double_opt_in' });
    expect((await contacts.getContact(id))!.consent.email.status).toBe('subscribed');
    expect(await contacts.isSuppressed('bo@example.com')).toBe(false);
  });

  it('stores no phone number in clear: the raw document has neither the E.164 form nor the national digits', async () => {
    const { contact } = await contacts.upsertContact({ email: 'phone@example.com', phone: '138 0013 8000', phoneCountry: 'CN' });
    const raw = await mongoose.connection.db!.collection('contacts').findOne({ _id: contact._id });
    const text = JSON.stringify(raw);
    expect(text).not.toContain('+8613800138000');
    expect(text).not.toContain('13800138000');
    expect(text).not.toContain('138 0013 8000');
    expect(raw!.phones[0]).toMatchObject({ type: 'mobile', country: 'CN' });
    expect(raw!.phoneIndex).toEqual([keyedHash(TEST_KEYS.secret, 'phone', '+8613800138000')]);
    // Found through the blind index, and revealed only with an audit record.
    expect(await ContactModel.countDocuments({ phoneIndex: keyedHash(TEST_KEYS.secret, 'phone', '+8613800138000') })).toBe(1);
    expect(await contacts.revealPhones(String(contact._id), 'support:alice', 'callback')).toEqual(['+8613800138000']);
    expect(await AuditModel.countDocuments({ action: 'phone.decrypt', contactId: String(contact._id) })).toBe(1);
  });

  it('erases a contact so no email or phone remains in any collection, yet the address stays blocked', async () => {
    const { contact } = await contacts.upsertContact({ email: 'Erase.Me@Example.org', phone: '+44 20 7946 0958', firstName: 'Zephyrine', consent: { email: 'subscribed' }, consentContext: { ip: '203.0.113.9' } });
    const id = String(contact._id);
    await contacts.recordEvent({ contactId: id, name: 'email.clicked', data: { url: 'https://shop.example/x' } });
    await contacts.exportContact(id, 'test');
    expect(await contacts.eraseContact(id, 'test')).toEqual({ erased: true, alreadyErased: false });

    const dump = (await dumpAllCollections()).toLowerCase();
    for (const pii of ['erase.me@example.org', 'erase.me', '+442079460958', '2079460958', '7946 0958', 'zephyrine', '203.0.113.9']) expect(dump).not.toContain(pii);
    expect(await contacts.isSuppressed('erase.me@example.org')).toBe(true);
    expect(await contacts.isSuppressed(id)).toBe(true);
    expect(await AuditModel.countDocuments({ action: 'contact.erase', contactId: id })).toBe(1);
    // An import or API upsert does not bring the address back.
    await expect(contacts.upsertContact({ email: 'ERASE.ME@example.org' })).rejects.toMatchObject({ code: 'E_ERASED' });
    const summary = await importContacts(Readable.from(['email\nerase.me@example.org\n']), contacts);
    expect(summary).toMatchObject({ created: 0, rejected: 1, rejectedByReason: { E_ERASED: 1 } });
    // Erasing again completes idempotently.
    expect(await contacts.eraseContact(id, 'test')).toEqual({ erased: true, alreadyErased: true });
  });

  it('stores and counts an event once per eventId, however often it is delivered', async () => {
    const { contact } = await contacts.upsertContact({ email: 'events@example.com' });
    const id = String(contact._id);
    const at = new Date('2026-03-01T10:00:00Z');
    const first = await contacts.recordEvent({ eventId: 'ord-1', contactId: id, name: 'order.completed', at, data: { amount: 42.5 } });
    const second = await contacts.recordEvent({ eventId: 'ord-1', contactId: id, name: 'order.completed', at, data: { amount: 42.5 } });
    await contacts.recordEvent({ eventId: 'open-1', contactId: id, name: 'email.opened', at, data: { machine: true } });
    await contacts.recordEvent({ eventId: 'open-2', contactId: id, name: 'email.opened', at });
    await contacts.recordEvent({ eventId: 'click-1', contactId: id, name: 'email.clicked', at, machine: true, data: { reasons: ['head_request'] } });
    expect([first.duplicate, second.duplicate]).toEqual([false, true]);
    expect(await contacts.findEvent('click-1')).toMatchObject({ _id: 'click-1', machine: true, name: 'email.clicked' });
    const stored = await contacts.getContact(id);
    expect(stored!.engagement).toMatchObject({ orders: 1, revenue: 42.5, opens: 1, clicks: 0, lastOrderAt: at, lastOpenAt: at });
    expect(stored!.lastActivityAt).toEqual(at);
    expect(await ContactEventModel.countDocuments({ contactId: id })).toBe(4);
  });

  it('classifies contacts with compiled rule sets and stores the value with its rule and reason', async () => {
    const { contact } = await contacts.upsertContact({ email: 'vip@example.com' });
    await contacts.recordEvent({ contactId: String(contact._id), name: 'order.completed', data: { amount: 5000 } });
    const ruleSet = {
      name: 'importance', field: 'importance', otherwise: 'normal',
      rules: [{ value: 'vip', when: { source: 'contact.engagement.revenue >= 1000.0' }, reason: 'spent 1000 or more' }],
    };
    const r = await contacts.classifyAll([ruleSet], { batchSize: 2 });
    expect(r.scanned).toBeGreaterThanOrEqual(1);
    const stored = await contacts.getContact(contact._id);
    expect(stored!.classification.importance).toMatchObject({ value: 'vip', rule: 'importance#0', reason: 'spent 1000 or more' });
    expect((await contacts.getContactView(String(contact._id)))!.importance).toBe('vip');
    expect((await contacts.classifyContact(String(contact._id), [ruleSet]))!.changed).toBe(false);
  });

  it('matches by externalId, follows an address change, and refuses to join two different contacts', async () => {
    const a = await contacts.upsertContact({ externalId: 'crm-1', email: 'old@example.com' });
    const moved = await contacts.upsertContact({ externalId: 'crm-1', email: 'New@Example.com' });
    expect(String(moved.contact._id)).toBe(String(a.contact._id));
    expect(moved.contact).toMatchObject({ email: 'New@Example.com', emailKey: 'new@example.com', emailStatus: 'unverified' });
    await contacts.upsertContact({ email: 'other@example.com' });
    await expect(contacts.upsertContact({ externalId: 'crm-1', email: 'other@example.com' })).rejects.toMatchObject({ code: 'E_CONTACT_CONFLICT' });
  });

  it('suppresses an unsubscribed contact for marketing mail only; bounces and erasure suppress everything', async () => {
    const { contact } = await contacts.upsertContact({ email: 'tx@example.com', consent: { email: 'unsubscribed' } });
    expect(await contacts.isSuppressed(String(contact._id))).toBe(true);
    expect(await contacts.isSuppressed(String(contact._id), { marketing: false })).toBe(false);
    await contacts.recordEvent({ contactId: String(contact._id), name: 'email.bounced', data: { type: 'hard' } });
    expect(await contacts.isSuppressed('tx@example.com', { marketing: false })).toBe(true);
  });

  it('merges duplicates that fall in different import windows and counts them as duplicates', async () => {
    const rows = ['email,first_name,tags'];
    for (let i = 0; i < 12; i++) rows.push(`win${i % 4}@Example.com,N${i},t${i}`);
    const summary = await importContacts(Readable.from([`${rows.join('\n')}\n`]), contacts, { batchSize: 5 });
    expect(summary).toMatchObject({ rows: 12, created: 4, duplicates: 8, rejected: 0 });
    const c = await contacts.findByEmail('WIN1@example.com');
    expect(c).toMatchObject({ firstName: 'N9', tags: ['t1', 't5', 't9'] });
  });

  describe('each unique index rejects duplicates on this database', () => {
    const cases: [string, () => Promise<unknown>][] = [
      ['contacts.emailKey', () => ContactModel.collection.insertMany([{ emailKey: 'dup@x.com' }, { emailKey: 'dup@x.com' }] as never[])],
      ['contacts.externalId', () => ContactModel.collection.insertMany([{ externalId: 'E1' }, { externalId: 'E1' }] as never[])],
      ['consent_records.recordId', () => ConsentRecordModel.collection.insertMany([{ recordId: 'r1' }, { recordId: 'r1' }] as never[])],
      ['suppressions._id (the address hash)', () => SuppressionModel.collection.insertMany([{ _id: 'k1', key: 'k1' }, { _id: 'k1', key: 'k1' }] as never[])],
      ['contact_events._id (the event id)', () => ContactEventModel.collection.insertMany([{ _id: 'e1' }, { _id: 'e1' }] as never[])],
    ];
    it.each(cases)('%s', async (_name, write) => {
      await expect(write()).rejects.toMatchObject({ code: 11000 });
    });
    it('lets many erased contacts (no emailKey, no externalId) coexist', async () => {
      await ContactModel.collection.insertMany([{ erasedAt: new Date() }, { erasedAt: new Date() }] as never[]);
    });
  });
});
