/**
 * Load shedding through the real HTTP server: with its in-flight limit reached, a new request is
 * refused at once with 503, `Retry-After` and a JSON error, nothing is stored, probes still answer,
 * and requests are accepted again as soon as the ones in flight finish.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../../server/app';
import { loadConfig } from '../../../lib/config';
import { useTestDatabase } from '../../helpers/db';
import { initDatabase } from '../../../data/db';
import { ContactModel } from '../../../data/contact-model';
import { loadSheddingOptions } from '../../../server/load-shedding';

const API_KEY = 'load-shedding-key-0123456789abcdef01234567';

jest.setTimeout(60_000);

describe('load shedding', () => {
  useTestDatabase('shed');
  let app: FastifyInstance;
  let port = 0;
  const saved = process.env.SOJOURN_MAX_IN_FLIGHT;

  beforeAll(async () => {
    await initDatabase();
    process.env.SOJOURN_MAX_IN_FLIGHT = '2';
    app = await buildServer({ config: { ...loadConfig({ SOJOURN_ENV: 'development' }), apiKey: API_KEY }, logLevel: 'silent' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.SOJOURN_MAX_IN_FLIGHT;
    else process.env.SOJOURN_MAX_IN_FLIGHT = saved;
    await app?.close();
  });

  /** A sign-up whose body arrives only when `finish` is called: it stays in flight until then. */
  function slowSignup(email: string): { finish(): Promise<{ status: number; body: string }> } {
    const body = JSON.stringify({ email, consent: { email: 'subscribed' } });
    const req = http.request({
      host: '127.0.0.1', port, method: 'POST', path: '/v1/contacts',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    const done = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
    });
    req.write(body.slice(0, 5));
    req.flushHeaders();
    return {
      finish: async () => {
        req.end(body.slice(5));
        return done;
      },
    };
  }
  const signup = (email: string) =>
    fetch(`http://127.0.0.1:${port}/v1/contacts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email, consent: { email: 'subscribed' } }),
    });

  it('reads its limits from the environment and refuses nonsense', () => {
    expect(loadSheddingOptions({ SOJOURN_MAX_IN_FLIGHT: '7', SOJOURN_RETRY_AFTER_S: '3' })).toMatchObject({ maxInFlight: 7, retryAfterSeconds: 3 });
    expect(() => loadSheddingOptions({ SOJOURN_MAX_IN_FLIGHT: '0' })).toThrow(/SOJOURN_MAX_IN_FLIGHT/);
    expect(() => loadSheddingOptions({ SOJOURN_MAX_IN_FLIGHT: 'many' })).toThrow(/SOJOURN_MAX_IN_FLIGHT/);
  });

  it('answers 503 with Retry-After beyond the in-flight limit, stores nothing, keeps probes up, and recovers', async () => {
    const a = slowSignup('slow-a@example.com');
    const b = slowSignup('slow-b@example.com');
    // Both are in flight once their headers reached the server.
    const deadline = Date.now() + 10_000;
    let refused: Response | null = null;
    let refusedEmail = '';
    for (let i = 0; Date.now() < deadline; i++) {
      const r = await signup(`probe-${i}@example.com`);
      if (r.status === 503) {
        refused = r;
        refusedEmail = `probe-${i}@example.com`;
        break;
      }
      // Not yet at the limit (headers still travelling): that sign-up was accepted; try again.
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(refused).not.toBeNull();
    expect(refused!.headers.get('retry-after')).toBe('2');
    const err = (await refused!.json()) as { error: { code: string; message: string } };
    expect(err.error.code).toBe('E_OVERLOADED');
    expect(err.error.message).toMatch(/2 requests in flight/);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

    const [ra, rb] = await Promise.all([a.finish(), b.finish()]);
    expect([ra.status, rb.status]).toEqual([201, 201]);
    const after = await signup('after@example.com');
    expect(after.status).toBe(201);
    // The refused attempt stored nothing; what was accepted is there.
    expect(await ContactModel.countDocuments({ emailKey: refusedEmail })).toBe(0);
    expect(await ContactModel.countDocuments({ emailKey: { $in: ['slow-a@example.com', 'slow-b@example.com', 'after@example.com'] } })).toBe(3);
  });
});
