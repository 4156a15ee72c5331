/**
 * Event routes (`event_routes`): for each event name, the journeys it may start (`triggers`, from the
 * live version) and the journeys whose runs may listen to it (`listenedBy`, from every version ever
 * deployed, since a run keeps the version it started with). One document per event name, keyed by
 * the name, plus `*` for journeys with exit_when (any event may end their runs). The dispatcher
 * reads it by `_id` (no scan of journeys), written at deploy (`recordRoutes`).
 */
import mongoose, { Schema, type Model } from 'mongoose';
import { isDuplicateKey } from './duplicate-key';

export interface EventRouteDoc {
  /** The event name, or `*`. */
  _id: string;
  triggers: string[];
  listenedBy: string[];
  /**
   * On `*` only: per journey, the contact fields its `exit_when` reads in any deployed version
   * (rules/expr-reads.ts); `['*']` when some version's may read any. Absent: not known (routes recorded
   * before this existed), so every event goes to the journey's runs.
   */
  exitReads?: Record<string, string[]>;
}

const schema = new Schema<EventRouteDoc>(
  {
    _id: { type: String, required: true },
    triggers: { type: [String], default: [] },
    listenedBy: { type: [String], default: [] },
    exitReads: { type: Schema.Types.Mixed },
  },
  { collection: 'event_routes', versionKey: false },
);

export const EventRouteModel: Model<EventRouteDoc> =
  (mongoose.models.EventRoute as Model<EventRouteDoc> | undefined) ?? mongoose.model<EventRouteDoc>('EventRoute', schema);

/**
 * Records a journey version's routes: it is the live one, so it alone decides the journey's triggers;
 * its listened events are added to those of earlier versions (their runs may still be waiting).
 */
export async function recordRoutes(journeyId: string, live: { triggers: string[]; listensTo: string[]; exitReads?: string[] | null }): Promise<void> {
  const coll = EventRouteModel.collection;
  // Triggers the live version no longer has (the routes collection is one small document per name).
  await coll.updateMany({ triggers: journeyId, _id: { $nin: live.triggers } } as never, { $pull: { triggers: journeyId } } as never);
  const upsert = (name: string, field: 'triggers' | 'listenedBy') =>
    coll.updateOne({ _id: name } as never, { $addToSet: { [field]: journeyId }, $setOnInsert: { [field === 'triggers' ? 'listenedBy' : 'triggers']: [] } } as never, { upsert: true });
  for (const name of live.triggers) await retryOnce(() => upsert(name, 'triggers'));
  for (const name of live.listensTo) await retryOnce(() => upsert(name, 'listenedBy'));
  if (live.exitReads !== undefined) {
    await coll.updateOne({ _id: '*' } as never, { $set: { [`exitReads.${journeyId}`]: live.exitReads ?? ['*'] } } as never);
  }
}

/** A concurrent upsert of the same name may lose the insert race (E11000); the second try updates. */
async function retryOnce(f: () => Promise<unknown>): Promise<void> {
  try {
    await f();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    await f();
  }
}

export interface Routes {
  triggers: string[];
  /** Journeys whose runs may listen to the event: by name, or through `exit_when` (`*`). */
  listenedBy: string[];
  /** Of those, the ones that listen only through `exit_when`, with the fields it reads (null: any, or not known). */
  exitOnly: Map<string, string[] | null>;
}

/** The routes of one event name and of `*`: two key lookups. */
export async function routesFor(name: string): Promise<Routes> {
  const docs = (await EventRouteModel.collection.find({ _id: { $in: [name, '*'] } } as never).toArray()) as unknown as EventRouteDoc[];
  const byId = new Map(docs.map((d) => [d._id, d]));
  const named = byId.get(name)?.listenedBy ?? [];
  const star = byId.get('*');
  const exitOnly = new Map<string, string[] | null>();
  for (const j of star?.listenedBy ?? []) {
    if (named.includes(j)) continue;
    const reads = star?.exitReads?.[j];
    exitOnly.set(j, Array.isArray(reads) && !reads.includes('*') ? reads : null);
  }
  return { triggers: byId.get(name)?.triggers ?? [], listenedBy: [...new Set([...named, ...(star?.listenedBy ?? [])])], exitOnly };
}
