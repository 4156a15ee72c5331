/**
 * Bad bytes and depth: invalid UTF-8 anywhere in a JSON body is a 400 naming the field (never stored
 * as replacement characters), and a body nested deeper than MAX_JSON_DEPTH is a 400, never a stack
 * overflow or a 500.
 */
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../../server/app';
import { MAX_JSON_DEPTH } from '../../../server/api/json-body';
import { loadConfig } from '../../../lib/config';
import { useTestDatabase } from '../../helpers/db';
import { initDatabase } from '../../../data/db';
import { ContactModel } from '../../../data/contact-model';

const API_KEY = 'json-body-key-0123456789abcdef0123456789';

describe('JSON bodies: strict UTF-8 and bounded depth', () => {
  useTestDatabase('json');
  let app: FastifyInstance;
  const post = (url: string, body: Buffer | string) =>
    app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, payload: body });
  beforeAll(async () => {
    await initDatabase();
    app = await buildServer({ config: { ...loadConfig({ SOJOURN_ENV: 'development' }), apiKey: API_KEY }, logLevel: 'silent' });
    await app.ready();
  });
  afterAll(async () => app?.close());

  it('answers 400 naming the field for invalid UTF-8 in any value or property name, and stores nothing', async () => {
    const bad = [Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xe2, 0x82]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xf4, 0x90, 0x80, 0x80])];
    const cases: { parts: (string | Buffer)[]; pointer: string }[] = [];
    for (const b of bad) {
      cases.push({ parts: ['{"email":"a', b, '@example.com"}'], pointer: '/email' });
      cases.push({ parts: ['{"email":"a@example.com","firstName":"', b, '"}'], pointer: '/firstName' });
      cases.push({ parts: ['{"email":"a@example.com","tags":["ok","x', b, '"]}'], pointer: '/tags/1' });
      cases.push({ parts: ['{"email":"a@example.com","attributes":{"k\\"/~":"', b, '"}}'], pointer: '/attributes/k"~1~0' });
      cases.push({ parts: ['{"email":"a@example.com","attr', b, '":1}'], pointer: '/attr' });
    }
    const before = await ContactModel.countDocuments();
    for (const c of cases) {
      const res = await post('/v1/contacts', Buffer.concat(c.parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))));
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'E_BAD_UTF8', pointer: c.pointer });
    }
    expect(await ContactModel.countDocuments()).toBe(before);
    // Valid multi-byte text (and a real U+FFFD) still goes through.
    const ok = await post('/v1/contacts', Buffer.from('{"email":"utf8.ok@example.com","firstName":"Zoë 张 \uFFFD 🙂"}'));
    expect(ok.statusCode).toBe(201);
    expect(ok.json().contact.firstName).toBe('Zoë 张 \uFFFD 🙂');
    console.log(`invalid UTF-8: ${cases.length} bodies refused with the field's pointer, 0 stored`);
  });

  it(`refuses bodies nested deeper than ${MAX_JSON_DEPTH} with a 400 and the pointer, at any depth up to 100,000`, async () => {
    // Two levels are the body and `data`; so MAX_JSON_DEPTH - 1 arrays make one level too many.
    for (const depth of [MAX_JSON_DEPTH - 1, 5_000, 100_000]) {
      const res = await post('/v1/events', `{"contactId":"65a1b2c3d4e5f60718293a4b","name":"order.completed","data":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('E_TOO_DEEP');
      expect(res.json().error.pointer).toMatch(/^\/data\/a(\/0)*$/);
    }
    const fine = await post('/v1/events', `{"contactId":"65a1b2c3d4e5f60718293a4b","name":"order.completed","data":{"a":${'['.repeat(MAX_JSON_DEPTH - 2)}${']'.repeat(MAX_JSON_DEPTH - 2)}}}`);
    expect(fine.statusCode).toBe(404);
    expect(fine.json().error.code).toBe('E_NOT_FOUND');
  });
});
