import { Types } from 'mongoose';
import { useApiServer } from './api-server';
import { ContactModel } from '../../../data/contact-model';
import { ConsentRecordModel } from '../../../data/consent-model';
import { SuppressionModel } from '../../../data/suppression-model';
import { emptyContact } from '../../../data/contact-merge';

/** Seeds `n` contacts with bulk insertMany (the listing is under test, not the upsert). */
let serial = 0;
/** Contacts listed by the integration test; bench/contacts-list.bench.ts runs the same check with 100,000. */
const SEEDED = 500;
/** An ObjectId from an earlier second (random tail), i.e. inside the range a listing already walks. */
const pastId = (seconds: number) => new Types.ObjectId(seconds.toString(16).padStart(8, '0') + new Types.ObjectId().toHexString().slice(8));
async function seed(n: number, tag: (i: number) => string = (i) => (i % 2 ? 'odd' : 'even'), newId = () => new Types.ObjectId()): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 1000) {
    const docs = Array.from({ length: Math.min(1000, n - i) }, (_, j) => {
      const d = emptyContact(newId(), new Date(), 'seed');
      const n = serial++;
      Object.assign(d, { email: `p${n}@example.com`, emailKey: `p${n}@example.com`, tags: [tag(i + j)], firstName: `P${n}`, erasedAt: null, rev: 0 });
      ids.push(String(d._id));
      return d;
    });
    await ContactModel.collection.insertMany(docs as never[], { ordered: false });
  }
  return ids;
}

jest.setTimeout(60_000);

describe('contacts for integrators', () => {
  const api = useApiServer('api_contacts', {
    segments: { odd: { name: 'odd', expr: { source: '"odd" in contact.tags' }, filter: { tags: 'odd' } } as never },
  });

  it('lists every contact exactly once, page by page, while contacts are inserted concurrently', async () => {
    // A smaller version of bench/contacts-list.bench.ts (100,000 contacts): on FerretDB/SQLite, which
    // serves only _id equality from an index, every page scans the collection.
    const seeded = await seed(SEEDED);
    const seen = new Map<string, number>();
    // Concurrent inserts, bounded so the listing can finish: new ids after the seeded ones, and ids
    // inside the seeded range (timestamps in the past), which may land behind or ahead of the cursor.
    let inserting = true;
    const inserted: string[] = [];
    const start = Math.floor(Date.now() / 1000) - 3600;
    const writer = (async () => {
      for (let b = 0; b < 6 && inserting; b++) {
        inserted.push(...(await seed(25, () => 'late', b % 2 ? () => pastId(start + Math.floor(Math.random() * 3500)) : undefined)));
      }
    })();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await api.call('GET', `/v1/contacts?limit=100&fields=tags${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status).toBe(200);
      const body = r.json();
      for (const c of body.contacts) {
        seen.set(c.id, (seen.get(c.id) ?? 0) + 1);
        expect(Object.keys(c).sort()).toEqual(['id', 'tags']);
      }
      cursor = body.next;
      pages++;
    } while (cursor && pages < 1000);
    inserting = false;
    await writer;
    expect(inserted.length).toBeGreaterThan(0);
    for (const id of seeded) expect(seen.get(id)).toBe(1);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    const extra = [...seen.keys()].filter((id) => !seeded.includes(id));
    expect(extra.every((id) => inserted.includes(id))).toBe(true);
    console.log(`listed ${seeded.length} seeded contacts in ${pages} pages, each once; ${inserted.length} inserted meanwhile, ${extra.length} of them seen`);
  }, 120_000);

  it('filters by tag, by segment and by update time, and refuses a cursor it did not issue', async () => {
    const byTag = (await api.call('GET', '/v1/contacts?tag=late&limit=5')).json();
    expect(byTag.contacts.length).toBe(5);
    expect(byTag.contacts.every((c: { tags: string[] }) => c.tags.includes('late'))).toBe(true);
    const seg = (await api.call('GET', '/v1/contacts?segment=odd&limit=5')).json();
    expect(seg.pushedDown).toBe(true);
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
});
