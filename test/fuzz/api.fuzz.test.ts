/**
 * Fuzz: the real HTTP app (fastify, the real database) through inject. Generated paths for every
 * registered route and generated bodies (arbitrary JSON, mutated valid bodies, bad bytes, deep
 * nesting, huge strings): never a 5xx, never a throw or a hang, and nothing stored when refused.
 */
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { buildServer, registeredRoutes } from '../../server/app';
import { loadConfig } from '../../lib/config';
import { createIngest } from '../../engine/ingest';
import { useTestDatabase } from '../helpers/db';
import { initDatabase } from '../../data/db';
import { ContactModel } from '../../data/contact-model';
import { ContactEventModel } from '../../data/contact-event-model';
import { ConsentRecordModel } from '../../data/consent-model';
import { pathVariants } from '../helpers/path-variants';
import { report, runCase, tally } from './harness';

const API_KEY = 'fuzz-api-key-0123456789abcdef0123456789';
const valid = { email: 'fuzz.valid@example.com', firstName: 'Fu', phone: '+86 138 0013 8000', tags: ['a'], consent: { email: 'subscribed' }, timezone: 'Asia/Shanghai', locale: 'zh-CN', attributes: { plan: 'gold' } };

const body: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 6 }),
  fc.record({ email: fc.oneof(fc.string(), fc.emailAddress(), fc.constant('a@exa_mple.com')), firstName: fc.oneof(fc.string({ maxLength: 300 }), fc.integer()), consent: fc.record({ email: fc.string() }), tags: fc.array(fc.string({ maxLength: 80 }), { maxLength: 120 }) }, { requiredKeys: [] }),
  fc.tuple(fc.constantFrom(...Object.keys(valid)), fc.jsonValue({ maxDepth: 3 })).map(([k, v]) => ({ ...valid, email: 'fuzz.mut@example.com', [k]: v })),
  fc.tuple(fc.constantFrom('frstName', '__proto__', 'constructor', 'x'.repeat(500)), fc.jsonValue()).map(([k, v]) => JSON.parse(`{"email":"fuzz.extra@example.com",${JSON.stringify(k)}:${JSON.stringify(v ?? null)}}`) as object),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.concat([Buffer.from('{"email":"x'), Buffer.from(b), Buffer.from('@example.com"}')])),
  fc.integer({ min: 30, max: 20_000 }).map((n) => `{"contactId":"65a1b2c3d4e5f60718293a4b","name":"order.completed","data":{"a":${'['.repeat(n)}${']'.repeat(n)}}}`),
  fc.integer({ min: 1000, max: 200_000 }).map((n) => JSON.stringify({ ...valid, email: 'fuzz.big@example.com', firstName: 'x'.repeat(n) })),
  fc.record({ expression: fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom('contact.firstName.matches("^(a+)+$")', 'contact.tags.all(a, contact.tags.all(b, a == b))', `${'('.repeat(400)}`)), limit: fc.integer({ min: -5, max: 2000 }) }, { requiredKeys: [] }),
);

describe('fuzz: API bodies and paths', () => {
  useTestDatabase('fuzzapi');
  let app: FastifyInstance;
  beforeAll(async () => {
    await initDatabase();
    app = await buildServer({ config: { ...loadConfig({ SOJOURN_ENV: 'development' }), apiKey: API_KEY }, logLevel: 'silent', ingest: createIngest({ dispatcher: null }) });
    await app.ready();
  }, 60_000); // initDatabase and the app take more than jest's 5 s on a loaded box
  afterAll(async () => app?.close());

  const counts = async () => Promise.all([ContactModel.countDocuments(), ContactEventModel.countDocuments(), ConsentRecordModel.countDocuments()]);

  it('answers 1,500 generated requests without a 5xx, a throw or a hang, storing nothing it refuses', async () => {
    const t = tally();
    const statuses: Record<string, number> = {};
    const routes = registeredRoutes(app).filter((r) => r.url.startsWith('/v1') || r.url.startsWith('/bounces'));
    const cases = fc.sample(fc.tuple(fc.constantFrom(...routes), body, fc.nat(), fc.boolean(), fc.constantFrom('application/json', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded')), { numRuns: 1500, seed: 99 });
    let before = await counts();
    for (const [route, b, pick, withKey, type] of cases) {
      const variants = pathVariants(route.url.replace(/:[A-Za-z]+/g, pick % 3 === 0 ? '65a1b2c3d4e5f60718293a4b' : String(pick)));
      const url = variants[pick % variants.length];
      const payload = Buffer.isBuffer(b) || typeof b === 'string' ? b : JSON.stringify(b);
      const input = { method: route.method, url, withKey, type, payload };
      await runCase(t, input, () => app.inject({ method: route.method as 'POST', url, payload: route.method === 'GET' || route.method === 'HEAD' ? undefined : payload, headers: { 'content-type': type, ...(withKey ? { authorization: `Bearer ${API_KEY}` } : {}) } }), async (res) => {
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        if (res.statusCode >= 500) return `answered ${res.statusCode}: ${res.body.slice(0, 200)}`;
        // GET and HEAD store nothing by design; every refused write is checked against the database.
        if (res.statusCode >= 400 && route.method !== 'GET' && route.method !== 'HEAD') {
          const after = await counts();
          if (after.some((n, i) => n !== before[i])) return `refused with ${res.statusCode} but stored something (${before} -> ${after})`;
        } else if (res.statusCode < 400) before = await counts();
        return null;
      });
    }
    console.log(report('API bodies and paths', t, `status codes ${JSON.stringify(statuses)}`));
    expect(t.failures).toEqual([]);
    expect(t.cases).toBe(1500);
  }, 300_000);
});
