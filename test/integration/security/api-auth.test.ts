/**
 * Authentication is by route, not by URL text: every /v1 route (read from fastify's own route list)
 * is called without a key through a corpus of encoded, double-encoded, case-varied and slash-varied
 * paths. Whatever the router maps to a route must answer 401; anything else must be "no such route";
 * nothing is ever 2xx or 5xx.
 */
import type { FastifyInstance } from 'fastify';
import { buildServer, registeredRoutes } from '../../../server/app';
import { loadConfig } from '../../../lib/config';
import { useTestDatabase } from '../../helpers/db';
import { initDatabase } from '../../../data/db';
import { ContactModel } from '../../../data/contact-model';
import { pathVariants } from '../../helpers/path-variants';

const API_KEY = 'auth-corpus-key-0123456789abcdef0123456789';

describe('API authentication by route', () => {
  useTestDatabase('auth');
  let app: FastifyInstance;
  beforeAll(async () => {
    await initDatabase();
    app = await buildServer({ config: { ...loadConfig({ SOJOURN_ENV: 'development' }), apiKey: API_KEY }, logLevel: 'silent' });
    await app.ready();
  });
  afterAll(async () => app?.close());

  it('answers 401 to every encoded, double-encoded, case- and slash-varied path of every /v1 route without a key', async () => {
    const routes = registeredRoutes(app).filter((r) => r.url.startsWith('/v1') && r.url !== '/v1/openapi.json' || r.url === '/bounces');
    expect(routes.length).toBeGreaterThanOrEqual(9);
    const contact = await ContactModel.create({ email: 'auth@example.com', emailKey: 'auth@example.com', consent: { email: { state: 'subscribed' } } }).catch(() => null);
    const id = contact ? String(contact._id) : '65a1b2c3d4e5f60718293a4b';
    const before = await ContactModel.countDocuments();
    let cases = 0;
    let routed = 0;
    const failures: string[] = [];
    for (const r of routes) {
      const concrete = r.url.replace(/:[A-Za-z]+/g, id);
      let routedHere = 0;
      const variants = pathVariants(concrete);
      const wrongKeys = [{ authorization: 'Bearer ' }, { authorization: `Bearer ${API_KEY}x` }, { authorization: `Bearer ${API_KEY} x` }, { 'x-api-key': API_KEY.toUpperCase() }, { authorization: `Basic ${API_KEY}` }];
      // Every spelling without a key and with one wrong key; the canonical spelling with every wrong key.
      const calls = [...variants.flatMap((url, i) => [{ url, headers: {} }, { url, headers: wrongKeys[i % wrongKeys.length] }]), ...wrongKeys.map((headers) => ({ url: concrete, headers }))];
      for (const { url, headers } of calls) {
        {
          cases++;
          const res = await app.inject({ method: r.method as 'GET', url, headers: { ...headers, 'content-type': 'application/json' }, payload: r.method === 'GET' || r.method === 'HEAD' ? undefined : '{"email":"x@example.com","tags":["t"],"contactId":"' + id + '","name":"n"}' });
          const code = res.statusCode;
          if (code === 401) {
            routed++;
            routedHere++;
            continue;
          }
          const noRoute = code === 404 && (r.method === 'HEAD' || res.json().error?.code === 'E_NO_ROUTE');
          // A HEAD of a GET route answers 401 with no body; a 404 HEAD is not routed. Fastify refuses some raw paths with 400.
          if (!(noRoute || code === 400 && res.json().code === 'FST_ERR_BAD_URL')) failures.push(`${r.method} ${url} -> ${code} ${res.body.slice(0, 120)}`);
        }
      }
      if (routedHere === 0) failures.push(`${r.method} ${r.url}: no variant reached the route (the corpus is not testing it)`);
    }
    expect(failures).toEqual([]);
    expect(await ContactModel.countDocuments()).toBe(before);
    console.log(`auth corpus: ${routes.length} routes, ${cases} requests without a valid key, ${routed} reached a route and got 401, ${cases - routed} matched no route; 0 were 2xx or 5xx`);
  }, 120_000);

  it('accepts the key on the canonical path (so the 401s above are about the key)', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/contacts/65a1b2c3d4e5f60718293a4b', headers: { authorization: `Bearer ${API_KEY}` } });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('E_NOT_FOUND');
    const open = await app.inject({ method: 'GET', url: '/v1/openapi.json' });
    expect(open.statusCode).toBe(200);
  });
});
