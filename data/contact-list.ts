/**
 * Listing contacts for integrators (`GET /v1/contacts`): pages in `_id` order, continued by an opaque
 * cursor that carries the last `_id` the previous page looked at. `_id` never changes and a new
 * contact gets a new `_id`, so a listing under concurrent inserts returns every contact that existed
 * when it started exactly once (a contact inserted meanwhile may or may not appear, once at most).
 *
 * Cost: the database is only ever asked for an `_id` range in `_id` order with a limit
 * (`{_id: {$gt: <ObjectId>}}`, sort `{_id: 1}`, limit), which MongoDB answers from its `_id` index and
 * the provisioned FerretDB answers with one index range scan with ORDER BY and LIMIT in PostgreSQL
 * (scripts/provision.ts FERRETDB_PATCHES; test/integration/contacts/listing-cost.test.ts). So a page
 * costs O(limit) whatever the number of contacts. Anything else in the query would make FerretDB read
 * the whole collection per page, so the filters (segment, tag, update time) and erased contacts are
 * evaluated here, over at most SCAN_BUDGET contacts per request: a filtered page may come back short,
 * with a `next` that continues after the last contact examined; a filtered listing reads every contact
 * once in total.
 */
import { Types } from 'mongoose';
import { ContactModel, type ContactDoc } from './contact-model';
import { toContactView } from './contact-view';
import { toObjectId, ContactError } from './contacts';
import type { SegmentPlan } from '../rules/plan';
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
  /** No filter: the page is the database's `_id` range (false: a filter was evaluated here over a bounded scan). */
  pushedDown: boolean;
  /** Contacts read from the database for this page. */
  scanned: number;
}

/** Contacts examined per request beyond the page size when a filter drops some (the page may then come back short). */
export const SCAN_BUDGET = 5_000;

/** Contacts read per database query when a filter is evaluated here. */
export const FILTER_WINDOW = 1_000;

/** The smallest ObjectId: the first page is `_id >= MIN_ID`, so the query is an ObjectId range like every later one. */
export const MIN_ID = new Types.ObjectId('000000000000000000000000');

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

/**
 * The database query of one window: an ObjectId range on `_id`, sorted by `_id`, limited, and nothing
 * else (the provisioned FerretDB pushes exactly this shape down to PostgreSQL). Exported for the cost test.
 */
export function windowQuery(after: Types.ObjectId | null, size: number) {
  return ContactModel.find({ _id: after ? { $gt: after } : { $gte: MIN_ID } }).sort({ _id: 1 }).limit(size);
}

export async function listContacts(q: ListQuery, now = new Date()): Promise<ListPage> {
  const tag = q.tag?.trim().toLowerCase();
  const since = q.updatedSince?.getTime();
  const expr = q.segment?.expr.source;
  const filtered = tag !== undefined || since !== undefined || expr !== undefined;
  const keep = (doc: ContactDoc): boolean =>
    doc.erasedAt == null
    && (tag === undefined || (doc.tags ?? []).includes(tag))
    && (since === undefined || new Date(doc.updatedAt).getTime() >= since)
    && (expr === undefined || evaluateBool(expr, { contact: toContactView(doc), now }));

  const out: ContactDoc[] = [];
  let after = q.cursor ? decodeCursor(q.cursor) : null;
  let scanned = 0;
  // Unfiltered, a second window makes up for erased contacts; filtered, windows of FILTER_WINDOW up to the budget.
  const budget = q.limit + (filtered ? SCAN_BUDGET : q.limit);
  for (;;) {
    const size = Math.min(filtered ? Math.max(q.limit, FILTER_WINDOW) : q.limit, budget - scanned);
    const docs = await windowQuery(after, size).lean<ContactDoc[]>().exec();
    for (const doc of docs) {
      scanned++;
      after = doc._id;
      if (!keep(doc)) continue;
      out.push(doc);
      if (out.length === q.limit) return { contacts: out, next: encodeCursor(doc._id), pushedDown: !filtered, scanned };
    }
    if (docs.length < size) return { contacts: out, next: null, pushedDown: !filtered, scanned };
    // The budget is spent: `next` continues after the last contact examined.
    if (scanned >= budget) return { contacts: out, next: encodeCursor(after!), pushedDown: !filtered, scanned };
  }
}
