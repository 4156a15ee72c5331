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

export interface ServerDeps {
  config: Config;
  /** Events already stored by the API: tell the engine (start or signal runs). */
  dispatch?: EventSink;
  /** Events from the public endpoints: store them on the contact, then tell the engine. */
  sink?: EventSink;
  segments?: Record<string, SegmentPlan>;
  logLevel?: string;
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const logger = createLogger({ name: 'http', level: deps.logLevel ?? process.env.LOG_LEVEL ?? 'info' }) as unknown as FastifyBaseLogger;
  const app = Fastify({ loggerInstance: logger, trustProxy: true });
  app.get('/health', async () => ({ ok: true }));
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
