/**
 * Each contact's open histogram for send-time optimisation: how many human opens fell in each hour of
 * the week (168 buckets, rules/hour-of-week.ts) in the contact's time zone.
 *
 *   open_hour_facts   `_id` = event id     one human open waiting to be folded: contact, bucket, time
 *   open_histograms   `_id` = contact id   { n: total opens, h: { "<bucket>": opens }, ids: recent event ids }
 *
 * The write path (the open event's `applyEvent`, data/contact-events.ts) only inserts the fact under the
 * event id: one insert keyed by `_id`, nothing read, and a repeated event is a duplicate key. Counting
 * where the open happens would be an update of the contact's histogram, which FerretDB 1.x applies as a
 * read and a whole-document write, so two opens of one contact at once could lose one (decision 24). A
 * single folder at a time (the report folder's lease, data/fold-lease.ts) adds pending facts into the
 * histograms and deletes them; being the only writer of histograms it cannot lose an increment. A fact
 * inserted again after its fold (a crash between storing and applying the event, then a retry) is
 * refused by the `ids` guard (the last RECENT_IDS event ids folded into that histogram).
 *
 * Guarantee: an open is counted at most once and, but for a crash between the counter update and the
 * fact's delete followed by more than RECENT_IDS newer opens of the same contact, exactly once.
 */
import mongoose, { Schema, type Model } from 'mongoose';
import { randomUUID } from 'node:crypto';
import { HOURS_PER_WEEK, histogramZone, hourOfWeek } from '../rules/hour-of-week';
import { isDuplicateKey } from './duplicate-key';
import { releaseLease, takeLease } from './fold-lease';

const RECENT_IDS = 50;
const LEASE_ID = 'open-hours';

interface FactDoc { _id: string; c: string; b: number; at: Date }
/** A contact's histogram as stored. */
export interface OpenHistogramDoc { _id: string; n: number; h: Record<string, number>; ids: string[]; updatedAt: Date }
/** A contact's histogram as the workflow reads it: `hours[b]` opens in bucket b (0 = Monday 00:00 local). */
export interface OpenHistogram { total: number; hours: number[] }

const factSchema = new Schema<FactDoc>({ _id: String, c: String, b: Number, at: Date }, { collection: 'open_hour_facts', versionKey: false });
const histogramSchema = new Schema<OpenHistogramDoc>({ _id: String, n: Number, h: Schema.Types.Mixed, ids: [String], updatedAt: Date }, { collection: 'open_histograms', versionKey: false, minimize: false });

export const OpenHourFactModel: Model<FactDoc> = (mongoose.models.OpenHourFact as Model<FactDoc> | undefined) ?? mongoose.model<FactDoc>('OpenHourFact', factSchema);
export const OpenHistogramModel: Model<OpenHistogramDoc> = (mongoose.models.OpenHistogram as Model<OpenHistogramDoc> | undefined) ?? mongoose.model<OpenHistogramDoc>('OpenHistogram', histogramSchema);

/**
 * Records one human open of a contact at `at`, bucketed in the contact's zone (UTC without one): an
 * insert keyed by the event id. false when that event was already recorded.
 */
export async function recordOpenHour(input: { eventId: string; contactId: string; at: Date; timezone?: string | null }): Promise<boolean> {
  const doc: FactDoc = { _id: input.eventId, c: input.contactId, b: hourOfWeek(input.at.getTime(), histogramZone(input.timezone)), at: input.at };
  try {
    await OpenHourFactModel.collection.insertOne(doc as never);
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

export interface OpenFoldResult { folded: number; duplicates: number; busy: boolean }

const processOwner = `${process.pid}:${randomUUID()}`;
let inProcess: Promise<OpenFoldResult> | null = null;

/**
 * Adds pending open facts into the histograms and deletes them, at most `maxFacts` per call. One folder
 * at a time: in this process a shared promise, across processes the lease. `busy`: another process folds.
 */
export function foldOpenHours(opts: { maxFacts?: number; ttlMs?: number; now?: () => Date } = {}): Promise<OpenFoldResult> {
  inProcess ??= foldOnce(opts).finally(() => { inProcess = null; });
  return inProcess;
}

async function foldOnce(opts: { maxFacts?: number; ttlMs?: number; now?: () => Date }): Promise<OpenFoldResult> {
  const now = opts.now ?? (() => new Date());
  const result: OpenFoldResult = { folded: 0, duplicates: 0, busy: false };
  if (!(await takeLease(LEASE_ID, processOwner, now(), opts.ttlMs ?? 60_000))) return { ...result, busy: true };
  try {
    const max = opts.maxFacts ?? 20_000;
    while (result.folded + result.duplicates < max) {
      const page = (await OpenHourFactModel.collection.find({}).limit(Math.min(500, max - result.folded - result.duplicates)).toArray()) as unknown as FactDoc[];
      if (page.length === 0) break;
      for (const f of page) {
        const bucket = Number.isInteger(f.b) && f.b >= 0 && f.b < HOURS_PER_WEEK ? f.b : null;
        if (bucket === null) { result.duplicates++; continue; } // not ours to count (never written by recordOpenHour)
        try {
          // Matches unless this event was folded already; then the upsert's insert hits the `_id` and says so.
          await OpenHistogramModel.collection.updateOne(
            { _id: f.c, ids: { $ne: f._id } } as never,
            { $inc: { n: 1, [`h.${bucket}`]: 1 }, $push: { ids: { $each: [f._id], $slice: -RECENT_IDS } }, $set: { updatedAt: now() } } as never,
            { upsert: true },
          );
          result.folded++;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          result.duplicates++;
        }
      }
      await OpenHourFactModel.collection.deleteMany({ _id: { $in: page.map((f) => f._id) } } as never);
    }
  } finally {
    await releaseLease(LEASE_ID, processOwner);
  }
  return result;
}

/**
 * A contact's open histogram: folds what is pending first (bounded by `foldBudget`; skipped while
 * another fold runs, whose result is at most seconds behind), then one read by `_id`.
 */
export async function readOpenHistogram(contactId: string, opts: { foldBudget?: number; now?: () => Date } = {}): Promise<OpenHistogram> {
  // Joining a long background fold could outlast the reading activity's timeout: read what is folded then.
  if (!inProcess) await foldOpenHours({ maxFacts: opts.foldBudget ?? 500, now: opts.now });
  const doc = (await OpenHistogramModel.collection.findOne({ _id: contactId } as never)) as OpenHistogramDoc | null;
  const hours = new Array<number>(HOURS_PER_WEEK).fill(0);
  let total = 0;
  for (const [k, v] of Object.entries(doc?.h ?? {})) {
    const b = Number(k);
    if (Number.isInteger(b) && b >= 0 && b < HOURS_PER_WEEK && typeof v === 'number' && v > 0) {
      hours[b] = v;
      total += v;
    }
  }
  return { total, hours };
}

/** Erasure: the contact's histogram and its pending facts (the pending collection holds only seconds of opens). */
export async function dropOpenHistogram(contactId: string): Promise<void> {
  await OpenHourFactModel.collection.deleteMany({ c: contactId } as never);
  await OpenHistogramModel.collection.deleteOne({ _id: contactId } as never);
}
