/**
 * Journey statistics: what the report counts, kept as small daily counter documents so a report reads
 * O(days x versions) documents by `_id` whatever the size of the ledger and the event log.
 *
 *   journey_stat_facts    `_id` = fact key   one countable fact waiting to be folded (a send, a gate
 *                                            decision, a click, an entry, a conversion, ...)
 *   journey_stat_marks    `_id` = fact key   facts already counted (so a retried activity, a sink called
 *                                            twice or a re-dispatched event counts once), kept
 *                                            STAT_MARK_RETENTION_MS after their fold
 *   journey_stat_mark_batches `_id` = `${foldDay}|${n}`  the keys of the marks one fold batch inserted, so
 *                                            they expire by `_id` (FerretDB scans any range filter)
 *   journey_stat_mark_days `_id` = fold day  how many batches that day has (one document per day)
 *   journey_stats         `_id` = `${journeyId}|${version}|${day}`   the counters of one version on one
 *                                            UTC day: { j: {metric: n}, s: {stepId: {metric: n}},
 *                                            x: {"splitStep:branch": {metric: n}} }
 *   journey_stat_lease    `_id` = "fold"     who folds now (one folder at a time across processes)
 *
 * Why not `$inc` the counters where the fact happens: FerretDB 1.x applies an update as a read and a
 * whole-document write, so concurrent `$inc`s of one document lose increments (measured: 200 concurrent
 * `$inc`s of one field left 72). The hot path therefore only inserts a fact under its natural key (an
 * insert cannot be lost, a duplicate key is the "already recorded" answer), and a single folder at a time
 * (a lease taken by an insert) adds pending facts into the counters and deletes them, like the event
 * outbox: the pending collection holds only what waits, so folding never scans history.
 *
 * Guarantee: a fact is counted at most once (the mark is inserted before the counters move) and, but
 * for a crash between the mark and the counter update (the fact is then lost, never doubled), exactly once.
 */
import mongoose, { Schema, type Model } from 'mongoose';
import { randomUUID } from 'node:crypto';
import { duplicatePositions, isDuplicateKey } from './duplicate-key';
import { releaseLease, takeLease } from './fold-lease';

/** One countable fact. `metric` names are closed sets (docs/reports.md); reasons are sanitised. */
export interface StatFact {
  /** Natural key: the same fact recorded twice has the same key. */
  key: string;
  journeyId: string;
  version: number;
  /** The step the fact belongs to; absent for journey-level facts (entered, ended). */
  stepId?: string | null;
  /**
   * `${splitStepId}:${branch}` of the run, when it passed a split. A fact with a step counts for the step
   * and the variant; a fact with a variant and no step counts for the variant only.
   */
  variant?: string | null;
  metric: string;
  /** When it happened (UTC day of the counter). */
  at: Date;
}

interface FactDoc { _id: string; j: string; v: number; s: string | null; x: string | null; m: string; d: string; at: Date }
interface MarkDoc { _id: string; at: Date }
interface MarkBatchDoc { _id: string; ids: string[] }
interface MarkDayDoc { _id: string; batches: number }
/** Counters of one journey version on one day. */
export interface StatDoc {
  _id: string;
  journeyId: string;
  version: number;
  day: string;
  j?: Record<string, number>;
  s?: Record<string, Record<string, number>>;
  x?: Record<string, Record<string, number>>;
}

const factSchema = new Schema<FactDoc>({ _id: String, j: String, v: Number, s: String, x: String, m: String, d: String, at: Date }, { collection: 'journey_stat_facts', versionKey: false });
const markSchema = new Schema<MarkDoc>({ _id: String, at: Date }, { collection: 'journey_stat_marks', versionKey: false });
const statSchema = new Schema<StatDoc>({ _id: String, journeyId: String, version: Number, day: String, j: Schema.Types.Mixed, s: Schema.Types.Mixed, x: Schema.Types.Mixed }, { collection: 'journey_stats', versionKey: false, minimize: false });
const markBatchSchema = new Schema<MarkBatchDoc>({ _id: String, ids: [String] }, { collection: 'journey_stat_mark_batches', versionKey: false });
const markDaySchema = new Schema<MarkDayDoc>({ _id: String, batches: Number }, { collection: 'journey_stat_mark_days', versionKey: false });

export const StatFactModel: Model<FactDoc> = (mongoose.models.StatFact as Model<FactDoc> | undefined) ?? mongoose.model<FactDoc>('StatFact', factSchema);
export const StatMarkModel: Model<MarkDoc> = (mongoose.models.StatMark as Model<MarkDoc> | undefined) ?? mongoose.model<MarkDoc>('StatMark', markSchema);
export const JourneyStatModel: Model<StatDoc> = (mongoose.models.JourneyStat as Model<StatDoc> | undefined) ?? mongoose.model<StatDoc>('JourneyStat', statSchema);
export const StatMarkBatchModel: Model<MarkBatchDoc> = (mongoose.models.StatMarkBatch as Model<MarkBatchDoc> | undefined) ?? mongoose.model<MarkBatchDoc>('StatMarkBatch', markBatchSchema);
export const StatMarkDayModel: Model<MarkDayDoc> = (mongoose.models.StatMarkDay as Model<MarkDayDoc> | undefined) ?? mongoose.model<MarkDayDoc>('StatMarkDay', markDaySchema);

/** The UTC day of an instant, `YYYY-MM-DD`. */
export function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** The `_id` of a day's counters of one journey version. */
export function statId(journeyId: string, version: number, day: string): string {
  return `${journeyId}|${version}|${day}`;
}

/** Field names may not contain '.' or start with '$' (reasons are free text, e.g. "goal:order.completed"). */
export function fieldSafe(text: string): string {
  return text.replace(/[.$]/g, '_').slice(0, 80);
}

/**
 * Records a fact: one `_id` read (already counted?) and one insert keyed by the fact. Never throws for a
 * duplicate; throws when the database does (the caller's activity or request is retried).
 */
export async function recordFact(f: StatFact): Promise<boolean> {
  if (await StatMarkModel.collection.findOne({ _id: f.key } as never)) return false;
  const doc: FactDoc = { _id: f.key, j: f.journeyId, v: f.version, s: f.stepId ?? null, x: f.variant ?? null, m: fieldSafe(f.metric), d: dayOf(f.at), at: f.at };
  try {
    await StatFactModel.collection.insertOne(doc as never);
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/** Records several facts (each independently idempotent). */
export async function recordFacts(facts: StatFact[]): Promise<void> {
  for (const f of facts) await recordFact(f);
}

const LEASE_ID = 'fold';

export interface FoldResult { folded: number; duplicates: number; busy: boolean }

const processOwner = `${process.pid}:${randomUUID()}`;
let inProcess: Promise<FoldResult> | null = null;

/**
 * Adds pending facts into the daily counters and deletes them. One folder at a time: in this process a
 * shared promise, across processes the lease (`ttlMs`, default 60 s; a fold handles at most `maxFacts`
 * so it ends well within it). `busy`: another process holds the lease (its fold will count them).
 */
export function foldFacts(opts: { maxFacts?: number; ttlMs?: number; now?: () => Date } = {}): Promise<FoldResult> {
  inProcess ??= foldOnce(opts).finally(() => { inProcess = null; });
  return inProcess;
}

async function foldOnce(opts: { maxFacts?: number; ttlMs?: number; now?: () => Date }): Promise<FoldResult> {
  const now = opts.now ?? (() => new Date());
  const result: FoldResult = { folded: 0, duplicates: 0, busy: false };
  if (!(await takeLease(LEASE_ID, processOwner, now(), opts.ttlMs ?? 60_000))) return { ...result, busy: true };
  try {
    const max = opts.maxFacts ?? 20_000;
    while (result.folded + result.duplicates < max) {
      const page = (await StatFactModel.collection.find({}).limit(500).toArray()) as unknown as FactDoc[];
      if (page.length === 0) break;
      // 0. The page's marks expire together, found by `_id` (expireStatMarks); noted first, so no mark is left behind by a crash.
      await rememberMarkBatch(dayOf(now()), page.map((f) => f._id));
      // 1. Mark: a fact whose mark exists was counted before (a re-recorded fact after its fold). One
      //    unordered insert for the page: the marks already there come back as duplicate keys.
      const counted = await StatMarkModel.collection
        .insertMany(page.map((f) => ({ _id: f._id, at: f.at })) as never[], { ordered: false })
        .then(() => new Set<number>(), (err: unknown) => duplicatePositions(err, page.length));
      const fresh = page.filter((_f, i) => !counted.has(i));
      result.duplicates += counted.size;
      // 2. Count, one update per counter document (this folder is the only writer of counters).
      const incs = new Map<string, { journeyId: string; version: number; day: string; inc: Record<string, number> }>();
      for (const f of fresh) {
        const id = statId(f.j, f.v, f.d);
        const entry = incs.get(id) ?? { journeyId: f.j, version: f.v, day: f.d, inc: {} };
        const add = (path: string) => { entry.inc[path] = (entry.inc[path] ?? 0) + 1; };
        // A step fact counts for its step (and its variant); a variant fact without a step only for the
        // variant (its journey-level twin is a fact of its own); anything else for the journey.
        if (f.s) add(`s.${fieldSafe(f.s)}.${f.m}`);
        else if (!f.x) add(`j.${f.m}`);
        if (f.x) add(`x.${fieldSafe(f.x)}.${f.m}`);
        incs.set(id, entry);
      }
      for (const [id, e] of incs) {
        await JourneyStatModel.collection.updateOne(
          { _id: id } as never,
          { $inc: e.inc, $setOnInsert: { journeyId: e.journeyId, version: e.version, day: e.day } },
          { upsert: true },
        );
      }
      // 3. Done with them.
      await StatFactModel.collection.deleteMany({ _id: { $in: page.map((f) => f._id) } } as never);
      result.folded += fresh.length;
    }
  } finally {
    await releaseLease(LEASE_ID, processOwner);
  }
  return result;
}

/**
 * Notes the keys of the marks a fold batch inserted under the fold's day: batch `n` of the day is
 * `${day}|${n}`, `n` from the day's document. The folder holds the lease; a batch id already taken (a
 * crash between the two writes, a second folder after an expired lease) moves on to the next number.
 */
async function rememberMarkBatch(day: string, ids: string[]): Promise<void> {
  const dayDoc = (await StatMarkDayModel.collection.findOne({ _id: day } as never)) as MarkDayDoc | null;
  for (let n = dayDoc?.batches ?? 0; ; n++) {
    try {
      await StatMarkBatchModel.collection.insertOne({ _id: `${day}|${n}`, ids } as never);
    } catch (err) {
      if (isDuplicateKey(err)) continue;
      throw err;
    }
    await StatMarkDayModel.collection.updateOne({ _id: day } as never, { $set: { batches: n + 1 } }, { upsert: true });
    return;
  }
}

/**
 * How long a fact's mark is kept after its fold: a fact recorded again within this time (an activity
 * retried, a sink called again, an event dispatched again from the outbox, a second click on the same
 * email) still counts once. Email events of an email sent longer ago than this are not counted at all
 * (data/journey-stat-facts.ts), so a second click after its mark expired cannot count twice.
 */
export const STAT_MARK_RETENTION_MS = 30 * 86_400_000;

export interface MarkExpiry { removed: number; days: number; more: boolean }

/**
 * Removes the marks folded on UTC days wholly older than `now - retentionMs`, batch by batch, each mark
 * by `_id`; at most `maxMarks` per call (`more`: call again). A batch's document goes after its marks and
 * a day's after its batches, so an interrupted pass is resumed by the next. Reads only the day documents
 * (one per day) and `_id`s: its cost does not grow with the marks kept.
 */
export async function expireStatMarks(opts: { now?: Date; retentionMs?: number; maxMarks?: number } = {}): Promise<MarkExpiry> {
  const cutoffDay = dayOf(new Date((opts.now ?? new Date()).getTime() - (opts.retentionMs ?? STAT_MARK_RETENTION_MS)));
  const max = opts.maxMarks ?? 50_000;
  const result: MarkExpiry = { removed: 0, days: 0, more: false };
  const days = ((await StatMarkDayModel.collection.find({}).toArray()) as unknown as MarkDayDoc[])
    .filter((d) => d._id < cutoffDay).sort((a, b) => a._id.localeCompare(b._id));
  for (const day of days) {
    for (let n = 0; n < day.batches; n++) {
      const batch = (await StatMarkBatchModel.collection.findOne({ _id: `${day._id}|${n}` } as never)) as MarkBatchDoc | null;
      if (!batch) continue;
      if (result.removed + batch.ids.length > max && result.removed > 0) return { ...result, more: true };
      for (const id of batch.ids) await StatMarkModel.collection.deleteOne({ _id: id } as never);
      await StatMarkBatchModel.collection.deleteOne({ _id: batch._id } as never);
      result.removed += batch.ids.length;
    }
    await StatMarkDayModel.collection.deleteOne({ _id: day._id, batches: day.batches } as never);
    result.days++;
  }
  return result;
}

/** The counters of the given versions on the given days: point reads by `_id`. */
export async function readStats(journeyId: string, versions: number[], days: string[]): Promise<StatDoc[]> {
  const ids = versions.flatMap((v) => days.map((d) => statId(journeyId, v, d)));
  const out: StatDoc[] = [];
  // Bounded parallelism: each read is an `_id` lookup.
  for (let i = 0; i < ids.length; i += 16) {
    const docs = await Promise.all(ids.slice(i, i + 16).map((id) => JourneyStatModel.collection.findOne({ _id: id } as never)));
    for (const d of docs) if (d) out.push(d as unknown as StatDoc);
  }
  return out;
}
