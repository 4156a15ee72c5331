/**
 * The HTTP server: the API-key protected API under /v1 (server/api), the dashboard behind a login
 * (server/dashboard) and the public endpoints behind every email link (server/public: unsubscribe,
 * preferences, confirm, verify, open pixel, click redirect, bounce reports). Events from both reach the engine through `events`.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { Config } from '../lib/config';
import { createLogger, httpLogSerializers } from '../lib/logger';
import type { RuleSetPlan, SegmentPlan } from '../rules/plan';
import { apiPlugin } from './api';
import { publicPlugin } from './public';
import { protect } from './protection';
import { codecPlugin } from './codec-routes';
import { registerHealthRoutes, type ReadinessChecks } from './health-routes';
import { registerMetrics } from './metrics-routes';
import { installLoadShedding } from './load-shedding';
import { dashboardPlugin, DASHBOARD_CSP } from './dashboard';
import type { Ingest } from '../engine/ingest';
import type { Client } from '@temporalio/client';

export interface ServerDeps {
  config: Config;
  /** The one door for events from the API and the public endpoints (engine/ingest.ts). */
  ingest?: Ingest;
  /** Temporal client for the journey routes of the API (run status, step counts, schedules). */
  temporal?: Client | null;
  /** The public endpoints' clock (token expiry, event times); the scenario harness gives its simulated time. */
  now?: () => Date;
  segments?: Record<string, SegmentPlan>;
  /** Contact rule sets re-run on a contact a PATCH changed (tags, attributes, names). */
  classifyRuleSets?: RuleSetPlan[];
  logLevel?: string;
  /** Readiness checks for /readyz (database, Temporal); none: ready while up. */
  readiness?: ReadinessChecks;
  /** True once shutdown began (/readyz then answers 503). */
  draining?: () => boolean;
  /** Where request logs go (tests capture them); default stdout. */
  logDestination?: DestinationStream;
}

const routeLists = new WeakMap<FastifyInstance, RegisteredRoute[]>();

export interface RegisteredRoute { method: string; url: string }

/** Every route the server registered (method and pattern), read from fastify itself, e.g. for the auth corpus test. */
export function registeredRoutes(app: FastifyInstance): RegisteredRoute[] {
  return [...(routeLists.get(app) ?? [])];
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const logger = createLogger({ name: 'http', level: deps.logLevel ?? process.env.LOG_LEVEL ?? 'info', serializers: httpLogSerializers }, deps.logDestination) as unknown as FastifyBaseLogger;
  // X-Forwarded-For is believed only when the operator says which proxies to trust (SOJOURN_TRUST_PROXY):
  // the client address is stored as consent evidence, so no client may choose it.
  const tp = deps.config.trustProxy ?? false;
  const app = Fastify({ loggerInstance: logger, trustProxy: typeof tp === 'number' ? (_addr: string, hop: number) => hop < tp : tp });
  installLoadShedding(app);
  const routes: RegisteredRoute[] = [];
  routeLists.set(app, routes);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url ?? r.path });
  });
  // Fastify's default 404 logs the raw URL (tokens, query strings); this one logs nothing extra.
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: { code: 'E_NO_ROUTE', message: 'no such route', pointer: '' } }));
  app.get('/health', async () => ({ ok: true }));
  registerMetrics(app, { apiKey: deps.config.apiKey, requireAuth: deps.config.metricsRequireAuth ?? true });
  registerHealthRoutes(app, { checks: deps.readiness ?? {}, draining: deps.draining });
  if (deps.config.codecEndpoint.enabled) {
    const { codecEndpoint: c, payloadKeys, apiKey } = deps.config;
    await app.register(codecPlugin, { keys: payloadKeys, corsOrigins: c.corsOrigins, token: c.requireAuth ? apiKey : null });
  }
  await app.register(async (api) => {
    await protect(api, deps.config, 'api');
    await api.register(apiPlugin, {
      config: deps.config,
      segments: deps.segments,
      classifyRuleSets: deps.classifyRuleSets,
      ingest: deps.ingest?.ingest,
      temporal: deps.temporal ?? null,
      now: deps.now,
    });
  });
  await app.register(async (dash) => {
    await protect(dash, deps.config, 'dashboard', DASHBOARD_CSP);
    await dash.register(dashboardPlugin, { config: deps.config });
  });
  await app.register(async (pub) => {
    await protect(pub, deps.config, 'public');
    await pub.register(publicPlugin, { config: deps.config, onEvent: deps.ingest?.ingest, now: deps.now });
  });
  return app;
}
