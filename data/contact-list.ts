/**
 * Listing contacts for integrators (`GET /v1/contacts`): pages in `_id` order, continued by an opaque
 * cursor that carries the last `_id` the previous page looked at. `_id` never changes and a new
 * contact gets a new `_id`, so a listing under concurrent inserts returns every contact that existed
 * when it started exactly once (a contact inserted meanwhile may or may not appear, once at most).
 *
 * Filters: a segment (pushed down to a MongoDB filter when the expression allows it, otherwise
 * evaluated contact by contact over a bounded scan whose cursor still advances), a tag and an update
 * time. Cost: on MongoDB a page is an index range on `_id`. FerretDB 1.24 (either backend) pushes down
 * only `_id` equality, not ranges or sorts, so there each page reads and sorts the whole collection:
 * a page costs O(contacts), a full listing O(contacts^2 / limit); use large pages
 * (bench/contacts-list.bench.ts measures it).
 */
import type { Types } from 'mongoose';
import { ContactModel, type ContactDoc } from './contact-model';
import { toContactView } from './contact-view';
import { toObjectId, ContactError } from './contacts';
import type { SegmentPlan } from '../rules/plan';
import { segmentFilter } from '../rules/segment-filter';
import { evaluateBool } from '../rules/evaluate';

export interface ListQuery {
  limit: number;
  /** Opaque cursor from the previous page's `next`. */
  cursor?: string;
  segment?: SegmentPlan;
  tag?: string;
  updatedSince?: Date;
}

export interface ListPage {
  contacts: ContactDoc[];
  /** Cursor of the next page; null when this was the last one. */
  next: string | null;
  /** The segment filter ran inside the database (false: evaluated here over a bounded scan). */
  pushedDown: boolean;
}

/** Contacts examined per page when a segment can't be pushed down (the page may then come back short). */
export const SEGMENT_SCAN_LIMIT = 5_000;

const CURSOR_PREFIX = 'c1.';

/** The cursor is opaque to clients (base64url of a versioned position), so its form can change. */
export function encodeCursor(lastId: Types.ObjectId | string): string {
  return Buffer.from(`${CURSOR_PREFIX}${String(lastId)}`).toString('base64url');
}

export function decodeCursor(cursor: string): Types.ObjectId {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = text.startsWith(CURSOR_PREFIX) ? toObjectId(text.slice(CURSOR_PREFIX.length)) : null;
  if (!id) throw new ContactError('E_CURSOR', 'this cursor was not issued by this API (pass `next` from the previous page unchanged)', '/query/cursor');
  return id;
}

export async function listContacts(q: ListQuery, now = new Date()): Promise<ListPage> {
  const base: Record<string, unknown> = { erasedAt: null };
  if (q.cursor) base._id = { $gt: decodeCursor(q.cursor) };
  if (q.tag) base.tags = q.tag.trim().toLowerCase();
  if (q.updatedSince) base.updatedAt = { $gte: q.updatedSince };
  const filter = q.segment ? segmentFilter(q.segment, now) : {};
  if (filter) {
    const docs = await ContactModel.find(q.segment ? { $and: [base, filter] } : base).sort({ _id: 1 }).limit(q.limit).lean<ContactDoc[]>().exec();
    return { contacts: docs, next: docs.length === q.limit ? encodeCursor(docs[docs.length - 1]._id) : null, pushedDown: true };
  }
  // The segment is not expressible as a filter: evaluate contact by contact, at most SEGMENT_SCAN_LIMIT
  // per page; the cursor moves past everything examined, so the next page continues the scan.
  const out: ContactDoc[] = [];
  let last: Types.ObjectId | null = null;
  let scanned = 0;
  let exhausted = true;
  const expr = q.segment!.expr.source;
  for await (const doc of ContactModel.find(base).sort({ _id: 1 }).limit(SEGMENT_SCAN_LIMIT).lean<ContactDoc[]>().cursor({ batchSize: 500 }) as AsyncIterable<ContactDoc>) {
    scanned++;
    last = doc._id;
    if (evaluateBool(expr, { contact: toContactView(doc), now })) out.push(doc);
    if (out.length >= q.limit) {
      exhausted = false;
      break;
    }
  }
  if (scanned >= SEGMENT_SCAN_LIMIT) exhausted = false;
  return { contacts: out, next: !exhausted && last ? encodeCursor(last) : null, pushedDown: false };
}
