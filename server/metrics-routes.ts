/**
 * `GET /metrics` in the Prometheus text format (lib/metrics.ts), and the hook that counts and times
 * every HTTP request by route pattern (never the raw URL: it may carry a token). Outside development
 * mode the scrape needs the API key (`authorization: Bearer <key>`, Prometheus's `authorization`
 * setting), since the HTTP server also faces the public.
 */
import type { FastifyInstance } from 'fastify';
import { httpDuration, httpRequests, registry } from '../lib/metrics';
import { requireApiKey } from './auth';

export function registerMetrics(app: FastifyInstance, opts: { apiKey: string; requireAuth: boolean }): void {
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    httpRequests.inc({ method: req.method, route, status: String(reply.statusCode) });
    httpDuration.observe({ route }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { onRequest: opts.requireAuth ? requireApiKey(opts.apiKey) : [] }, async (_req, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
