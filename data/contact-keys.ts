/**
 * Contact lookup by natural key, keyed by `_id`: one small document per email dedupe key
 * (`e:<emailKey>`) and per external id (`x:<externalId>`), pointing at the contact's `_id`.
 *
 * Why: a sign-up, an API upsert and an inbound mail find the contact by address. The unique `emailKey`
 * index serves that on MongoDB, but FerretDB 1.x answers a filter on any field other than `_id` with a
 * full scan (docs/scaling.md), so the cost of a sign-up grew with the number of contacts. Two `_id`
 * reads (key, then contact) cost the same at any size on both databases.
 *
 * The contact stays the truth: the unique `emailKey`/`externalId` indexes still decide who owns a key,
 * and a key document is only a pointer. A reader checks that the contact it points at still has the key
 * (a stale pointer after an address change or an erasure reads as "no contact"), and a writer that is
 * refused by a unique index repairs the pointer from the contact (`repairKeys`), so a crash between the
 * contact write and the pointer write costs one slow lookup later, never a wrong answer.
 */
import mongoose, { Schema, type Types } from 'mongoose';
import { ContactModel, type ContactDoc } from './contact-model';
import { isDuplicateKey, onlyDuplicateKeys } from './duplicate-key';

export interface ContactKeyDoc {
  /** `e:<emailKey>` or `x:<externalId>`. */
  _id: string;
  /** The contact's `_id`. */
  c: Types.ObjectId;
}

const contactKeySchema = new Schema<ContactKeyDoc>({ _id: { type: String }, c: { type: Schema.Types.ObjectId, required: true } }, { versionKey: false, collection: 'contact_keys' });

export const ContactKeyModel = mongoose.models.ContactKey ?? mongoose.model<ContactKeyDoc>('ContactKey', contactKeySchema);

export type ContactKeyKind = 'email' | 'external';

const keyId = (kind: ContactKeyKind, value: string) => `${kind === 'email' ? 'e' : 'x'}:${value}`;

/** The natural keys of a stored contact, as key `_id`s. */
function keysOf(doc: Pick<ContactDoc, 'emailKey' | 'externalId'>): string[] {
  const ids: string[] = [];
  if (doc.emailKey) ids.push(keyId('email', doc.emailKey));
  if (doc.externalId) ids.push(keyId('external', doc.externalId));
  return ids;
}

function holds(doc: ContactDoc, kind: ContactKeyKind, value: string): boolean {
  return kind === 'email' ? doc.emailKey === value : doc.externalId === value;
}

/** The contact holding this key: two `_id` reads. Null when none does (or the pointer is stale). */
export async function findContactByKey(kind: ContactKeyKind, value: string): Promise<ContactDoc | null> {
  const key = await ContactKeyModel.collection.findOne({ _id: keyId(kind, value) } as never);
  if (!key) return null;
  const doc = await ContactModel.collection.findOne({ _id: key.c } as never) as ContactDoc | null;
  return doc && holds(doc, kind, value) ? doc : null;
}

/**
 * Points the contact's keys at it (after the contact was written). An upsert by `_id`: a pointer left by an
 * earlier owner of the address is overwritten. Concurrent writers of one key race only while the
 * contact's unique index has already chosen the owner, so the last writer writes the same value.
 */
export async function writeContactKeys(doc: Pick<ContactDoc, '_id' | 'emailKey' | 'externalId'>): Promise<void> {
  for (const _id of keysOf(doc)) {
    for (let attempt = 0; ; attempt++) {
      try {
        await ContactKeyModel.collection.updateOne({ _id } as never, { $set: { c: doc._id } }, { upsert: true });
        break;
      } catch (err) {
        // Two upserts of a new key: the loser's insert is refused; its update then succeeds.
        if (!isDuplicateKey(err) || attempt >= 2) throw err;
      }
    }
  }
}

/** Bulk form for the importer: inserts pointers for newly created contacts; existing ones are kept. */
export async function insertContactKeys(docs: Pick<ContactDoc, '_id' | 'emailKey' | 'externalId'>[]): Promise<void> {
  const rows = docs.flatMap((d) => keysOf(d).map((_id) => ({ _id, c: d._id })));
  if (!rows.length) return;
  await ContactKeyModel.collection.insertMany(rows as never[], { ordered: false }).catch((err: unknown) => {
    if (!onlyDuplicateKeys(err)) throw err;
  });
}

/** Removes the pointers of keys a contact gave up (address changed, erased), if they still point at it. */
export async function dropContactKeys(contactId: Types.ObjectId, keys: Pick<ContactDoc, 'emailKey' | 'externalId'>): Promise<void> {
  for (const _id of keysOf(keys)) await ContactKeyModel.collection.deleteOne({ _id, c: contactId } as never);
}

/**
 * The slow path, for when a unique index refused a write that the pointers did not predict (a crash
 * between a contact write and its pointer, or contacts stored before pointers existed): finds the
 * owners by their fields (a scan on FerretDB) and writes their pointers.
 */
export async function repairKeys(keys: { emailKey?: string | null; externalId?: string | null }): Promise<void> {
  const or: Record<string, string>[] = [];
  if (keys.emailKey) or.push({ emailKey: keys.emailKey });
  if (keys.externalId) or.push({ externalId: keys.externalId });
  for (const filter of or) {
    const doc = await ContactModel.collection.findOne(filter, { projection: { _id: 1, emailKey: 1, externalId: 1 } }) as ContactDoc | null;
    if (doc) await writeContactKeys(doc);
  }
}

/**
 * Start-up migration: pointers for every contact stored before they existed. One pass over the
 * contacts by a cursor (projection only), inserts in batches; safe to re-run.
 */
export async function backfillContactKeys(batch = 1000): Promise<number> {
  let n = 0;
  let docs: Pick<ContactDoc, '_id' | 'emailKey' | 'externalId'>[] = [];
  const cursor = ContactModel.collection.find({}, { projection: { _id: 1, emailKey: 1, externalId: 1 } });
  for await (const d of cursor) {
    docs.push(d as never);
    if (docs.length >= batch) {
      await insertContactKeys(docs);
      n += docs.length;
      docs = [];
    }
  }
  await insertContactKeys(docs);
  return n + docs.length;
}
