/**
 * The codec endpoint the Temporal UI calls (through the real fastify handler) and the health and
 * readiness endpoints.
 */
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { defaultPayloadConverter } from '@temporalio/common';
import { loadConfig } from '../../../lib/config';
import { EncryptionCodec } from '../../../lib/payload-codec';
import { buildServer } from '../../../server/app';
import { pingDatabase } from '../../../data/db';
import { useTestDatabase } from '../../helpers/db';

const b64 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('base64');

describe('the codec endpoint and the health endpoints', () => {
  useTestDatabase('codec');
  let app: FastifyInstance;
  const config = loadConfig({ SOJOURN_ENV: 'development', SOJOURN_API_KEY: 'k' });
  let draining = false;
  let temporalUp = true;
  beforeAll(async () => {
    app = await buildServer({
      config, logLevel: 'silent', draining: () => draining,
      readiness: { database: pingDatabase, temporal: async () => { if (!temporalUp) throw new Error('connection refused'); } },
    });
  });
  afterAll(async () => app?.close());

  it('decodes what a worker encrypted, for the UI origin only, and encodes back', async () => {
    const codec = new EncryptionCodec(config.payloadKeys);
    const [enc] = await codec.encode([defaultPayloadConverter.toPayload({ firstName: 'Ana' })]);
    const origin = 'http://127.0.0.1:8233';
    const pre = await app.inject({ method: 'OPTIONS', url: '/codec/decode', headers: { origin, 'access-control-request-method': 'POST' } });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe(origin);
    expect(String(pre.headers['access-control-allow-headers'])).toContain('x-namespace');

    const res = await app.inject({
      method: 'POST', url: '/codec/decode', headers: { origin, 'x-namespace': 'default' },
      payload: { payloads: [{ metadata: { encoding: b64(enc.metadata!.encoding), 'encryption-key-id': b64(enc.metadata!['encryption-key-id']) }, data: b64(enc.data) }] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(origin);
    const [p] = res.json().payloads as { metadata: Record<string, string>; data: string }[];
    expect(Buffer.from(p.metadata.encoding, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(p.data, 'base64').toString())).toEqual({ firstName: 'Ana' });

    const other = await app.inject({ method: 'POST', url: '/codec/encode', headers: { origin: 'https://evil.example' }, payload: { payloads: [p] } });
    expect(other.statusCode).toBe(200); // a non-browser caller may encode; a browser on another origin cannot read the answer
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    expect(Buffer.from(other.json().payloads[0].metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
  });

  it('rejects malformed bodies with the JSON pointer of the bad field, and never answers 5xx', async () => {
    const bad = await app.inject({ method: 'POST', url: '/codec/decode', payload: { payloads: [{ data: 'not base64!' }] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.pointer).toBe('/payloads/0/data');
    const forged = await app.inject({ method: 'POST', url: '/codec/decode', payload: { payloads: [{ metadata: { encoding: b64(Buffer.from('binary/encrypted')), 'encryption-key-id': b64(Buffer.from('dev')) }, data: b64(Buffer.alloc(40, 7)) }] } });
    expect(forged.statusCode).toBe(422);
    expect(forged.json().error.message).toMatch(/does not decrypt/);
    await fc.assert(fc.asyncProperty(fc.jsonValue(), async (body) => {
      const r = await app.inject({ method: 'POST', url: '/codec/decode', payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      expect(r.statusCode).toBeLessThan(500);
    }), { numRuns: 60 });
  });

  it('in production is off unless enabled, and then needs the API key', async () => {
    const prodEnv = { NODE_ENV: 'production', SOJOURN_SECRET: 's'.repeat(32), SOJOURN_PHONE_KEY: '11'.repeat(32), SOJOURN_API_KEY: 'prod-key-0123456789abcdef0123456789', SOJOURN_PAYLOAD_KEYS: `p1:${'22'.repeat(32)}` };
    const off = await buildServer({ config: loadConfig(prodEnv), logLevel: 'silent' });
    expect((await off.inject({ method: 'POST', url: '/codec/decode', payload: { payloads: [] } })).statusCode).toBe(404);
    await off.close();
    const on = await buildServer({ config: loadConfig({ ...prodEnv, SOJOURN_CODEC_ENDPOINT: 'on' }), logLevel: 'silent' });
    expect((await on.inject({ method: 'POST', url: '/codec/decode', payload: { payloads: [] } })).statusCode).toBe(401);
    expect((await on.inject({ method: 'POST', url: '/codec/decode', payload: { payloads: [] }, headers: { authorization: 'Bearer prod-key-0123456789abcdef0123456789' } })).statusCode).toBe(200);
    await on.close();
  });

  it('is live while up, and ready only when the database and Temporal answer and it is not draining', async () => {
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ ok: true, checks: { database: 'ok', temporal: 'ok' } });
    temporalUp = false;
    const down = await app.inject('/readyz');
    expect(down.statusCode).toBe(503);
    expect(down.json().checks).toEqual({ database: 'ok', temporal: 'connection refused' });
    temporalUp = true;
    draining = true;
    expect((await app.inject('/readyz')).statusCode).toBe(503);
    draining = false;
  });
});
