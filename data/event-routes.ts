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
}

const schema = new Schema<EventRouteDoc>(
  {
    _id: { type: String, required: true },
    triggers: { type: [String], default: [] },
    listenedBy: { type: [String], default: [] },
  },
  { collection: 'event_routes', versionKey: false },
);

export const EventRouteModel: Model<EventRouteDoc> =
  (mongoose.models.EventRoute as Model<EventRouteDoc> | undefined) ?? mongoose.model<EventRouteDoc>('EventRoute', schema);

/**
 * Records a journey version's routes: it is the live one, so it alone decides the journey's triggers;
 * its listened events are added to those of earlier versions (their runs may still be waiting).
 */
export async function recordRoutes(journeyId: string, live: { triggers: string[]; listensTo: string[] }): Promise<void> {
  const coll = EventRouteModel.collection;
  // Triggers the live version no longer has (the routes collection is one small document per name).
  await coll.updateMany({ triggers: journeyId, _id: { $nin: live.triggers } } as never, { $pull: { triggers: journeyId } } as never);
  const upsert = (name: string, field: 'triggers' | 'listenedBy') =>
    coll.updateOne({ _id: name } as never, { $addToSet: { [field]: journeyId }, $setOnInsert: { [field === 'triggers' ? 'listenedBy' : 'triggers']: [] } } as never, { upsert: true });
  for (const name of live.triggers) await retryOnce(() => upsert(name, 'triggers'));
  for (const name of live.listensTo) await retryOnce(() => upsert(name, 'listenedBy'));
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

/** The routes of one event name and of `*`: two key lookups. */
export async function routesFor(name: string): Promise<{ triggers: string[]; listenedBy: string[] }> {
  const docs = (await EventRouteModel.collection.find({ _id: { $in: [name, '*'] } } as never).toArray()) as unknown as EventRouteDoc[];
  const byId = new Map(docs.map((d) => [d._id, d]));
  return {
    triggers: byId.get(name)?.triggers ?? [],
    listenedBy: [...new Set([...(byId.get(name)?.listenedBy ?? []), ...(byId.get('*')?.listenedBy ?? [])])],
  };
}
