/**
 * The frequency window: each contact's admitted marketing sends as numbered slots, so the frequency
 * cap is a few primary-key reads and inserts instead of counting a ledger that grows with every send.
 *
 *   send_slots    `_id` = `${contactId}#${n}`  the n-th marketing send the gate let through: { k: key, at }
 *                 `_id` = `k:${ledgerKey}`     that key's slot number (a retried gate gets the same answer)
 *   send_windows  `_id` = contactId            { n }: the highest slot number seen (a hint, may lag)
 *
 * Admission is an insert: the send that may go takes slot n+1, where n is the contact's last slot and the
 * slot `max` places back is older than the window. Two concurrent sends for the same slot: the unique
 * `_id` lets one insert, the other finds the slot taken and decides again against the new last slot. No
 * read-modify-write of a shared document decides anything (FerretDB 1.x applies updates as a read and a
 * whole-document write, so two concurrent updates of one document can lose one; an insert cannot).
 */
import mongoose, { Schema, type Model } from 'mongoose';
import { isDuplicateKey } from './duplicate-key';

interface SlotDoc { _id: string; k?: string; at?: Date; n?: number }
interface HeadDoc { _id: string; n: number }

const slotSchema = new Schema<SlotDoc>({ _id: { type: String }, k: String, at: Date, n: Number }, { collection: 'send_slots', versionKey: false });
const headSchema = new Schema<HeadDoc>({ _id: { type: String }, n: { type: Number, default: 0 } }, { collection: 'send_windows', versionKey: false });
export const SendSlot: Model<SlotDoc> = (mongoose.models.SendSlot as Model<SlotDoc> | undefined) ?? mongoose.model<SlotDoc>('SendSlot', slotSchema);
export const SendWindow: Model<HeadDoc> = (mongoose.models.SendWindow as Model<HeadDoc> | undefined) ?? mongoose.model<HeadDoc>('SendWindow', headSchema);

const slots = () => SendSlot.collection;
const heads = () => SendWindow.collection;
const slotId = (contactId: string, n: number) => `${contactId}#${n}`;
const find = async (id: string) => (await slots().findOne({ _id: id } as never)) as SlotDoc | null;

/** Inserts a document keyed by `_id`; false when the key exists. */
async function insertKeyed(coll: () => mongoose.mongo.Collection, doc: Record<string, unknown>): Promise<boolean> {
  try {
    await coll().insertOne(doc as never);
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/** Records slot `n` of the contact as taken by `key` (the key marker and the head hint). */
async function markTaken(contactId: string, key: string, n: number): Promise<void> {
  await insertKeyed(slots, { _id: `k:${key}`, n });
  // A hint only: a lost or late update is corrected by readers probing past it.
  await heads().updateOne({ _id: contactId } as never, { $max: { n } }, { upsert: true }).catch((err: unknown) => {
    if (!isDuplicateKey(err)) throw err;
  });
}

/**
 * Takes a slot in the contact's window for the send `key` at `at`, under the cap of `max` sends per
 * `perMs`. True when the send may go. A key that already holds a slot gets true again.
 */
export async function takeWindowSlot(contactId: string, key: string, at: Date, max: number, perMs: number): Promise<boolean> {
  if (await find(`k:${key}`)) return true;
  let n = ((await heads().findOne({ _id: contactId } as never)) as HeadDoc | null)?.n ?? 0;
  for (let attempt = 0; attempt < 50; attempt++) {
    // The hint may lag behind the last slot: then the insert below finds n + 1 taken and n moves on.
    // Slots are numbered without gaps (n + 1 is only taken once n is), so a lagging n only ever looks
    // at an older slot as the oldest in the window, which is full if that one is still inside it.
    const back = n + 1 - max;
    const oldest = back >= 1 ? await find(slotId(contactId, back)) : null;
    if (back >= 1 && oldest?.at && new Date(oldest.at).getTime() >= at.getTime() - perMs) {
      return (await find(`k:${key}`)) !== null; // full (unless a concurrent retry of this key took a slot)
    }
    if (await insertKeyed(slots, { _id: slotId(contactId, n + 1), k: key, at })) {
      await markTaken(contactId, key, n + 1);
      return true;
    }
    n++; // another send took that slot: decide again against it
  }
  throw new Error(`frequency window of contact ${contactId}: no free slot number after 50 attempts`);
}

/**
 * Seeds windows from the marketing rows of the send ledger written before windows existed (once; a
 * marker document in `migrations` records it), so an upgrade does not reset anyone's cap.
 */
export async function migrateSendWindows(opts: { since?: Date } = {}): Promise<{ contacts: number }> {
  const markers = mongoose.connection.collection('migrations');
  if (await markers.findOne({ _id: 'send_windows_v1' } as never)) return { contacts: 0 };
  const since = opts.since ?? new Date(Date.now() - 90 * 86400_000);
  const byContact = new Map<string, { key: string; at: Date }[]>();
  const cursor = mongoose.connection.collection('sends').find(
    { marketing: true, status: { $in: ['pending', 'sent', 'unknown'] }, createdAt: { $gte: since } },
    { projection: { key: 1, contactId: 1, createdAt: 1 } },
  );
  for await (const row of cursor) {
    const list = byContact.get(String(row.contactId)) ?? [];
    list.push({ key: String(row.key), at: row.createdAt as Date });
    byContact.set(String(row.contactId), list);
  }
  for (const [contactId, list] of byContact) {
    list.sort((x, y) => x.at.getTime() - y.at.getTime());
    // Appended after any slot already taken (a re-run after a crash skips keys that have one).
    for (const s of list) {
      if (await find(`k:${s.key}`)) continue;
      let n = ((await heads().findOne({ _id: contactId } as never)) as HeadDoc | null)?.n ?? 0;
      while (!(await insertKeyed(slots, { _id: slotId(contactId, n + 1), k: s.key, at: s.at }))) n++;
      await markTaken(contactId, s.key, n + 1);
    }
  }
  await insertKeyed(() => markers, { _id: 'send_windows_v1', at: new Date() });
  return { contacts: byContact.size };
}
