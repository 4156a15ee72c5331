/**
 * The long-running product process (`sojourn serve`, what `npm start` runs after the servers):
 * connects to MongoDB and Temporal, deploys journeys/ (a no-op when unchanged), runs the worker and
 * the HTTP server, optionally the first-start demo, and stops cleanly on SIGINT/SIGTERM.
 */
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { connectTemporal, connectWorkerConnection } from '../lib/temporal-connection';
import type { Config } from '../lib/config';
import { createLogger } from '../lib/logger';
import { connectDatabase, disconnectDatabase, initDatabase } from '../data/db';
import { getJourneyPlan } from '../data/journey-versions';
import type { JourneyPlan } from '../rules/plan';
import { buildWorker } from '../worker/build-worker';
import { deployJourneys } from '../worker/deploy';
import { createEngineIngest, createSendActivities } from '../worker/wiring';
import { dataLayerContactStore } from '../activities/contact-store';
import { startOutboxSweeper } from '../engine/outbox-sweeper';
import { buildServer } from './app';
import { runDemoOnce } from './demo';

export interface ServeOptions {
  demo: boolean;
  /** Journey folders/files deployed at start (default: journeys/). */
  journeys?: string[];
  /** How often the outbox of undispatched events is swept (default 5 s). */
  outboxIntervalMs?: number;
}

export interface RunningSojourn {
  client: Client;
  plans: JourneyPlan[];
  url: string;
  /** Resolves when the worker stops (it fails if the worker crashes). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Starts everything and returns a handle (the e2e test uses this directly). */
export async function startSojourn(config: Config, opts: ServeOptions): Promise<RunningSojourn> {
  const log = createLogger({ name: 'sojourn' });
  await connectDatabase(config.mongodbUri);
  await initDatabase();

  const { connection, client } = await connectTemporal(config);
  const nativeConnection = await connectWorkerConnection(config.temporal);

  const deployed = await deployJourneys(opts.journeys ?? [path.join(process.cwd(), 'journeys')], { client, taskQueue: config.taskQueue, timeScale: config.timeScale });
  for (const m of deployed.messages) log.warn(m);
  if (!deployed.ok) throw new Error('journeys/ has errors; run `sojourn validate journeys/`');
  for (const j of deployed.journeys) log.info({ journey: j.journeyId, version: j.version, status: j.status }, 'journey deployed');
  const plans = (await Promise.all(deployed.journeys.map((j) => getJourneyPlan(j.journeyId, j.version)))).filter((p): p is JourneyPlan => p !== null);

  const worker = await buildWorker({
    connection: nativeConnection,
    client,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    contacts: dataLayerContactStore(),
    payloadKeys: config.payloadKeys,
    send: createSendActivities(config),
  });
  const workerRun = worker.run();

  const ingest = createEngineIngest(client, config.taskQueue, { log });
  // Events stored while Temporal was unreachable (or before a crash) reach their runs from here.
  const sweeper = startOutboxSweeper(ingest, { intervalMs: opts.outboxIntervalMs, log });
  const app = await buildServer({
    config,
    ingest,
    segments: Object.assign({}, ...plans.map((p) => p.segments)),
  });
  await app.listen({ port: config.httpPort, host: config.httpHost });
  log.info({ url: `http://${config.httpHost}:${config.httpPort}` }, 'HTTP server listening');

  if (opts.demo) {
    const loaded = await runDemoOnce({ client, plans, ingest, log });
    log.info(loaded ? 'demo loaded: runs are starting' : 'demo already loaded in this database (delete the data folder to start afresh)');
  }

  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      log.info('stopping');
      await app.close();
      await sweeper.stop();
      // The worker also listens for SIGINT/SIGTERM and may already be draining.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerRun.catch(() => undefined);
      await connection.close();
      await nativeConnection.close();
      await disconnectDatabase();
    })());
  return { client, plans, url: `http://${config.httpHost}:${config.httpPort}`, done: workerRun, stop };
}

/** `sojourn serve`: runs until SIGINT/SIGTERM. */
export async function serve(config: Config, opts: ServeOptions): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const running = await startSojourn(config, opts);
  const stop = () => void running.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await running.done;
}
