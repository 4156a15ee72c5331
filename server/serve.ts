/**
 * The long-running product processes. One code path, three roles:
 *  - `worker` (`sojourn worker`): the Temporal worker only; scale it by running more of them on the
 *    same task queue.
 *  - `server` (`sojourn server`): the HTTP API and public endpoints only; it starts and signals runs
 *    through a Temporal client.
 *  - `both` (`sojourn serve`, what `npm start` runs): both in one process, and journeys/ deployed at
 *    start (a no-op when unchanged) plus the optional first-start demo. Separate roles never deploy:
 *    production deploys with `sojourn deploy`.
 * Every role stops gracefully on SIGINT/SIGTERM: /readyz turns 503, the HTTP server finishes in-flight
 * requests, the worker stops polling and lets running activities finish (SHUTDOWN_GRACE_SECONDS), then
 * the connections close.
 */
import { registerMetrics } from './metrics-routes';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Client, Connection } from '@temporalio/client';
import { Runtime, type NativeConnection, type Worker } from '@temporalio/worker';
import { createDependencyHealth, type DependencyHealth } from '../lib/dependency-health';
import { createRuntimeLogger } from '../worker/runtime-log';
import { faultPointsFromEnv } from '../worker/fault-points';
import type { Config } from '../lib/config';
import { createLogger } from '../lib/logger';
import { connectTemporal, connectWorkerConnection } from '../lib/temporal-connection';
import { describeTemporal } from '../lib/temporal-config';
import { connectDatabase, disconnectDatabase, initDatabase, pingDatabase } from '../data/db';
import { getJourneyPlan, listJourneys } from '../data/journey-versions';
import type { JourneyPlan, RulesPlan } from '../rules/plan';
import { contactRuleSets } from '../data/classify';
import { buildWorker } from '../worker/build-worker';
import { deployJourneys } from '../engine/deploy';
import { createEngineIngest } from '../engine/engine-ingest';
import { createSendActivities, createTaskActivities } from '../worker/send-activities';
import { dataLayerContactStore } from '../activities/contact-store';
import { startOutboxSweeper } from '../engine/outbox-sweeper';
import { startIdempotencySweeper } from './idempotency-sweeper';
import { startStatsFolder } from '../engine/stats-folder';
import { startStatMarkExpiry } from '../engine/stat-mark-expiry';
import { startInboundServer, type InboundServer } from '../mail/inbound-server';
import { loadProject } from '../engine/project';
import { createInboundProcessor } from './inbound';
import { startWebhookDelivery } from '../engine/webhook-delivery';
import { buildServer } from './app';
import { runDemoOnce } from './demo';
import { registerHealthRoutes, type ReadinessChecks } from './health-routes';

export type Role = 'worker' | 'server' | 'both';

export interface ServeOptions {
  demo: boolean;
  /** Journey folders/files deployed at start by the `both` role (default: journeys/). */
  journeys?: string[];
  /** Default `both`. */
  role?: Role;
  /** How often the outbox of undispatched events is swept (default 5 s). */
  outboxIntervalMs?: number;
}

export interface RunningSojourn {
  client: Client;
  plans: JourneyPlan[];
  /** The HTTP server's URL (the health listener's for a worker with HEALTH_PORT; '' without one). */
  url: string;
  /** Resolves when the worker stops (it fails if the worker crashes); for `server`, when stopped. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Starts the role's parts and returns a handle (the e2e tests use this directly). */
export async function startSojourn(config: Config, opts: ServeOptions, health: DependencyHealth = createDependencyHealth(createLogger({ name: 'sojourn' }))): Promise<RunningSojourn> {
  const role = opts.role ?? 'both';
  const log = createLogger({ name: 'sojourn' });
  await connectDatabase(config.mongodbUri, health);
  await initDatabase();

  const { connection, client } = await connectTemporal(config);
  log.info({ role, temporal: describeTemporal(config.temporal), taskQueue: config.taskQueue }, 'connected');
  let draining = false;
  const readiness: ReadinessChecks = {
    database: pingDatabase,
    temporal: async () => void (await connection.workflowService.getSystemInfo({})),
  };

  const journeyPaths = opts.journeys ?? [path.join(process.cwd(), 'journeys')];
  let plans: JourneyPlan[] = [];
  // Segments (all of them, for the API) and contact rule sets (reclassification after events) of the rules files.
  let rules: RulesPlan = { segments: {}, ruleSets: {} };
  if (role === 'both') {
    const deployed = await deployJourneys(journeyPaths, { client, taskQueue: config.taskQueue, timeScale: config.timeScale });
    for (const m of deployed.messages) log.warn(m);
    if (!deployed.ok) throw new Error('journeys/ has errors; run `sojourn validate journeys/`');
    for (const j of deployed.journeys) log.info({ journey: j.journeyId, version: j.version, status: j.status }, 'journey deployed');
    plans = (await Promise.all(deployed.journeys.map((j) => getJourneyPlan(j.journeyId, j.version)))).filter((p): p is JourneyPlan => p !== null);
    rules = deployed.rules;
    log.info({ ruleSets: deployed.classification.ruleSets, schedule: deployed.classification.schedule }, 'daily classification registered');
  } else if (role === 'server') {
    rules = loadProject(journeyPaths).result.rules;
    // The live versions (deployed with `sojourn deploy`): their segments serve /v1/contacts/search.
    plans = (await Promise.all((await listJourneys()).map((j) => getJourneyPlan(j._id, j.liveVersion)))).filter((p): p is JourneyPlan => p !== null);
  }

  const ingest = createEngineIngest(client, config.taskQueue, { log, classify: { ruleSets: contactRuleSets(Object.values(rules.ruleSets)) } });
  let worker: Worker | null = null;
  let nativeConnection: NativeConnection | null = null;
  let workerRun: Promise<void> = Promise.resolve();
  if (role !== 'server') {
    nativeConnection = await connectWorkerConnection(config.temporal);
    // Test-only crash points (worker/fault-points.ts), refused in production; nothing when unset.
    const faults = faultPointsFromEnv();
    worker = await buildWorker({
      connection: nativeConnection,
      client,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      contacts: dataLayerContactStore(),
      send: createSendActivities(config, { afterSmtp: faults.afterSmtp, onEvent: (e) => ingest.ingest(e), health }),
      tasks: createTaskActivities(config),
      activityWrapper: faults.activityWrapper,
      payloadKeys: config.payloadKeys,
      shutdownGraceTimeMs: config.shutdownGraceSeconds * 1000,
      maxCachedWorkflows: config.workflowCacheSize,
    });
    workerRun = worker.run();
    log.info({ taskQueue: config.taskQueue }, 'worker running');
  }

  let http: FastifyInstance | null = null;
  let url = '';
  let sweeper: { stop(): Promise<void> } | null = null;
  let idempotencySweeper: { stop(): Promise<void> } | null = null;
  let folder: { stop(): Promise<void> } | null = null;
  let markExpiry: { stop(): Promise<void> } | null = null;
  let inbound: InboundServer | null = null;
  let webhookDelivery: { stop(): Promise<void> } | null = null;
  if (role !== 'worker') {
    // Events stored while Temporal was unreachable (or before a crash) reach their runs from here.
    sweeper = startOutboxSweeper(ingest, { intervalMs: opts.outboxIntervalMs, log });
    // Idempotency-Key records past their 24 hours are removed from here (FerretDB has no TTL index).
    idempotencySweeper = startIdempotencySweeper({ log });
    // Report facts are folded into the daily counters from here (docs/reports.md).
    folder = startStatsFolder({ log });
    // ... and the marks that made each fact count once expire 30 days after their fold.
    markExpiry = startStatMarkExpiry({ log });
    // Webhook deliveries queued by the ingest (engine/webhook-fanout.ts) are POSTed from here.
    webhookDelivery = startWebhookDelivery({ log });
    http = await buildServer({
      config,
      ingest,
      temporal: client,
      segments: Object.assign({}, rules.segments, ...plans.map((p) => p.segments)),
      classifyRuleSets: contactRuleSets(Object.values(rules.ruleSets)),
      readiness,
      draining: () => draining,
    });
    await http.listen({ port: config.httpPort, host: config.httpHost });
    url = `http://${config.httpHost}:${config.httpPort}`;
    log.info({ url }, 'HTTP server listening');
    if (config.inboundSmtpPort !== null) {
      inbound = await startInboundServer({
        port: config.inboundSmtpPort,
        host: config.httpHost,
        mailDomain: config.mailDomain,
        // Rule sets over messages are read from the project's files (plans carry only contact rule sets).
        process: createInboundProcessor(config, { ruleSets: loadProject(journeyPaths).result.rules.ruleSets, emit: (e) => ingest.ingest(e) }),
        onError: (err) => log.warn({ err: (err as Error).message }, 'inbound message not processed (the sender will retry)'),
      });
      log.info({ port: inbound.port }, 'inbound SMTP listening');
    }
  } else if (config.healthPort !== null) {
    // A worker has no API; orchestrators still probe it.
    http = Fastify();
    registerHealthRoutes(http, { checks: readiness, draining: () => draining });
    registerMetrics(http, { apiKey: config.apiKey, requireAuth: config.metricsRequireAuth ?? true });
    await http.listen({ port: config.healthPort, host: config.httpHost });
    url = `http://${config.httpHost}:${config.healthPort}`;
    log.info({ url }, 'health endpoints listening');
  }

  if (opts.demo && role === 'both') {
    const loaded = await runDemoOnce({ client, plans, ingest, log });
    log.info(loaded ? 'demo loaded: runs are starting' : 'demo already loaded in this database (delete the data folder to start afresh)');
  }

  let stopped: Promise<void> | null = null;
  let markStopped: () => void = () => undefined;
  const done = role === 'server' ? new Promise<void>((resolve) => (markStopped = resolve)) : workerRun;
  const stop = () =>
    (stopped ??= (async () => {
      draining = true;
      log.info({ role }, 'stopping: draining');
      await http?.close();
      await inbound?.close();
      await sweeper?.stop();
      await idempotencySweeper?.stop();
      await folder?.stop();
      await markExpiry?.stop();
      await webhookDelivery?.stop();
      // The worker also listens for SIGINT/SIGTERM and may already be draining.
      if (worker?.getState() === 'RUNNING') worker.shutdown();
      await workerRun.catch((err: unknown) => log.error({ err: (err as Error).message }, 'worker stopped with an error'));
      await closeAll(connection, nativeConnection);
      await disconnectDatabase();
      markStopped();
      log.info({ role }, 'stopped');
    })());
  return { client, plans, url, done, stop };
}

async function closeAll(connection: Connection, nativeConnection: NativeConnection | null): Promise<void> {
  await connection.close();
  await nativeConnection?.close();
}

/** `sojourn serve|worker|server`: runs until SIGINT/SIGTERM, then stops gracefully and exits 0. */
export async function serve(config: Config, opts: ServeOptions): Promise<void> {
  // The SDK's own handlers would start the worker's shutdown; ours does it in order (HTTP first).
  const log = createLogger({ name: 'sojourn' });
  const health = createDependencyHealth(log);
  Runtime.install({ logger: createRuntimeLogger(log, health), shutdownSignals: [] });
  const running = await startSojourn(config, opts, health);
  const stop = () => void running.stop().then(() => process.exit(0), () => process.exit(1));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await running.done;
}
