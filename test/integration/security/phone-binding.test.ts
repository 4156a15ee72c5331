/**
 * Phone ciphertexts are bound to their contact (AES-GCM associated data): a ciphertext copied onto
 * another contact does not decrypt, and the migration rebinds rows written before, idempotently.
 */
import { useContactsDatabase, TEST_KEYS } from '../contacts/setup';
import { ContactModel } from '../../../data/contact-model';
import { bindPhoneCiphertexts } from '../../../data/phone-aad-migration';
import { encrypt, parseKey } from '../../../lib/crypto';
import { isBoundPhone } from '../../../lib/phone';

describe('phone ciphertexts bound to the contact', () => {
  const { contacts } = useContactsDatabase('phonebind');

  it('refuses a ciphertext moved to another contact, and migrates legacy rows once', async () => {
    const a = await contacts.upsertContact({ email: 'pa@example.com', phone: '+86 138 0013 8000' }, { source: 'api' });
    const b = await contacts.upsertContact({ email: 'pb@example.com', phone: '+86 139 0013 9000' }, { source: 'api' });
    const ida = String(a.contact._id);
    const idb = String(b.contact._id);
    const docA = await ContactModel.findById(ida).lean();
    expect(isBoundPhone(docA!.phones[0])).toBe(true);
    expect(await contacts.revealPhones(ida, 'test', 'check')).toEqual(['+8613800138000']);

    // Moving A's ciphertext onto B: B's phone no longer decrypts (it would have, with a constant AAD).
    const docB = await ContactModel.findById(idb).lean();
    await ContactModel.updateOne({ _id: idb }, { $set: { phones: [{ ...docB!.phones[0], enc: docA!.phones[0].enc }] } });
    await expect(contacts.revealPhones(idb, 'test', 'swap')).rejects.toThrow();
    await ContactModel.updateOne({ _id: idb }, { $set: { phones: docB!.phones } });

    // Rows as the previous version wrote them: constant associated data, no prefix.
    const legacy = (e164: string) => encrypt(parseKey(TEST_KEYS.phoneKey), e164, 'contact.phone');
    await ContactModel.updateOne({ _id: ida }, { $set: { 'phones.0.enc': legacy('+8613800138000') } });
    await ContactModel.updateOne({ _id: idb }, { $set: { 'phones.0.enc': legacy('+8613900139000') } });
    expect(await contacts.revealPhones(ida, 'test', 'legacy read')).toEqual(['+8613800138000']);

    const first = await bindPhoneCiphertexts(TEST_KEYS);
    expect(first).toMatchObject({ rewritten: 2, phones: 2, skipped: 0 });
    const second = await bindPhoneCiphertexts(TEST_KEYS);
    expect(second).toMatchObject({ rewritten: 0, phones: 0, skipped: 0 });
    console.log(`phone migration: first run ${JSON.stringify(first)}, second run ${JSON.stringify(second)}`);
    expect(await contacts.revealPhones(ida, 'test', 'after')).toEqual(['+8613800138000']);
    expect(await contacts.revealPhones(idb, 'test', 'after')).toEqual(['+8613900139000']);
    const migratedA = await ContactModel.findById(ida).lean();
    expect(isBoundPhone(migratedA!.phones[0])).toBe(true);
    await ContactModel.updateOne({ _id: idb }, { $set: { 'phones.0.enc': migratedA!.phones[0].enc } });
    await expect(contacts.revealPhones(idb, 'test', 'swap after migration')).rejects.toThrow();
  });
});
