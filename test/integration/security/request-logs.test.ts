/**
 * Request logs carry the method, the route pattern and the status, never a token, a query string, an
 * email address or a client address; and the client address is the socket's unless a proxy is
 * configured as trusted (X-Forwarded-For from anyone else is ignored).
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../../server/app';
import { loadConfig } from '../../../lib/config';
import { TokenSigner } from '../../../mail/tokens';
import { useTestDatabase } from '../../helpers/db';
import { initDatabase } from '../../../data/db';
import { ConsentRecordModel } from '../../../data/consent-model';

const API_KEY = 'request-log-key-0123456789abcdef012345';

function capture(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { stream, lines };
}

describe('request logs and client addresses', () => {
  useTestDatabase('logs');
  const config = { ...loadConfig({ SOJOURN_ENV: 'development' }), apiKey: API_KEY };
  const signer = new TokenSigner(config.secret);
  const log = capture();
  let app: FastifyInstance;
  beforeAll(async () => {
    await initDatabase();
    app = await buildServer({ config, logLevel: 'info', logDestination: log.stream });
    await app.ready();
  });
  afterAll(async () => app?.close());

  it('logs no token, query string, address or client IP for API and public requests', async () => {
    const auth = { authorization: `Bearer ${API_KEY}` };
    const created = await app.inject({ method: 'POST', url: '/v1/contacts?email=query.person@example.com', headers: { ...auth, 'x-forwarded-for': '203.0.113.9' }, payload: { email: 'logged.person@example.com', firstName: 'Logan', consent: { email: 'subscribed' } } });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    const secrets: string[] = ['query.person@example.com', 'logged.person@example.com', 'Logan', API_KEY, '203.0.113.9', '127.0.0.1'];
    for (const purpose of ['unsubscribe', 'preferences', 'confirm', 'verify', 'open', 'click'] as const) {
      const token = signer.sign({ purpose, contactId: id, url: purpose === 'click' ? 'https://example.com/landing?who=logged.person@example.com' : undefined });
      secrets.push(token, token.slice(0, 20));
      const prefix = { unsubscribe: 'u', preferences: 'p', confirm: 'c', verify: 'v', open: 'o', click: 'r' }[purpose];
      const res = await app.inject({ method: 'GET', url: `/${prefix}/${token}${purpose === 'open' ? '.gif' : ''}?utm=x&email=logged.person@example.com`, headers: { 'x-forwarded-for': '203.0.113.9', 'user-agent': 'Mozilla/5.0 (Macintosh)' } });
      expect(res.statusCode).toBeLessThan(400);
    }
    const unsub = signer.sign({ purpose: 'unsubscribe', contactId: id });
    secrets.push(unsub);
    const posted = await app.inject({ method: 'POST', url: `/u/${unsub}`, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.9' }, payload: 'List-Unsubscribe=One-Click' });
    expect(posted.statusCode).toBe(200);
    await app.inject({ method: 'GET', url: '/no/such/route/secret-path-token?email=query.person@example.com' });
    await app.inject({ method: 'GET', url: `/v1/contacts/${id}/export?x=1`, headers: { authorization: 'Bearer wrong' } });

    const text = log.lines.join('\n');
    const completed = log.lines.map((l) => JSON.parse(l) as { msg?: string; req?: { route?: string } }).filter((l) => l.msg === 'incoming request');
    expect(completed.length).toBeGreaterThanOrEqual(10);
    expect(completed.map((l) => l.req?.route)).toContain('/u/*');
    for (const s of secrets) expect(text).not.toContain(s);
    expect(text).not.toMatch(/"url"|remoteAddress|remotePort|\?utm|x-forwarded-for/i);
    console.log(`request logs: ${log.lines.length} lines from ${completed.length} requests scanned for ${secrets.length} tokens, addresses and keys: none found`);

    // The consent evidence holds the socket address, not the one the client claimed.
    const evidence = await ConsentRecordModel.findOne({ contactId: id, source: 'one_click' }).lean();
    expect(evidence?.ip).toBe('127.0.0.1');
  });

  it('believes X-Forwarded-For only from a proxy configured in SOJOURN_TRUST_PROXY', async () => {
    expect(loadConfig({ SOJOURN_ENV: 'development' }).trustProxy).toBe(false);
    const proxied = await buildServer({ config: { ...config, ...{ trustProxy: loadConfig({ SOJOURN_ENV: 'development', SOJOURN_TRUST_PROXY: '127.0.0.1/8' }).trustProxy } }, logLevel: 'silent' });
    try {
      const created = await app.inject({ method: 'POST', url: '/v1/contacts', headers: { authorization: `Bearer ${API_KEY}` }, payload: { email: 'proxied@example.com', consent: { email: 'subscribed' } } });
      const token = signer.sign({ purpose: 'unsubscribe', contactId: created.json().id });
      await proxied.inject({ method: 'POST', url: `/u/${token}`, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '198.51.100.7' }, payload: 'List-Unsubscribe=One-Click' });
      const evidence = await ConsentRecordModel.findOne({ contactId: created.json().id, source: 'one_click' }).lean();
      expect(evidence?.ip).toBe('198.51.100.7');
    } finally {
      await proxied.close();
    }
  });
});
