/**
 * Liveness and readiness for orchestrators and load balancers: `/healthz` answers 200 while the process
 * runs; `/readyz` answers 200 only when every dependency check passes (database ping, Temporal frontend)
 * and the process is not shutting down, else 503 with the failing check named. Checks are passed in at
 * start-up (server/serve.ts), each bounded by a timeout so a hung dependency reads as "not ready".
 */
import type { FastifyInstance } from 'fastify';

export type ReadinessChecks = Record<string, () => Promise<void>>;

export interface HealthOptions {
  checks: ReadinessChecks;
  /** True once shutdown began: stop routing new traffic here. */
  draining?: () => boolean;
  timeoutMs?: number;
}

async function bounded(check: () => Promise<void>, ms: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([check(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]);
    return null;
  } catch (err) {
    return (err as Error).message.split('\n')[0].slice(0, 200) || 'failed';
  } finally {
    clearTimeout(timer);
  }
}

export function registerHealthRoutes(app: FastifyInstance, opts: HealthOptions): void {
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    if (opts.draining?.()) return reply.code(503).send({ ok: false, checks: {}, reason: 'shutting down' });
    const names = Object.keys(opts.checks);
    const results = await Promise.all(names.map((n) => bounded(opts.checks[n], opts.timeoutMs ?? 3000)));
    const checks = Object.fromEntries(names.map((n, i) => [n, results[i] === null ? 'ok' : results[i]]));
    const ok = results.every((r) => r === null);
    return reply.code(ok ? 200 : 503).send({ ok, checks });
  });
}
