/**
 * A page of `GET /v1/contacts` costs O(page size) on the local database, whatever the number of
 * contacts: every command the listing sends is an ObjectId range on `_id`, sorted by `_id`, limited
 * (watched with the driver's command monitoring), and the database's own plan for it reads at most
 * `limit` rows from the `_id` index: on FerretDB over PostgreSQL a `Limit` over an `Index Scan` with
 * the range as its index condition, and LIMIT and ORDER BY pushed down (the provisioning's patches,
 * scripts/provision.ts FERRETDB_PATCHES); on MongoDB an `_id` index scan that examines `limit`
 * documents; and PostgreSQL's counters (pg_stat_user_tables) around three pages show exactly their
 * sizes' rows fetched through the index and none read by a scan. On FerretDB built without those patches the same test fails:
 * its plan is a `Seq Scan` of the whole collection, sorted and limited afterwards by FerretDB.
 *
 * And the order the database sorts by is BSON's: FerretDB stores an ObjectId as its hex string in
 * jsonb, whose order (C collation) must be the ObjectId's byte order, or pages would skip contacts.
 */
import mongoose, { Types } from 'mongoose';
import type { CommandStartedEvent } from 'mongodb';
import { initDatabase } from '../../../data/db';
import { ContactModel } from '../../../data/contact-model';
import { listContacts, MIN_ID, SCAN_BUDGET } from '../../../data/contact-list';
import { seedContacts } from '../../../bench/contacts-list.bench';
import { uniqueDatabaseUri, HOOK_TIMEOUT_MS } from '../../helpers/db';
import { planOf, tableReads } from '../../helpers/listing-plan';

const SEEDED = 3_000;
const LIMIT = 100;

const byteOrder = (a: Types.ObjectId, b: Types.ObjectId) => Buffer.compare(a.id as Uint8Array, b.id as Uint8Array);

describe('listing contacts costs O(page size)', () => {
  const seen: CommandStartedEvent[] = [];
  let recording = false;
  const sqlite = process.env.MONGODB_URI && process.env.SOJOURN_DB_BACKEND === 'sqlite';

  beforeAll(async () => {
    await mongoose.connect(uniqueDatabaseUri('listing_cost'), { serverSelectionTimeoutMS: 10_000, monitorCommands: true });
    mongoose.connection.getClient().on('commandStarted', (e: CommandStartedEvent) => {
      if (recording && e.commandName === 'find') seen.push(e);
    });
    await initDatabase();
    await seedContacts(SEEDED);
  }, HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await mongoose.disconnect();
  }, HOOK_TIMEOUT_MS);

  // FerretDB on SQLite (SOJOURN_DB_BACKEND=sqlite) is not patched for ranges: there a page reads the whole
  // collection (docs/scaling.md), so the plan check below holds only on PostgreSQL and MongoDB.
  (sqlite ? it.skip : it)('asks only for an `_id` range with ORDER BY and LIMIT, which the database answers from the `_id` index', async () => {
    // PostgreSQL's own counters (null on MongoDB) around two pages: the first and one in the middle. Only the
    // cursor read precedes them, and the first count waits until the counters report it (settled).
    const database = mongoose.connection.db!.databaseName;
    // A cursor in the middle, taken before counting: a page of half the table may rightly be read by a
    // scan (PostgreSQL's planner picks it once statistics say so), which is not what is measured here.
    const cursor = (await listContacts({ limit: SEEDED / 2 + 1 })).next!;
    const before = await tableReads(database, 'contacts', { settled: true });
    recording = true;
    const first = await listContacts({ limit: LIMIT });
    const middle = await listContacts({ limit: LIMIT, cursor });
    recording = false;
    const after = await tableReads(database, 'contacts', { settled: true });
    if (before && after) {
      const read = { bySeqScan: after.seqRowsRead - before.seqRowsRead, throughIndex: after.indexRowsFetched - before.indexRowsFetched };
      console.log(`two pages of ${LIMIT} (the first, one in the middle) among ${SEEDED} contacts: PostgreSQL read ${read.throughIndex} rows through the _id index, ${read.bySeqScan} by scans`);
      expect(read).toEqual({ bySeqScan: 0, throughIndex: 2 * LIMIT });
    }
    expect(first.contacts).toHaveLength(LIMIT);
    expect(middle.contacts).toHaveLength(LIMIT);
    expect(first.scanned).toBe(LIMIT);

    const queries = seen.map((e) => e.command as unknown as { find: string; filter: { _id: Record<string, Types.ObjectId> }; sort: unknown; limit: number; skip?: number });
    expect(queries.length).toBeGreaterThanOrEqual(2);
    for (const q of queries) {
      const sort = q.sort instanceof Map ? Object.fromEntries(q.sort) : q.sort;
      expect({ keys: Object.keys(q.filter), ops: Object.keys(q.filter._id), sort, skip: q.skip }).toEqual({ keys: ['_id'], ops: [expect.stringMatching(/^\$gte?$/)], sort: { _id: 1 }, skip: undefined });
    }
    const pageQueries = queries.filter((q) => q.limit === LIMIT);
    expect(pageQueries).toHaveLength(2);
    for (const q of pageQueries) {
      const cost = await planOf({ find: q.find, filter: q.filter, sort: q.sort, limit: q.limit });
      console.log(`page plan (${cost.server}): ${cost.plan}; rows read: ${cost.rowsRead}; index condition: ${cost.indexCond}`);
      expect(cost).toEqual({
        server: expect.any(String),
        pushedDown: { filter: true, sort: true, limit: true },
        plan: cost.server === 'ferretdb' ? expect.stringMatching(/^Limit > Index Scan$/) : expect.stringMatching(/^IXSCAN$/),
        rowsRead: expect.any(Number),
        indexCond: expect.stringContaining('_id'),
      });
      expect(cost.rowsRead).toBeLessThanOrEqual(LIMIT);
    }
  });

  it('sorts ObjectIds in BSON (byte) order, with and without the sort pushed down, and skips other `_id` types', async () => {
    // Ids that differ in every position and across the digit/letter boundary, plus random ones.
    const hex = '0123456789abcdef';
    const ids: Types.ObjectId[] = [];
    for (let pos = 0; pos < 24; pos += 3) for (const c of '09af') ids.push(new Types.ObjectId('7'.repeat(pos) + c + '7'.repeat(23 - pos)));
    for (let i = 0; i < 60; i++) ids.push(new Types.ObjectId(Array.from({ length: 24 }, () => hex[Math.floor(Math.random() * 16)]).join('')));
    ids.push(new Types.ObjectId('ffffffffffffffffffffffff'), new Types.ObjectId('000000000000000000000001'));
    const coll = mongoose.connection.db!.collection('order_check');
    await coll.insertMany([...new Map(ids.map((id) => [id.toHexString(), id])).values()].map((_id) => ({ _id, n: 1 })));
    // Other `_id` types, which an ObjectId range never matches (BSON type bracketing).
    await coll.insertMany([{ _id: 'zzzzzzzzzzzzzzzzzzzzzzzz' }, { _id: '000' }, { _id: 42 }, { _id: { a: 1 } }] as never[]);
    const expected = [...new Set(ids.map((i) => i.toHexString()))].map((h) => new Types.ObjectId(h)).sort(byteOrder).map(String);

    const pushed = (await coll.find({ _id: { $gte: MIN_ID } }).sort({ _id: 1 }).limit(1000).toArray()).map((d) => String(d._id));
    const inMemory = (await coll.find({ _id: { $gte: MIN_ID }, n: 1 }).sort({ _id: 1 }).toArray()).map((d) => String(d._id));
    expect(pushed).toEqual(expected);
    expect(inMemory).toEqual(expected);
    // Descending, bounded on both sides, page by page: the same order.
    const mid = new Types.ObjectId(expected[Math.floor(expected.length / 2)]);
    const below = (await coll.find({ _id: { $lt: mid, $gte: MIN_ID } }).sort({ _id: -1 }).limit(5).toArray()).map((d) => String(d._id));
    expect(below).toEqual(expected.slice(expected.indexOf(String(mid)) - 5, expected.indexOf(String(mid))).reverse());
    const pages: string[] = [];
    let after: Types.ObjectId | null = null;
    for (;;) {
      const page: { _id: unknown }[] = await coll.find({ _id: after ? { $gt: after } : { $gte: MIN_ID } }).sort({ _id: 1 }).limit(7).toArray();
      pages.push(...page.map((d) => String(d._id)));
      if (page.length < 7) break;
      after = page[page.length - 1]._id as Types.ObjectId;
    }
    expect(pages).toEqual(expected);
  });

  it('returns each contact once across pages, skipping erased ones, and filters over a bounded scan', async () => {
    const ids = (await ContactModel.find({}, { _id: 1 }).sort({ _id: 1 }).lean()).map((d) => String(d._id));
    const erased = ids.filter((_, i) => i % 97 === 5);
    await ContactModel.updateMany({ _id: { $in: erased } }, { $set: { erasedAt: new Date() } });
    const listed: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listContacts({ limit: 250, cursor });
      expect(page.scanned).toBeLessThanOrEqual(500);
      listed.push(...page.contacts.map((c) => String(c._id)));
      cursor = page.next ?? undefined;
      pages++;
    } while (cursor);
    const erasedSet = new Set(erased);
    expect(listed).toEqual(ids.filter((id) => !erasedSet.has(id)));
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(listed.length / 250));

    // A rare tag: each request examines at most limit + SCAN_BUDGET contacts and the pages still add up.
    const rare = ids.filter((_, i) => i % 500 === 7);
    await ContactModel.updateMany({ _id: { $in: rare } }, { $addToSet: { tags: 'rare' } });
    const tagged: string[] = [];
    cursor = undefined;
    do {
      const page = await listContacts({ limit: 2, tag: 'RARE', cursor });
      expect(page.pushedDown).toBe(false);
      expect(page.scanned).toBeLessThanOrEqual(2 + SCAN_BUDGET);
      tagged.push(...page.contacts.map((c) => String(c._id)));
      cursor = page.next ?? undefined;
    } while (cursor);
    expect(tagged).toEqual(rare.filter((id) => !erasedSet.has(id)));
  }, 120_000);
});
