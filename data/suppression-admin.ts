/**
 * Suppression list by address, for integrators (`/v1/suppressions`): add, remove, check. The address
 * is reduced to its dedupe key and stored only as the keyed hash (data/suppression-model.ts: a block
 * under `_id` = hash, an unsubscribe under `${hash}:unsubscribed`), so every call is `_id` lookups and
 * the list holds no address. Erasure entries can't be removed: they are what keeps an erased person
 * from being mailed or re-created.
 */
import { parseEmail } from '../lib/email-address';
import { SuppressionModel, addSuppression as insertSuppression, suppressionId, type SuppressionDoc, type SuppressionReason } from './suppression-model';
import { ContactError, type Contacts } from './contacts';

export interface SuppressionState { suppressed: boolean; reason: SuppressionReason | null; since: Date | null }

function hashOf(contacts: Pick<Contacts, 'suppressionKey'>, address: string): string {
  const r = parseEmail(address);
  if (!r.ok) throw new ContactError(r.code, r.message, '/email');
  return contacts.suppressionKey(r.email.key);
}

const byId = (id: string) => SuppressionModel.findById(id).lean<SuppressionDoc>().exec();

async function stateOf(hash: string): Promise<SuppressionState> {
  const doc = (await byId(hash)) ?? (await byId(suppressionId(hash, 'unsubscribed')));
  return doc ? { suppressed: true, reason: doc.reason, since: doc.createdAt } : { suppressed: false, reason: null, since: null };
}

/** The entry for an address: a block first, else an unsubscribe. */
export async function checkSuppression(contacts: Pick<Contacts, 'suppressionKey'>, address: string): Promise<SuppressionState> {
  return stateOf(hashOf(contacts, address));
}

/** Adds the address (an insert keyed by `_id`: the first reason stays). `created` false: it was already there. */
export async function addSuppression(contacts: Pick<Contacts, 'suppressionKey'>, address: string, reason: SuppressionReason = 'manual', now = new Date()): Promise<SuppressionState & { created: boolean }> {
  const hash = hashOf(contacts, address);
  const before = await byId(suppressionId(hash, reason));
  await insertSuppression(hash, reason, now);
  return { ...(await stateOf(hash)), created: !before };
}

/** Removes the address's entries unless it records an erasure. */
export async function removeSuppression(contacts: Pick<Contacts, 'suppressionKey'>, address: string): Promise<{ removed: boolean; reason: SuppressionReason | null }> {
  const hash = hashOf(contacts, address);
  const block = await byId(hash);
  if (block?.reason === 'erased') throw new ContactError('E_ERASED', 'this address belongs to an erased contact; its suppression stays', '/email', 409);
  const unsub = await byId(suppressionId(hash, 'unsubscribed'));
  if (block) await SuppressionModel.deleteOne({ _id: hash, reason: block.reason });
  if (unsub) await SuppressionModel.deleteOne({ _id: unsub._id });
  return { removed: Boolean(block || unsub), reason: block?.reason ?? unsub?.reason ?? null };
}
