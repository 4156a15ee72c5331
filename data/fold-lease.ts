/**
 * A lease for background folders (report facts, open hours): one folder of a kind at a time across
 * processes, taken by an insert under the kind's `_id` (a race has one winner) and released by a delete
 * that names its owner. An expired lease (its holder died) is removed, only if still the same, and taken.
 * Kept in the collection the report folder created (`journey_stat_lease`), one document per kind.
 */
import mongoose, { Schema, type Model } from 'mongoose';
import { isDuplicateKey } from './duplicate-key';

interface LeaseDoc { _id: string; owner: string; until: Date }

const leaseSchema = new Schema<LeaseDoc>({ _id: String, owner: String, until: Date }, { collection: 'journey_stat_lease', versionKey: false });
const LeaseModel: Model<LeaseDoc> = (mongoose.models.StatLease as Model<LeaseDoc> | undefined) ?? mongoose.model<LeaseDoc>('StatLease', leaseSchema);

/** Takes the lease `id` for `owner` until `now + ttlMs`; false when someone else holds it. */
export async function takeLease(id: string, owner: string, now: Date, ttlMs: number): Promise<boolean> {
  const lease = { _id: id, owner, until: new Date(now.getTime() + ttlMs) };
  for (let i = 0; i < 2; i++) {
    try {
      await LeaseModel.collection.insertOne(lease as never);
      return true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const held = (await LeaseModel.collection.findOne({ _id: id } as never)) as LeaseDoc | null;
    if (held && held.until.getTime() > now.getTime()) return false;
    if (held) await LeaseModel.collection.deleteOne({ _id: id, owner: held.owner } as never);
  }
  return false;
}

/** Gives the lease back (only the owner's). */
export async function releaseLease(id: string, owner: string): Promise<void> {
  await LeaseModel.collection.deleteOne({ _id: id, owner } as never);
}
