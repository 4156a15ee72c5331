/**
 * The journeys a contact was ever entered into (`contacts.journeysEntered`), so the dispatcher asks
 * Temporal only about runs that can exist: without it every event cost one `describe` per listening
 * journey and candidate period (about seven for the shipped journeys), nearly all answering "not found".
 * A journey is added before its run is started and never removed: a stale entry costs one lookup, a
 * missing one would lose a signal. Contacts stored before the field existed have none, and for them
 * every listening journey is asked, as before (decision 38).
 */
import type { ContactView } from '../rules/contact-schema';
import { ContactModel, type ContactDoc } from './contact-model';
import { toObjectId } from './contacts';
import { toContactView } from './contact-view';

/** Adds `journeyId` to the contact's entered journeys (idempotent; a key update by `_id`). */
export async function noteJourneyEntered(contactId: string, journeyId: string): Promise<void> {
  const _id = toObjectId(contactId);
  if (!_id) return;
  // `$exists`: a contact from before the field stays unknown (asked about every journey), never "only this one".
  await ContactModel.collection.updateOne({ _id, journeysEntered: { $exists: true } } as never, { $addToSet: { journeysEntered: journeyId } } as never);
}

const enteredOf = (doc: { journeysEntered?: unknown } | null) => (Array.isArray(doc?.journeysEntered) ? new Set(doc.journeysEntered as string[]) : null);

/**
 * One read for the dispatcher of one event: the contact as trigger conditions see it (null when gone or
 * erased) and its entered journeys (null: unknown). The runs the event starts are not in `entered`
 * when it was read first; the dispatcher never signals those (signal-with-start delivered the event).
 */
export async function contactForDispatch(contactId: string): Promise<{ view: ContactView | null; entered: Set<string> | null }> {
  const _id = toObjectId(contactId);
  const doc = _id ? ((await ContactModel.collection.findOne({ _id } as never)) as ContactDoc | null) : null;
  return { view: doc && !doc.erasedAt ? toContactView(doc) : null, entered: enteredOf(doc as { journeysEntered?: unknown } | null) };
}
