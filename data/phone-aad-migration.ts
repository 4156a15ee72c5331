/**
 * Migration: binds every stored phone ciphertext to its contact (AES-GCM associated data, lib/phone.ts).
 * Rows written before the binding used a constant associated data, so a ciphertext could be copied
 * from one contact to another and still decrypt. Run once after upgrading (`sojourn migrate phones`);
 * idempotent: bound rows are left as they are, and a second run rewrites nothing. Each contact is
 * rewritten with a compare-and-set on its `rev`, so a concurrent change is never overwritten (that
 * contact is counted as `skipped` and a later run picks it up).
 */
import { ContactModel, type ContactDoc } from './contact-model';
import { bindPhone, isBoundPhone, type PhoneKeys } from '../lib/phone';

export interface PhoneMigrationResult { scanned: number; rewritten: number; phones: number; skipped: number }

export async function bindPhoneCiphertexts(keys: PhoneKeys, opts: { batchSize?: number } = {}): Promise<PhoneMigrationResult> {
  const result: PhoneMigrationResult = { scanned: 0, rewritten: 0, phones: 0, skipped: 0 };
  const cursor = ContactModel.find({ 'phones.0': { $exists: true } }, { phones: 1, rev: 1 }).sort({ _id: 1 }).lean<Pick<ContactDoc, '_id' | 'phones' | 'rev'>[]>().cursor({ batchSize: opts.batchSize ?? 500 });
  for await (const doc of cursor as AsyncIterable<Pick<ContactDoc, '_id' | 'phones' | 'rev'>>) {
    result.scanned++;
    const legacy = doc.phones.filter((p) => !isBoundPhone(p)).length;
    if (legacy === 0) continue;
    const phones = doc.phones.map((p) => bindPhone(keys, p, String(doc._id)));
    const r = await ContactModel.updateOne({ _id: doc._id, rev: doc.rev }, { $set: { phones } }).exec();
    if (r.modifiedCount === 1) {
      result.rewritten++;
      result.phones += legacy;
    } else result.skipped++;
  }
  return result;
}
