/**
 * The HTTP server: the API-key protected API under /v1 (server/api) and the public endpoints behind
 * every email link (server/public: unsubscribe, preferences, confirm, verify, open pixel, click
 * redirect, bounce reports). Events from both reach the engine through `events`.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from '../lib/config';
import { createLogger } from '../lib/logger';
import type { SegmentPlan } from '../rules/plan';
import { apiPlugin } from './api';
import { publicPlugin } from './public';
import type { EventSink } from '../worker/wiring';
import { codecPlugin } from './codec-routes';
import { registerHealthRoutes, type ReadinessChecks } from './health-routes';

export interface ServerDeps {
  config: Config;
  /** Events already stored by the API: tell the engine (start or signal runs). */
  dispatch?: EventSink;
  /** Events from the public endpoints: store them on the contact, then tell the engine. */
  sink?: EventSink;
  segments?: Record<string, SegmentPlan>;
  logLevel?: string;
  /** Readiness checks for /readyz (database, Temporal); none: ready while up. */
  readiness?: ReadinessChecks;
  /** True once shutdown began (/readyz then answers 503). */
  draining?: () => boolean;
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const logger = createLogger({ name: 'http', level: deps.logLevel ?? process.env.LOG_LEVEL ?? 'info' }) as unknown as FastifyBaseLogger;
  const app = Fastify({ loggerInstance: logger, trustProxy: true });
  app.get('/health', async () => ({ ok: true }));
  registerHealthRoutes(app, { checks: deps.readiness ?? {}, draining: deps.draining });
  if (deps.config.codecEndpoint.enabled) {
    const { codecEndpoint: c, payloadKeys, apiKey } = deps.config;
    await app.register(codecPlugin, { keys: payloadKeys, corsOrigins: c.corsOrigins, token: c.requireAuth ? apiKey : null });
  }
  await app.register(async (api) => {
    await api.register(apiPlugin, {
      config: deps.config,
      segments: deps.segments,
      onEvent: deps.dispatch ? (e) => deps.dispatch!({ contactId: e.contactId, name: e.name, at: e.at, eventId: e.eventId, data: e.data }) : undefined,
    });
  });
  await app.register(async (pub) => {
    await pub.register(publicPlugin, { config: deps.config, onEvent: deps.sink });
  });
  return app;
}
