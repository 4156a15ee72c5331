/**
 * Deployed journeys. `journey_versions` holds every compiled plan ever deployed, immutable and unique by
 * (journeyId, version) and by (journeyId, hash); `journeys` holds one document per journey: which version
 * is live and whether it is paused. A run pins (journeyId, version) and loads its plan from here.
 */
import mongoose, { Schema, type Model } from 'mongoose';
import type { JourneyPlan } from '../rules/plan';
import { stepListensTo } from '../rules/step-kinds';
import { recordRoutes, routesFor, type Routes } from './event-routes';
import { contactFieldsRead } from '../rules/expr-reads';
import { isDuplicateKey } from './duplicate-key';

export interface JourneyVersionDoc {
  journeyId: string;
  version: number;
  hash: string;
  sourceFile: string | null;
  source: string;
  /** The plan as canonical JSON text (plan keys such as step ids may contain dots or '$'). */
  plan: string;
  deployedAt: Date;
}

export interface JourneyDoc {
  _id: string;
  liveVersion: number;
  liveHash: string;
  paused: boolean;
  /** The trigger kind of the live version, so dispatchers can filter without loading plans. */
  triggerKind: string;
  /** For event triggers: the event name; for others null. */
  triggerEvent: string | null;
  /** Every event that starts the journey (`trigger` and `extraTriggers`), for the dispatcher's lookup. */
  triggerEvents: string[];
  /** Event names a running run listens to (wait_for, goal), plus '*' when exit_when must be re-checked on any event. */
  listensTo: string[];
  updatedAt: Date;
}

const versionSchema = new Schema<JourneyVersionDoc>(
  {
    journeyId: { type: String, required: true },
    version: { type: Number, required: true },
    hash: { type: String, required: true },
    sourceFile: { type: String, default: null },
    source: { type: String, required: true },
    plan: { type: String, required: true },
    deployedAt: { type: Date, required: true },
  },
  { collection: 'journey_versions', versionKey: false, minimize: false },
);
versionSchema.index({ journeyId: 1, version: 1 }, { unique: true });
versionSchema.index({ journeyId: 1, hash: 1 }, { unique: true });

const journeySchema = new Schema<JourneyDoc>(
  {
    _id: { type: String, required: true },
    liveVersion: { type: Number, required: true },
    liveHash: { type: String, required: true },
    paused: { type: Boolean, default: false },
    triggerKind: { type: String, required: true },
    triggerEvent: { type: String, default: null },
    triggerEvents: { type: [String], default: [] },
    listensTo: { type: [String], default: [] },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'journeys', versionKey: false },
);
journeySchema.index({ triggerEvents: 1 });

export const JourneyVersionModel: Model<JourneyVersionDoc> =
  (mongoose.models.JourneyVersion as Model<JourneyVersionDoc>) ?? mongoose.model<JourneyVersionDoc>('JourneyVersion', versionSchema);
export const JourneyModel: Model<JourneyDoc> =
  (mongoose.models.Journey as Model<JourneyDoc>) ?? mongoose.model<JourneyDoc>('Journey', journeySchema);

/** Event names a run of this plan listens to (wait_for, goal), plus `*` when exit_when must see every event. */
export function listensTo(plan: JourneyPlan): string[] {
  const names = new Set<string>();
  for (const s of Object.values(plan.steps)) for (const name of stepListensTo(s)) names.add(name);
  if (plan.goal) names.add(plan.goal.event);
  if (plan.exitWhen) names.add('*');
  return [...names].sort();
}

/** The event triggers of a plan: `trigger` and any `extraTriggers`. */
export function eventTriggers(plan: JourneyPlan): Extract<JourneyPlan['trigger'], { kind: 'event' }>[] {
  return [plan.trigger, ...(plan.extraTriggers ?? [])].filter((t): t is Extract<JourneyPlan['trigger'], { kind: 'event' }> => t.kind === 'event');
}

export type SaveResult = { status: 'created'; version: number } | { status: 'unchanged'; version: number };

/**
 * Stores a plan as a new version unless a version with the same hash exists (then a no-op), and makes
 * it live. Safe against concurrent deploys: the unique indexes decide, never a read-then-write.
 */
export async function saveJourneyVersion(plan: JourneyPlan, source: string, now = new Date()): Promise<SaveResult> {
  await Promise.all([JourneyVersionModel.init(), JourneyModel.init()]);
  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = await JourneyVersionModel.findOne({ journeyId: plan.journeyId, hash: plan.hash }, { version: 1 }).lean();
    if (existing) {
      await setLive(plan, existing.version, now, false);
      return { status: 'unchanged', version: existing.version };
    }
    const last = await JourneyVersionModel.findOne({ journeyId: plan.journeyId }, { version: 1 }).sort({ version: -1 }).lean();
    const version = (last?.version ?? 0) + 1;
    try {
      await JourneyVersionModel.create({
        journeyId: plan.journeyId, version, hash: plan.hash, sourceFile: plan.sourceFile ?? null, source,
        plan: JSON.stringify(plan), deployedAt: now,
      });
      await setLive(plan, version, now, true);
      return { status: 'created', version };
    } catch (err) {
      // Another deploy took this version number or this hash first: look again.
      if (isDuplicateKey(err)) continue;
      throw err;
    }
  }
  throw new Error(`could not store a version of journey ${plan.journeyId}: too many concurrent deploys`);
}

async function setLive(plan: JourneyPlan, version: number, now: Date, force: boolean): Promise<void> {
  const filter = force ? { _id: plan.journeyId } : { _id: plan.journeyId, liveHash: { $ne: plan.hash } };
  const update = {
    $set: {
      liveVersion: version, liveHash: plan.hash, triggerKind: plan.trigger.kind,
      triggerEvent: plan.trigger.kind === 'event' ? plan.trigger.event : null, triggerEvents: eventTriggers(plan).map((t) => t.event),
      listensTo: listensTo(plan), updatedAt: now,
    },
    $setOnInsert: { paused: false },
  };
  try {
    await JourneyModel.updateOne(filter, update, { upsert: true });
  } catch (err) {
    // Upsert raced on _id with a doc that already has this hash live: nothing to do.
    if (!isDuplicateKey(err)) throw err;
  }
  // Also when unchanged: fills the routes of databases deployed before they existed (idempotent).
  const live = await JourneyModel.findById(plan.journeyId, { liveHash: 1 }).lean();
  if (live?.liveHash === plan.hash) {
    await recordRoutes(plan.journeyId, { triggers: eventTriggers(plan).map((t) => t.event), listensTo: listensTo(plan), exitReads: await exitReadsOfAllVersions(plan.journeyId) });
  }
  forgetEventTargets();
}

/**
 * The contact fields the `exit_when` of any stored version of the journey reads (runs stay on the
 * version they started with), or null when one of them may read any.
 */
async function exitReadsOfAllVersions(journeyId: string): Promise<string[] | null> {
  const fields = new Set<string>();
  for (const v of await JourneyVersionModel.find({ journeyId }, { plan: 1 }).lean()) {
    const exit = (JSON.parse(v.plan) as JourneyPlan).exitWhen;
    if (!exit) continue;
    const read = contactFieldsRead(exit.source);
    if (read === null) return null;
    for (const f of read) fields.add(f);
  }
  return [...fields].sort();
}

/** A pinned plan. Throws when the version does not exist (a run started for an unknown version). */
export async function getJourneyPlan(journeyId: string, version: number): Promise<JourneyPlan | null> {
  const doc = await JourneyVersionModel.findOne({ journeyId, version }, { plan: 1 }).lean();
  if (!doc) return null;
  return JSON.parse(doc.plan) as JourneyPlan;
}

export async function getJourney(journeyId: string): Promise<JourneyDoc | null> {
  return JourneyModel.findById(journeyId).lean();
}

export async function listJourneys(): Promise<(JourneyDoc & { versions: { version: number; hash: string; deployedAt: Date }[] })[]> {
  const journeys = await JourneyModel.find({}).sort({ _id: 1 }).lean();
  const versions = await JourneyVersionModel.find({}, { journeyId: 1, version: 1, hash: 1, deployedAt: 1 }).sort({ journeyId: 1, version: 1 }).lean();
  return journeys.map((j) => ({ ...j, versions: versions.filter((v) => v.journeyId === j._id).map((v) => ({ version: v.version, hash: v.hash, deployedAt: v.deployedAt })) }));
}

/** Live, unpaused journeys (few; read whole). */
export async function liveJourneys(): Promise<JourneyDoc[]> {
  return JourneyModel.find({ paused: false }).lean();
}

export async function setJourneyPaused(journeyId: string, paused: boolean): Promise<boolean> {
  const r = await JourneyModel.updateOne({ _id: journeyId }, { $set: { paused, updatedAt: new Date() } });
  forgetEventTargets();
  return r.matchedCount === 1;
}

/** The journeys an event name may start (`triggers`) or whose runs may listen to it, with their documents. */
export interface EventTargets extends Routes { journeys: Map<string, JourneyDoc> }

/**
 * How long a process reuses what `eventTargets` read. A deploy, pause, resume or rollback in this
 * process clears it at once; another process (the CLI, another server) is seen within this time, as for
 * webhooks (data/webhooks.ts). Without it every event cost two reads of the same few documents.
 */
export const EVENT_TARGETS_CACHE_MS = 2_000;
const MAX_CACHED_NAMES = 1_000;
const targetsCache = new Map<string, { at: number; value: Promise<EventTargets> }>();

export function forgetEventTargets(): void {
  targetsCache.clear();
}

/** The routes of `name` (data/event-routes.ts) and the journey documents they name, cached briefly per process. */
export function eventTargets(name: string): Promise<EventTargets> {
  const hit = targetsCache.get(name);
  if (hit && Date.now() - hit.at < EVENT_TARGETS_CACHE_MS) return hit.value;
  const value = (async () => {
    const routes = await routesFor(name);
    const ids = [...new Set([...routes.triggers, ...routes.listenedBy])];
    const docs = ids.length ? await JourneyModel.find({ _id: { $in: ids } }).lean() : [];
    return { ...routes, journeys: new Map(docs.map((j) => [j._id, j])) };
  })();
  if (targetsCache.size >= MAX_CACHED_NAMES) targetsCache.clear();
  targetsCache.set(name, { at: Date.now(), value });
  value.catch(() => targetsCache.delete(name));
  return value;
}

/** One `sojourn journeys migrate` (or rollback) as it happened: which runs moved, which could not and why. */
export interface JourneyMigrationDoc {
  _id: string;
  journeyId: string;
  kind: 'migrate' | 'rollback';
  toVersion: number;
  fromVersion?: number;
  at: Date;
  moved: { workflowId: string; fromVersion: number; step: string | null }[];
  notMoved: { workflowId: string; fromVersion: number; step: string | null; reason: string }[];
}

const migrationSchema = new Schema<JourneyMigrationDoc>(
  {
    _id: { type: String, required: true },
    journeyId: { type: String, required: true },
    kind: { type: String, required: true },
    toVersion: { type: Number, required: true },
    fromVersion: { type: Number },
    at: { type: Date, required: true },
    moved: { type: Schema.Types.Mixed, default: [] },
    notMoved: { type: Schema.Types.Mixed, default: [] },
  },
  { collection: 'journey_migrations', versionKey: false, minimize: false },
);
migrationSchema.index({ journeyId: 1, at: 1 });

export const JourneyMigrationModel: Model<JourneyMigrationDoc> =
  (mongoose.models.JourneyMigration as Model<JourneyMigrationDoc>) ?? mongoose.model<JourneyMigrationDoc>('JourneyMigration', migrationSchema);

/** Records a migration or rollback (keyed by its id, so a retried record is a no-op). */
export async function recordMigration(doc: JourneyMigrationDoc): Promise<void> {
  try {
    await JourneyMigrationModel.create(doc);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

export type RollbackResult = { status: 'rolled_back'; from: number; to: number; plan: JourneyPlan } | { status: 'unknown_journey' } | { status: 'no_previous_version'; live: number };

/**
 * Makes the version before the live one live again (its triggers and routes included). Runs keep the
 * version they are pinned to; `migrate --to <version>` moves them. Recorded in journey_migrations.
 */
export async function rollbackJourney(journeyId: string, now = new Date()): Promise<RollbackResult> {
  const j = await JourneyModel.findById(journeyId).lean();
  if (!j) return { status: 'unknown_journey' };
  const previous = await JourneyVersionModel.findOne({ journeyId, version: { $lt: j.liveVersion } }, { version: 1, plan: 1 }).sort({ version: -1 }).lean();
  if (!previous) return { status: 'no_previous_version', live: j.liveVersion };
  const plan = JSON.parse(previous.plan) as JourneyPlan;
  await setLive(plan, previous.version, now, true);
  await recordMigration({ _id: `rollback/${journeyId}/${now.toISOString()}`, journeyId, kind: 'rollback', fromVersion: j.liveVersion, toVersion: previous.version, at: now, moved: [], notMoved: [] });
  return { status: 'rolled_back', from: j.liveVersion, to: previous.version, plan };
}
