/**
 * The suppression list (`suppressions`): addresses that must never be mailed, keyed by their hash
 * (keyedHash(secret, 'suppression', emailKey)), so an entry holds no address and survives erasure.
 *
 * Two entries per address at most, each keyed by `_id` so every check is a primary-key lookup:
 * - `_id` = hash: a block (erased, hard_bounce, complaint, manual) that stops every email; the first
 *   reason stays, except that erasure always marks it `erased`;
 * - `_id` = `${hash}:unsubscribed`: an unsubscribe, which stops marketing email only and which a
 *   confirmed double opt-in lifts (a delete by `_id`, which can never remove a block).
 * Writes are inserts keyed by `_id` (a duplicate key: already there), so a retry changes nothing.
 * `migrateSuppressions()` moves entries of the earlier layout (ObjectId `_id`, unique `key`).
 */
import mongoose, { Schema, type Model } from 'mongoose';
import { isDuplicateKey } from './duplicate-key';

export const SUPPRESSION_REASONS = ['unsubscribed', 'erased', 'hard_bounce', 'complaint', 'manual'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export interface SuppressionDoc {
  _id: string;
  /** The address hash (the same for both entries of an address). */
  key: string;
  reason: SuppressionReason;
  createdAt: Date;
}

const schema = new Schema<SuppressionDoc>(
  {
    _id: { type: String },
    key: { type: String, required: true },
    reason: { type: String, enum: SUPPRESSION_REASONS, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'suppressions', strict: true, versionKey: false },
);
// Exports and the importer's erased-address check look entries up by hash.
schema.index({ key: 1 });

export const SuppressionModel: Model<SuppressionDoc> =
  (mongoose.models.Suppression as Model<SuppressionDoc> | undefined) ?? mongoose.model<SuppressionDoc>('Suppression', schema);

/** `_id` of the entry a reason is stored under. */
export function suppressionId(hash: string, reason: SuppressionReason): string {
  return reason === 'unsubscribed' ? `${hash}:unsubscribed` : hash;
}

/** The document for an entry (what `addSuppression` inserts; bulk writers such as the importer use it too). */
export function suppressionEntry(hash: string, reason: SuppressionReason, at: Date): SuppressionDoc {
  return { _id: suppressionId(hash, reason), key: hash, reason, createdAt: at };
}

const coll = () => SuppressionModel.collection;

/** Adds an entry (an insert keyed by `_id`); an entry already there keeps its first reason. */
export async function addSuppression(hash: string, reason: SuppressionReason, at: Date): Promise<void> {
  if (reason === 'erased') {
    // Erasure wins over any earlier block reason: the importer and the API refuse erased addresses by it.
    await coll().updateOne({ _id: hash } as never, { $set: { reason: 'erased' }, $setOnInsert: { key: hash, createdAt: at } }, { upsert: true }).catch((err: unknown) => {
      if (!isDuplicateKey(err)) throw err; // a concurrent insert: re-mark it
      return coll().updateOne({ _id: hash } as never, { $set: { reason: 'erased' } });
    });
    return;
  }
  await coll().insertOne(suppressionEntry(hash, reason, at) as never).catch((err: unknown) => {
    if (!isDuplicateKey(err)) throw err;
  });
}

/** The block entry of an address (erased, bounce, complaint, manual), or null. */
export async function findBlock(hash: string): Promise<SuppressionDoc | null> {
  return (await coll().findOne({ _id: hash } as never)) as SuppressionDoc | null;
}

/**
 * True when the address must not be mailed: a block stops every email; an unsubscribe entry stops
 * marketing email only. One or two primary-key lookups.
 */
export async function isHashSuppressed(hash: string, marketing: boolean): Promise<boolean> {
  if (await findBlock(hash)) return true;
  return marketing && (await coll().findOne({ _id: suppressionId(hash, 'unsubscribed') } as never)) !== null;
}

/** Lifts an unsubscribe entry (a confirmed re-opt-in); blocks stay. */
export async function liftUnsubscribe(hash: string): Promise<void> {
  await coll().deleteOne({ _id: suppressionId(hash, 'unsubscribed') } as never);
}

/**
 * Moves entries of the earlier layout (ObjectId `_id`, unique index `key_1`) to keyed `_id`s. Idempotent
 * and safe to re-run after a crash: copies are inserted (duplicates ignored) before the originals go.
 */
export async function migrateSuppressions(opts: { batch?: number } = {}): Promise<{ moved: number }> {
  const batch = opts.batch ?? 1000;
  const indexes = await coll().indexes().catch(() => [] as { name?: string; unique?: boolean }[]);
  // Both entries of an address share `key`; the old unique index on it would refuse the second.
  if (indexes.some((i) => i.name === 'key_1' && i.unique)) await coll().dropIndex('key_1');
  let moved = 0;
  for (;;) {
    const old = (await coll().find({ _id: { $type: 'objectId' } } as never).limit(batch).toArray()) as unknown as (Omit<SuppressionDoc, '_id'> & { _id: mongoose.Types.ObjectId })[];
    if (!old.length) break;
    for (const o of old) await addSuppression(o.key, o.reason, o.createdAt ?? new Date());
    await coll().deleteMany({ _id: { $in: old.map((o) => o._id) } } as never);
    moved += old.length;
  }
  return { moved };
}
