/**
 * Suppression list by address, for integrators (`/v1/suppressions`): add, remove, check. The address
 * is reduced to its dedupe key and stored only as the keyed hash (data/suppression-model.ts), so the
 * list holds no address and an entry survives erasure. Erasure entries can't be removed: they are what
 * keeps an erased person from being mailed or re-created.
 */
import { parseEmail } from '../lib/email-address';
import { SuppressionModel, type SuppressionReason } from './suppression-model';
import { ContactError, isDuplicateKeyError, type Contacts } from './contacts';

export interface SuppressionState { suppressed: boolean; reason: SuppressionReason | null; since: Date | null }

function keyOf(contacts: Pick<Contacts, 'suppressionKey'>, address: string): string {
  const r = parseEmail(address);
  if (!r.ok) throw new ContactError(r.code, r.message, '/email');
  return contacts.suppressionKey(r.email.key);
}

/** The entry for an address (a key lookup on the hash). */
export async function checkSuppression(contacts: Pick<Contacts, 'suppressionKey'>, address: string): Promise<SuppressionState> {
  const doc = await SuppressionModel.findOne({ key: keyOf(contacts, address) }).lean().exec();
  return doc ? { suppressed: true, reason: doc.reason, since: doc.createdAt } : { suppressed: false, reason: null, since: null };
}

/** Adds the address (upsert on the unique hash: the first reason stays). `created` false: it was already there. */
export async function addSuppression(contacts: Pick<Contacts, 'suppressionKey'>, address: string, reason: SuppressionReason = 'manual', now = new Date()): Promise<SuppressionState & { created: boolean }> {
  const key = keyOf(contacts, address);
  const r = await SuppressionModel.updateOne({ key }, { $setOnInsert: { key, reason, createdAt: now } }, { upsert: true }).catch((err: unknown) => {
    if (!isDuplicateKeyError(err)) throw err;
    return { upsertedCount: 0 };
  });
  return { ...(await checkSuppression(contacts, address)), created: r.upsertedCount === 1 };
}

/** Removes the address's entry unless it records an erasure. */
export async function removeSuppression(contacts: Pick<Contacts, 'suppressionKey'>, address: string): Promise<{ removed: boolean; reason: SuppressionReason | null }> {
  const key = keyOf(contacts, address);
  const doc = await SuppressionModel.findOne({ key }).lean().exec();
  if (!doc) return { removed: false, reason: null };
  if (doc.reason === 'erased') throw new ContactError('E_ERASED', 'this address belongs to an erased contact; its suppression stays', '/email', 409);
  await SuppressionModel.deleteOne({ key, reason: doc.reason });
  return { removed: true, reason: doc.reason };
}
