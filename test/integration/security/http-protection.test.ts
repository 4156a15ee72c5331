/**
 * Security headers on every page (a CSP without scripts), rate limits on the API and the public
 * endpoints (429 with Retry-After; loopback exempt only in development mode), and one open counted
 * per token per window.
 */
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../../server/app';
import { loadConfig, type Config } from '../../../lib/config';
import { TokenSigner } from '../../../mail/tokens';
import { createIngest } from '../../../engine/ingest';
import { useTestDatabase } from '../../helpers/db';
import { initDatabase } from '../../../data/db';
import { ContactEventModel } from '../../../data/contact-event-model';

const API_KEY = 'http-protection-key-0123456789abcdef0123';
const HUMAN = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15';

describe('HTTP protection', () => {
  useTestDatabase('protect');
  const config: Config = { ...loadConfig({ SOJOURN_ENV: 'development' }), apiKey: API_KEY };
  const signer = new TokenSigner(config.secret);
  const apps: FastifyInstance[] = [];
  const server = async (c: Config) => {
    const app = await buildServer({ config: c, logLevel: 'silent', ingest: createIngest({ dispatcher: null }), now: () => new Date() });
    await app.ready();
    apps.push(app);
    return app;
  };
  let contactId = '';
  beforeAll(async () => {
    await initDatabase();
    const app = await server(config);
    const r = await app.inject({ method: 'POST', url: '/v1/contacts', headers: { authorization: `Bearer ${API_KEY}` }, payload: { email: 'protected@example.com', consent: { email: 'subscribed' } } });
    contactId = r.json().id;
  }, 60_000); // initDatabase and the app take more than jest's 5 s on a loaded box
  afterAll(async () => Promise.all(apps.map((a) => a.close())));

  it('sends a script-free CSP, no-framing, nosniff and no-referrer on every page, valid or not', async () => {
    const app = apps[0];
    const pages = [
      `/u/${signer.sign({ purpose: 'unsubscribe', contactId })}`,
      `/p/${signer.sign({ purpose: 'preferences', contactId })}`,
      `/c/${signer.sign({ purpose: 'confirm', contactId })}`,
      `/v/${signer.sign({ purpose: 'verify', contactId })}`,
      '/u/not-a-token', '/c/x.y',
    ];
    for (const url of pages) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("form-action 'self'");
      expect(csp).not.toMatch(/script-src/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
    }
    const pixel = await app.inject({ method: 'GET', url: `/o/${signer.sign({ purpose: 'open', contactId })}.gif` });
    expect(pixel.headers['cross-origin-resource-policy']).toBe('cross-origin');
    const api = await app.inject({ method: 'GET', url: '/v1/contacts/000000000000000000000000' });
    expect(api.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('limits each client address, answering 429 with Retry-After, and leaves other clients alone', async () => {
    const app = await server({ ...config, rateLimits: { apiPerMinute: 5, publicPerMinute: 4, exemptLoopback: true } });
    const api = (ip: string) => app.inject({ method: 'GET', url: '/v1/contacts/000000000000000000000000', remoteAddress: ip, headers: { authorization: `Bearer ${API_KEY}` } });
    const codes = [];
    for (let i = 0; i < 7; i++) codes.push((await api('203.0.113.5')).statusCode);
    expect(codes).toEqual([404, 404, 404, 404, 404, 429, 429]);
    const limited = await api('203.0.113.5');
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.json().error.code).toBe('E_RATE_LIMIT');
    expect((await api('198.51.100.9')).statusCode).toBe(404);
    const pub = (ip: string) => app.inject({ method: 'GET', url: '/u/not-a-token', remoteAddress: ip });
    const pubCodes = [];
    for (let i = 0; i < 6; i++) pubCodes.push((await pub('203.0.113.5')).statusCode);
    expect(pubCodes).toEqual([400, 400, 400, 400, 429, 429]);
    // Development mode exempts loopback (the demo and the test suites).
    for (let i = 0; i < 10; i++) expect((await pub('127.0.0.1')).statusCode).toBe(400);
    // Outside development mode the defaults hold and loopback is not exempt.
    const prod = loadConfig({ SOJOURN_API_KEY: API_KEY, SOJOURN_SECRET: 's'.repeat(32), SOJOURN_PHONE_KEY: '11'.repeat(32), SOJOURN_PAYLOAD_KEYS: `p1:${'22'.repeat(32)}` });
    expect(prod.rateLimits).toEqual({ apiPerMinute: 1200, publicPerMinute: 300, exemptLoopback: false });
  });

  it('counts one open per token per window: reloading the pixel stores nothing more', async () => {
    const app = apps[0];
    const before = await ContactEventModel.countDocuments({ contactId, name: 'email.opened' });
    const token = signer.sign({ purpose: 'open', contactId, now: new Date(Date.now() - 3600_000) });
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({ method: 'GET', url: `/o/${token}.gif`, headers: { 'user-agent': HUMAN } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('image/gif');
    }
    const opens = await ContactEventModel.countDocuments({ contactId, name: 'email.opened' });
    expect(opens - before).toBe(1);
    // Another token (another email) counts on its own.
    await app.inject({ method: 'GET', url: `/o/${signer.sign({ purpose: 'open', contactId, sendRef: 'b'.repeat(32), now: new Date(Date.now() - 3600_000) })}.gif`, headers: { 'user-agent': HUMAN } });
    expect(await ContactEventModel.countDocuments({ contactId, name: 'email.opened' }) - before).toBe(2);
  });
});
