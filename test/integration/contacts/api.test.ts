import Fastify, { type FastifyInstance } from 'fastify';
import { useContactsDatabase, TEST_KEYS } from './setup';
import { apiPlugin } from '../../../server/api';
import { loadConfig } from '../../../lib/config';
import { ContactModel } from '../../../data/contact-model';
import { ContactEventModel } from '../../../data/contact-event-model';
import type { SojournEvent } from '../../../data/contact-event-model';
import { createIngest } from '../../../engine/ingest';

describe('the HTTP API under /v1', () => {
  const { contacts } = useContactsDatabase('api');
  const config = { ...loadConfig({ SOJOURN_ENV: 'development' }), apiKey: 'test-key', ...TEST_KEYS };
  const told: SojournEvent[] = [];
  let app: FastifyInstance;
  const auth = { authorization: 'Bearer test-key' };

  let base = '';
  // Real HTTP over loopback (fastify's inject pulls in an ESM-only dependency jest can't load here).
  const call = async (o: { method: string; url: string; headers?: Record<string, string>; payload?: unknown }) => {
    const res = await fetch(base + o.url, {
      method: o.method,
      headers: { ...(o.payload !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers },
      body: o.payload !== undefined ? JSON.stringify(o.payload) : undefined,
    });
    const text = await res.text();
    return { statusCode: res.status, json: () => JSON.parse(text) };
  };
  beforeAll(async () => {
    app = Fastify();
    await app.register(apiPlugin, {
      // The real ingest; the engine side records what it is handed (the Temporal path: test/integration/engine/ingest-outbox.test.ts).
      config, contacts, ingest: createIngest({ contacts, dispatcher: { dispatch: async (e) => void told.push(e) } }).ingest,
      segments: { vips: { name: 'vips', expr: { source: '"vip" in contact.tags' }, filter: null } },
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => app.close());

  it('refuses requests without the API key', async () => {
    const r = await call({ method: 'GET', url: '/v1/contacts/000000000000000000000000' });
    expect(r.statusCode).toBe(401);
    expect(r.json().error.code).toBe('E_AUTH');
  });

  it('changes nothing when the same upsert request is sent twice', async () => {
    const body = { email: 'Twice@Example.com', firstName: 'Tw', tags: ['a'], phone: '+86 138 0013 8001', consent: { email: 'subscribed' } };
    const first = await call({ method: 'PUT', url: '/v1/contacts', headers: auth, payload: body });
    expect(first.statusCode).toBe(201);
    const before = await ContactModel.findById(first.json().id).lean();
    const second = await call({ method: 'PUT', url: '/v1/contacts', headers: { 'x-api-key': 'test-key' }, payload: body });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ id: first.json().id, created: false, changed: false });
    expect(await ContactModel.findById(first.json().id).lean()).toEqual(before);
  });

  it('answers a bad field with its JSON pointer and writes nothing', async () => {
    const count = await ContactModel.countDocuments();
    const bad = await call({ method: 'POST', url: '/v1/contacts', headers: auth, payload: { email: 'x@example.com', consent: { email: 'maybe' } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'E_VALIDATION', pointer: '/consent/email' });
    const typo = await call({ method: 'POST', url: '/v1/contacts', headers: auth, payload: { email: 'x@example.com', frstName: 'X' } });
    expect(typo.json().error).toMatchObject({ code: 'E_VALIDATION', pointer: '/frstName' });
    const badPhone = await call({ method: 'POST', url: '/v1/contacts?strict=true', headers: auth, payload: { email: 'x@example.com', phone: '+86 12' } });
    expect(badPhone.statusCode).toBe(400);
    expect(badPhone.json().error).toMatchObject({ code: 'E_PHONE_INVALID', pointer: '/phone' });
    const badAddress = await call({ method: 'POST', url: '/v1/contacts', headers: auth, payload: { email: 'x@@example.com', phone: '+86 138 0013 8000' } });
    expect(badAddress.statusCode).toBe(400);
    expect(badAddress.json().error).toMatchObject({ code: 'E_EMAIL_SYNTAX', pointer: '/email' });
    expect(await ContactModel.countDocuments()).toBe(count);
  });

  it('keeps a sign-up with a valid address and a bad phone: stored without the phone, the warning names the field', async () => {
    const r = await call({ method: 'POST', url: '/v1/contacts', headers: auth, payload: { email: 'keep.me@example.com', phone: 'n/a', birthday: '31/04', timezone: 'EST', consent: { email: 'subscribed' } } });
    expect(r.statusCode).toBe(201);
    const body = r.json();
    expect(body.warnings).toEqual([
      expect.objectContaining({ code: 'E_PHONE_SYNTAX', pointer: '/phone', kind: 'dropped' }),
      expect.objectContaining({ code: 'W_TIMEZONE_GUESSED', pointer: '/timezone', kind: 'guessed' }),
      expect.objectContaining({ code: 'E_BIRTHDAY_ORDER', pointer: '/birthday', kind: 'dropped' }),
    ]);
    const stored = await ContactModel.findById(body.id).lean();
    expect(stored).toMatchObject({ email: 'keep.me@example.com', phones: [], timezone: 'America/New_York', consent: { email: { status: 'subscribed' } } });
    expect(stored!.birthday ?? null).toBeNull();
    // The sign-up is announced like any other (the journey starts for the person who was kept).
    expect(told.some((e) => e.contactId === body.id && e.name === 'contact.created')).toBe(true);
    // Strict: the same request is refused, naming the first bad field, and nothing else is written.
    const count = await ContactModel.countDocuments();
    const strict = await call({ method: 'POST', url: '/v1/contacts?strict=true', headers: auth, payload: { email: 'strict.one@example.com', phone: 'n/a' } });
    expect(strict.statusCode).toBe(400);
    expect(strict.json().error).toMatchObject({ code: 'E_PHONE_SYNTAX', pointer: '/phone' });
    expect(await ContactModel.countDocuments()).toBe(count);
    const wrongQuery = await call({ method: 'POST', url: '/v1/contacts?strict=yes', headers: auth, payload: { email: 'strict.two@example.com' } });
    expect(wrongQuery.statusCode).toBe(400);
    expect(wrongQuery.json().error).toMatchObject({ code: 'E_VALIDATION', pointer: '/querystring/strict' });
  });

  it('announces a new contact once (contact.created) and a changed address (contact.email_changed), never on a repeat', async () => {
    const body = { email: 'life@example.com', externalId: 'crm-life-1' };
    const { id } = (await call({ method: 'PUT', url: '/v1/contacts', headers: auth, payload: body })).json();
    await call({ method: 'PUT', url: '/v1/contacts', headers: auth, payload: body });
    await call({ method: 'PUT', url: '/v1/contacts', headers: auth, payload: { ...body, email: 'life.new@example.com' } });
    await call({ method: 'PUT', url: '/v1/contacts', headers: auth, payload: { ...body, email: 'life.new@example.com' } });
    expect(told.filter((e) => e.contactId === id).map((e) => e.name)).toEqual(['contact.created', 'contact.email_changed']);
    expect(await ContactEventModel.countDocuments({ contactId: id })).toBe(2);
  });

  it('records an event once, tells the engine after storing it, and validates a whole batch before storing any', async () => {
    const { id } = (await call({ method: 'POST', url: '/v1/contacts', headers: auth, payload: { email: 'ev@example.com' } })).json();
    const ev = { eventId: 'click-1', contactId: id, name: 'email.clicked', at: '2026-05-01T08:00:00Z' };
    expect((await call({ method: 'POST', url: '/v1/events', headers: auth, payload: ev })).json()).toEqual({ eventId: 'click-1', duplicate: false, dispatched: true });
    expect((await call({ method: 'POST', url: '/v1/events', headers: auth, payload: ev })).json()).toEqual({ eventId: 'click-1', duplicate: true, dispatched: true });
    expect(told.filter((e) => e.contactId === id).map((e) => e.eventId)).toEqual([`contact.created:${id}`, 'click-1']);
    const batch = { events: [{ eventId: 'b1', contactId: id, name: 'order.completed', data: { amount: 3 } }, { eventId: 'b2', contactId: id, name: 'Bad Name' }] };
    const r = await call({ method: 'POST', url: '/v1/events/batch', headers: auth, payload: batch });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.pointer).toBe('/events/1/name');
    expect(await ContactEventModel.countDocuments({ eventId: 'b1' })).toBe(0);
    const got = (await call({ method: 'GET', url: `/v1/contacts/${id}`, headers: auth })).json();
    expect(got.contact.engagement.clicks).toBe(1);
  });

  it('answers 202 (stored, not yet dispatched) when the engine is down, and dispatches on a retried request', async () => {
    let fail = true;
    const flaky = Fastify();
    const seen: string[] = [];
    const dispatcher = { dispatch: async (e: SojournEvent) => { if (fail) throw new Error('engine down'); seen.push(e.eventId); } };
    await flaky.register(apiPlugin, { config, contacts, ingest: createIngest({ contacts, dispatcher }).ingest });
    const url = await flaky.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { id } = (await call({ method: 'POST', url: '/v1/contacts', headers: auth, payload: { email: 'flaky@example.com' } })).json();
      const send = () => fetch(`${url}/v1/events`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ eventId: 'sig-1', contactId: id, name: 'contact.signup' }) });
      const down = await send();
      expect([down.status, await down.json()]).toEqual([202, { eventId: 'sig-1', duplicate: false, dispatched: false }]);
      expect(await ContactEventModel.countDocuments({ eventId: 'sig-1' })).toBe(1);
      fail = false;
      const retried = await send();
      expect([retried.status, await retried.json()]).toEqual([200, { eventId: 'sig-1', duplicate: true, dispatched: true }]);
      expect(await (await send()).json()).toEqual({ eventId: 'sig-1', duplicate: true, dispatched: true });
      expect(seen).toEqual(['sig-1']);
    } finally {
      await flaky.close();
    }
  });

  it('adds and removes tags, searches by a segment expression, exports and erases', async () => {
    const { id } = (await call({ method: 'POST', url: '/v1/contacts', headers: auth, payload: { email: 'seg@example.com', tags: ['old'] } })).json();
    await call({ method: 'POST', url: `/v1/contacts/${id}/tags`, headers: auth, payload: { tags: ['VIP'] } });
    const del = await call({ method: 'DELETE', url: `/v1/contacts/${id}/tags`, headers: auth, payload: { tags: ['old'] } });
    expect(del.json().tags).toEqual(['vip']);
    const found = await call({ method: 'POST', url: '/v1/contacts/search', headers: auth, payload: { expression: '"vip" in contact.tags' } });
    expect(found.json().contacts.map((c: { id: string }) => c.id)).toEqual([id]);
    const byName = (await call({ method: 'POST', url: '/v1/contacts/search', headers: auth, payload: { segment: 'vips' } })).json();
    expect(byName).toMatchObject({ pushedDown: false });
    expect(byName.contacts.map((c: { id: string }) => c.id)).toEqual([id]);
    const exp = await call({ method: 'GET', url: `/v1/contacts/${id}/export`, headers: auth });
    expect(exp.json().contact.email).toBe('seg@example.com');
    expect((await call({ method: 'DELETE', url: `/v1/contacts/${id}`, headers: auth })).json()).toMatchObject({ erased: true });
    expect((await call({ method: 'GET', url: `/v1/contacts/${id}`, headers: auth })).statusCode).toBe(404);
    const again = await call({ method: 'PUT', url: '/v1/contacts', headers: auth, payload: { email: 'SEG@example.com' } });
    expect(again.json().error.code).toBe('E_ERASED');
  });

  it('publishes an OpenAPI document of the routes', async () => {
    const doc = (await call({ method: 'GET', url: '/v1/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/contacts', '/v1/contacts/{id}', '/v1/events', '/v1/events/batch']));
  });
});
