import mongoose, { Types } from 'mongoose';
import { useApiServer } from './api-server';
import { ContactModel } from '../../../data/contact-model';
import { ConsentRecordModel } from '../../../data/consent-model';
import { SuppressionModel } from '../../../data/suppression-model';
import { listWhileInserting, pageTimes, seedContacts } from '../../../bench/contacts-list.bench';
import { IdempotencyModel } from '../../../data/idempotency-model';
import { IDEMPOTENCY_TTL_MS } from '../../../server/api/idempotency';
import { startIdempotencySweeper } from '../../../server/idempotency-sweeper';
import { planOf, tableReads } from '../../helpers/listing-plan';

/**
 * Contacts listed by the integration test: 2,000 in `npm test`; `npm run test:list-100k` runs the same
 * test with SOJOURN_LIST_CONTACTS=100000 (and bench/contacts-list.bench.ts times it).
 */
const SEEDED = Number(process.env.SOJOURN_LIST_CONTACTS ?? 2_000);
const LIST_LIMIT = SEEDED > 10_000 ? 1000 : 400;
const seed = (n: number, tag?: (i: number) => string, newId?: () => Types.ObjectId) => seedContacts(n, tag, newId);

jest.setTimeout(60_000);

describe('contacts for integrators', () => {
  const api = useApiServer('api_contacts', {
    segments: { odd: { name: 'odd', expr: { source: '"odd" in contact.tags' }, filter: { tags: 'odd' } } as never },
  });

  it('lists every contact exactly once, page by page, while contacts are inserted concurrently', async () => {
    // The same routine as bench/contacts-list.bench.ts. Seeding is bulk (insertMany of 1,000), untimed.
    const t0 = Date.now();
    const seeded = await seed(SEEDED);
    const seededMs = Date.now() - t0;
    const database = mongoose.connection.db!.databaseName;
    const before = await tableReads(database, 'contacts'); // only written to so far: nothing read is still to be reported
    const t1 = Date.now();
    const run = await listWhileInserting(async (url) => {
      const r = await api.call('GET', url);
      const body = r.json();
      for (const c of body.contacts) expect(Object.keys(c).sort()).toEqual(['id', 'tags']);
      return { status: r.status, body };
    }, seeded, SEEDED > 10_000 ? { limit: LIST_LIMIT, batches: Math.ceil(SEEDED / LIST_LIMIT), batchSize: 50 } : { limit: LIST_LIMIT });
    const listedMs = Date.now() - t1;
    expect(run.inserted).toBeGreaterThan(0);
    expect(run.pages).toBeGreaterThanOrEqual(SEEDED / LIST_LIMIT);
    expect({ missing: run.missing, duplicated: run.duplicated, unexpected: run.unexpected }).toEqual({ missing: [], duplicated: [], unexpected: [] });
    // What the database read: its plan for a page in the middle of the list, and (on PostgreSQL) its counters
    // for the whole listing: every contact fetched through the `_id` index about once, no row read by a scan.
    const middle = [...seeded].sort()[Math.floor(SEEDED / 2)];
    const plan = await planOf({ find: 'contacts', filter: { _id: { $gt: new Types.ObjectId(middle) } }, sort: { _id: 1 }, limit: LIST_LIMIT });
    expect(plan).toMatchObject({ pushedDown: { filter: true, sort: true, limit: true }, plan: plan.server === 'ferretdb' ? 'Limit > Index Scan' : 'IXSCAN' });
    expect(plan.rowsRead).toBeLessThanOrEqual(LIST_LIMIT);
    const after = await tableReads(database, 'contacts', { settled: true });
    let reads = '';
    if (before && after) {
      const seqRowsRead = after.seqRowsRead - before.seqRowsRead;
      const indexRowsFetched = after.indexRowsFetched - before.indexRowsFetched;
      expect(seqRowsRead).toBeLessThan(SEEDED);
      expect(indexRowsFetched).toBeGreaterThanOrEqual(SEEDED);
      expect(indexRowsFetched).toBeLessThanOrEqual(SEEDED + run.inserted + run.pages * LIST_LIMIT);
      reads = `; PostgreSQL read ${indexRowsFetched} rows through the _id index (${(indexRowsFetched / run.pages).toFixed(0)} per page) and ${seqRowsRead} by scans (${after.seqScans - before.seqScans} scans)`;
    }
    console.log(`seeded ${SEEDED} contacts in ${(seededMs / 1000).toFixed(1)} s; listed them in ${run.pages} pages of ${LIST_LIMIT} in ${(listedMs / 1000).toFixed(1)} s, each once; ${run.inserted} inserted meanwhile, ${run.insertedSeen} of them seen; ${pageTimes(run).text}; page plan: ${plan.plan}, ${plan.rowsRead} rows${reads}`);
  }, Math.max(180_000, SEEDED * 20));

  it('filters by tag, by segment and by update time, and refuses a cursor it did not issue', async () => {
    const byTag = (await api.call('GET', '/v1/contacts?tag=late&limit=5')).json();
    expect(byTag.contacts.length).toBe(5);
    expect(byTag.contacts.every((c: { tags: string[] }) => c.tags.includes('late'))).toBe(true);
    const seg = (await api.call('GET', '/v1/contacts?segment=odd&limit=5')).json();
    expect(seg.pushedDown).toBe(false);
    expect(seg.contacts.every((c: { tags: string[] }) => c.tags.includes('odd'))).toBe(true);
    const future = (await api.call('GET', `/v1/contacts?updatedSince=${new Date(Date.now() + 3600_000).toISOString()}`)).json();
    expect(future.contacts).toEqual([]);
    expect(future.next).toBeNull();
    const unknown = await api.call('GET', '/v1/contacts?segment=nope');
    expect(unknown.status).toBe(404);
    const bad = await api.call('GET', '/v1/contacts?cursor=not-a-cursor');
    expect(bad.status).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'E_CURSOR', pointer: '/query/cursor' });
    const field = await api.call('GET', '/v1/contacts?fields=tags,password');
    expect(field.json().error).toMatchObject({ code: 'E_FIELD', pointer: '/query/fields' });
  });

  it('changes only the fields a merge patch names; null removes; attributes merge by key', async () => {
    const created = (await api.call('POST', '/v1/contacts', { email: 'patch@example.com', firstName: 'Pat', lastName: 'Old', attributes: { plan: 'free', seats: 2 }, tags: ['a'] })).json();
    const id = created.id;
    const r = await api.call('PATCH', `/v1/contacts/${id}`, { lastName: null, timezone: 'Asia/Shanghai', attributes: { plan: 'pro', seats: null }, tags: ['b', 'C'] }, { 'content-type': 'application/merge-patch+json' });
    expect(r.status).toBe(200);
    const body = r.json();
    expect(body.changed).toBe(true);
    expect(body.contact).toMatchObject({ firstName: 'Pat', lastName: null, timezone: 'Asia/Shanghai', attributes: { plan: 'pro' }, tags: ['b', 'c'] });
    expect(body.contact.attributes).not.toHaveProperty('seats');
    const again = (await api.call('PATCH', `/v1/contacts/${id}`, { timezone: 'Asia/Shanghai' })).json();
    expect(again.changed).toBe(false);
    const stored = await ContactModel.findById(id).lean();
    expect(stored).not.toHaveProperty('lastName');
  });

  it('refuses a bad patch with the JSON pointer of the field and writes nothing', async () => {
    const id = (await api.call('POST', '/v1/contacts', { email: 'badpatch@example.com', firstName: 'B' })).json().id;
    const before = await ContactModel.findById(id).lean();
    const unknownField = await api.call('PATCH', `/v1/contacts/${id}`, { email: 'other@example.com' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.json().error).toMatchObject({ code: 'E_VALIDATION', pointer: '/email' });
    const badAttr = await api.call('PATCH', `/v1/contacts/${id}`, { attributes: { 'a b': 1 } });
    expect(badAttr.status).toBe(400);
    expect(badAttr.json().error.pointer).toBe('/attributes/a b');
    const missing = await api.call('PATCH', `/v1/contacts/${new Types.ObjectId()}`, { firstName: 'X' });
    expect(missing.status).toBe(404);
    expect(await ContactModel.findById(id).lean()).toEqual(before);
  });

  it('records a consent change with its evidence, and never lifts an unsubscribe', async () => {
    const id = (await api.call('POST', '/v1/contacts', { email: 'consent@example.com' })).json().id;
    const evidence = { wording: 'signup-form-v3', ip: '203.0.113.9', userAgent: 'Mozilla/5.0', source: 'crm' };
    const sub = await api.call('POST', `/v1/contacts/${id}/consent`, { channel: 'email', status: 'subscribed', evidence });
    expect(sub.status).toBe(200);
    expect(sub.json()).toMatchObject({ changed: true, consent: { email: 'subscribed' } });
    const record = await ConsentRecordModel.findOne({ recordId: sub.json().recordId }).lean();
    expect(record).toMatchObject({ contactId: id, status: 'subscribed', wording: 'signup-form-v3', ip: '203.0.113.9', userAgent: 'Mozilla/5.0', source: 'api:crm' });
    await api.call('POST', `/v1/contacts/${id}/consent`, { channel: 'email', status: 'unsubscribed', evidence });
    const back = (await api.call('POST', `/v1/contacts/${id}/consent`, { channel: 'email', status: 'subscribed', evidence })).json();
    expect(back).toMatchObject({ changed: false, consent: { email: 'unsubscribed' } });
    expect(back.ignored[0].code).toBe('E_CONSENT_LOCKED');
    const noEvidence = await api.call('POST', `/v1/contacts/${id}/consent`, { channel: 'email', status: 'subscribed' });
    expect(noEvidence.json().error).toMatchObject({ code: 'E_VALIDATION', pointer: '/evidence' });
  });

  it('adds, checks and removes suppressions by address, storing only the hash', async () => {
    const add = await api.call('POST', '/v1/suppressions', { email: 'Block.Me@Example.com' });
    expect(add.status).toBe(201);
    expect(add.json()).toMatchObject({ suppressed: true, reason: 'manual', created: true });
    expect((await api.call('POST', '/v1/suppressions', { email: 'block.me@example.com' })).status).toBe(200);
    expect((await api.call('POST', '/v1/suppressions/check', { email: 'BLOCK.ME@example.com' })).json()).toMatchObject({ suppressed: true, reason: 'manual' });
    const raw = JSON.stringify(await SuppressionModel.find({}).lean());
    expect(raw.toLowerCase()).not.toContain('block.me');
    expect((await api.call('POST', '/v1/suppressions/remove', { email: 'block.me@example.com' })).json()).toMatchObject({ removed: true, suppressed: false });
    expect((await api.call('POST', '/v1/suppressions/check', { email: 'block.me@example.com' })).json().suppressed).toBe(false);
    const bad = await api.call('POST', '/v1/suppressions/check', { email: 'not an address' });
    expect(bad.status).toBe(400);
    expect(bad.json().error.pointer).toBe('/email');
  });

  it('answers a POST replayed with the same Idempotency-Key with the first response, running nothing twice', async () => {
    const key = { 'idempotency-key': 'create-ida-1' };
    const first = await api.call('POST', '/v1/contacts', { email: 'ida@example.com', firstName: 'Ida' }, key);
    expect(first.status).toBe(201);
    const second = await api.call('POST', '/v1/contacts', { email: 'ida@example.com', firstName: 'Ida' }, key);
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.text).toBe(first.text);
    const other = await api.call('POST', '/v1/contacts', { email: 'ida@example.com', firstName: 'Other' }, key);
    expect(other.status).toBe(422);
    expect(other.json().error.code).toBe('E_IDEMPOTENCY_KEY_REUSED');
    const noKey = await api.call('POST', '/v1/contacts', { email: 'ida@example.com', firstName: 'Ida' });
    expect(noKey.status).toBe(200);
    expect(noKey.headers.get('idempotent-replayed')).toBeNull();
    // Concurrent first requests with one key: one runs, the others get its answer or "in progress".
    const k2 = { 'idempotency-key': 'sup-race' };
    const all = await Promise.all(Array.from({ length: 5 }, () => api.call('POST', '/v1/suppressions', { email: 'race@example.com' }, k2)));
    const ran = all.filter((r) => r.headers.get('idempotent-replayed') === null && r.status !== 409);
    expect(ran.length).toBe(1);
    expect(all.every((r) => [201, 409].includes(r.status))).toBe(true);
  });

  it('sweeps Idempotency-Key records older than 24 hours: the key then runs anew, a younger key still replays', async () => {
    const body = { email: 'swept@example.com', firstName: 'Swept' };
    expect((await api.call('POST', '/v1/contacts', body, { 'idempotency-key': 'sweep-old' })).status).toBe(201);
    await new Promise((r) => setTimeout(r, 20));
    const boundary = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    expect((await api.call('POST', '/v1/contacts', body, { 'idempotency-key': 'sweep-young' })).status).toBe(200);
    const before = await IdempotencyModel.countDocuments({});
    // 24 hours after the boundary: every key created before it has expired, the young one has not.
    const sweeper = startIdempotencySweeper({ now: () => new Date(boundary + IDEMPOTENCY_TTL_MS), intervalMs: 3600_000 });
    const removed = await sweeper.runOnce();
    await sweeper.stop();
    expect(removed).toBe(before - 1);
    expect(await IdempotencyModel.countDocuments({})).toBe(1);
    const old = await api.call('POST', '/v1/contacts', body, { 'idempotency-key': 'sweep-old' });
    expect(old.headers.get('idempotent-replayed')).toBeNull();
    expect(old.status).toBe(200); // ran again: the contact exists now, so it merges
    const young = await api.call('POST', '/v1/contacts', body, { 'idempotency-key': 'sweep-young' });
    expect(young.headers.get('idempotent-replayed')).toBe('true');
  });
});
