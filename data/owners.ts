/**
 * Owners: the people (sales, service) a contact belongs to, who get the tasks of journey `task` steps.
 * One document per owner, `_id` = the owner id the CRM or the marketer chose (`wei`, `sales-3`), so a
 * contact's `owner` field and every read are key lookups. The owner's address is staff data, kept here
 * only; tasks and workflow payloads carry the id.
 */
import mongoose, { Schema, type Model } from 'mongoose';

/** An owner id: what contacts carry in `owner` and the import's `owner` column holds. */
export const OWNER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface OwnerDoc {
  _id: string;
  name: string;
  email: string;
  /** The owner's id in the CRM, passed on in task notifications. */
  crmId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const ownerSchema = new Schema<OwnerDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    email: { type: String, required: true },
    crmId: { type: String, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'owners', versionKey: false },
);

export const OwnerModel: Model<OwnerDoc> = (mongoose.models.Owner as Model<OwnerDoc> | undefined) ?? mongoose.model<OwnerDoc>('Owner', ownerSchema);

export interface OwnerInput { name: string; email: string; crmId?: string | null }

/** Creates or replaces an owner by id (a PUT: the same input twice changes nothing). */
export async function putOwner(id: string, input: OwnerInput, now: Date = new Date()): Promise<{ owner: OwnerDoc; created: boolean }> {
  const set = { name: input.name, email: input.email, crmId: input.crmId ?? null, updatedAt: now };
  const res = await OwnerModel.collection.updateOne({ _id: id } as never, { $set: set, $setOnInsert: { createdAt: now } }, { upsert: true });
  const owner = (await getOwner(id)) as OwnerDoc;
  return { owner, created: res.upsertedCount === 1 };
}

/** One owner by id (a key lookup), or null. */
export async function getOwner(id: string): Promise<OwnerDoc | null> {
  if (!OWNER_ID_RE.test(id)) return null;
  return OwnerModel.findById(id).lean<OwnerDoc>().exec();
}

/** A page of owners by id (small collection: the sales and service staff). */
export async function listOwners(opts: { limit: number; after?: string }): Promise<OwnerDoc[]> {
  const filter = opts.after ? { _id: { $gt: opts.after } } : {};
  return OwnerModel.find(filter).sort({ _id: 1 }).limit(opts.limit).lean<OwnerDoc[]>().exec();
}
