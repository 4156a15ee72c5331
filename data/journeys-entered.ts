/**
 * The journeys a contact was ever entered into (`contacts.journeysEntered`), so the dispatcher asks
 * Temporal only about runs that can exist: without it every event cost one `describe` per listening
 * journey and candidate period (about seven for the shipped journeys), nearly all answering "not found".
 * A journey is added before its run is started and never removed: a stale entry costs one lookup, a
 * missing one would lose a signal. Contacts stored before the field existed have none, and for them
 * every listening journey is asked, as before (decision 38).
 */
import { ContactModel } from './contact-model';
import { toObjectId } from './contacts';

/** Adds `journeyId` to the contact's entered journeys (idempotent; a key update by `_id`). */
export async function noteJourneyEntered(contactId: string, journeyId: string): Promise<void> {
  const _id = toObjectId(contactId);
  if (!_id) return;
  // `$exists`: a contact from before the field stays unknown (asked about every journey), never "only this one".
  await ContactModel.collection.updateOne({ _id, journeysEntered: { $exists: true } } as never, { $addToSet: { journeysEntered: journeyId } } as never);
}

/** The contact's entered journeys, or null when unknown (a contact from before the field, or not found). */
export async function journeysEntered(contactId: string): Promise<Set<string> | null> {
  const _id = toObjectId(contactId);
  if (!_id) return null;
  const doc = (await ContactModel.collection.findOne({ _id } as never, { projection: { journeysEntered: 1 } })) as { journeysEntered?: unknown } | null;
  return Array.isArray(doc?.journeysEntered) ? new Set(doc.journeysEntered as string[]) : null;
}
