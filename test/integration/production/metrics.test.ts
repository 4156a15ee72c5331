/**
 * GET /metrics through the real fastify app: Prometheus text with the request counter by route
 * pattern (never the raw URL), open in development mode, behind the API key outside it.
 */
import { loadConfig } from '../../../lib/config';
import { buildServer } from '../../../server/app';
import { useTestDatabase } from '../../helpers/db';

describe('GET /metrics', () => {
  useTestDatabase('metrics');

  it('in development mode answers without a key and counts requests by route pattern, not by URL', async () => {
    const app = await buildServer({ config: loadConfig({ SOJOURN_ENV: 'development', SOJOURN_API_KEY: 'k' }), logLevel: 'silent' });
    try {
      await app.inject({ method: 'GET', url: '/u/not-a-real-token-abc.def' });
      const res = await app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.body).toMatch(/sojourn_http_requests_total\{method="GET",route="\/u\/\*",status="400"\} [1-9]/);
      expect(res.body).not.toContain('not-a-real-token');
      expect(res.body).toContain('sojourn_process_resident_memory_bytes');
    } finally {
      await app.close();
    }
  });

  it('outside development mode needs the API key', async () => {
    const key = 'prod-key-0123456789abcdef0123456789';
    const config = loadConfig({ NODE_ENV: 'production', SOJOURN_SECRET: 's'.repeat(32), SOJOURN_PHONE_KEY: '11'.repeat(32), SOJOURN_API_KEY: key, SOJOURN_PAYLOAD_KEYS: `p1:${'22'.repeat(32)}` } as NodeJS.ProcessEnv);
    const app = await buildServer({ config, logLevel: 'silent' });
    try {
      expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      expect((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
      const ok = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${key}` } });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toContain('sojourn_http_requests_total');
    } finally {
      await app.close();
    }
  });
});
