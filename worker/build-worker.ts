/**
 * The one way to build a Sojourn worker, used by production (worker/main.ts) and by every test:
 * real activities from their factories, optionally overridden one by one, and the workflow code either
 * bundled now or taken from a pre-built bundle (tests bundle once and reuse it).
 */
import { Client, type Connection } from '@temporalio/client';
import { Worker, bundleWorkflowCode, type InjectedSinks, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createEngineActivities, type EngineActivities } from '../activities';
import type { ContactStore } from '../activities/contact-store';
import type { SendActivities } from '../activities/send';
import type { WebhookStepActivities } from '../activities/webhook-step';
import type { TaskStepActivities } from '../activities/task-step';
import { loadConfig } from '../lib/config';
import { workflowBundleOptions } from './bundle-options';
import { sojournDataConverter, type PayloadKeyRing } from '../lib/payload-codec';
import { runsEnded, withActivityMetrics } from '../lib/metrics';
import type { SojournSinks } from '../workflows/sinks';
import { recordFacts, type StatFact } from '../data/journey-stats';
import { runEndedFacts, runEnteredFacts, splitFacts } from '../data/journey-stat-facts';

export interface BuildWorkerOptions {
  /** Worker connection (NativeConnection). */
  connection: NativeConnection;
  /** Client connection used by scan activities to start runs; defaults to none (scans disabled). */
  clientConnection?: Connection;
  client?: Client;
  namespace?: string;
  taskQueue: string;
  contacts?: ContactStore;
  send?: SendActivities;
  /** The webhook step's call (default: from the environment's configuration). */
  webhooks?: WebhookStepActivities;
  /** The task step (default: the owner's email over the environment's SMTP relay). */
  tasks?: TaskStepActivities;
  activityOverrides?: Partial<EngineActivities> & Record<string, (...args: never[]) => Promise<unknown>>;
  /** A pre-built bundle ({ code } or { codePath }); otherwise the workflows are bundled now (slow). */
  workflowBundle?: WorkflowBundleOption;
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
  /** Workflows kept in memory between tasks (config.workflowCacheSize in `sojourn serve`/`worker`); the SDK's default otherwise. */
  maxCachedWorkflows?: number;
  /** Keys of the payload codec; default: SOJOURN_PAYLOAD_KEYS (the development key outside production). Clients must use the same ring. */
  payloadKeys?: PayloadKeyRing;
  /** After shutdown() is called, how long running activities may finish before they are cancelled (default 0). */
  shutdownGraceTimeMs?: number;
  /** Wraps every activity (the fault suite's crash points, worker/fault-points.ts); identity when absent. */
  activityWrapper?: ActivityWrapper;
}

export type ActivityWrapper = <F extends (...args: never[]) => Promise<unknown>>(name: string, fn: F) => F;

/** Bundles the workflow code once (webpack; a few seconds). */
export async function bundleWorkflows(): Promise<WorkflowBundleOption> {
  const { code } = await bundleWorkflowCode({ ...workflowBundleOptions(), logger: quietLogger });
  return { code };
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string, meta?: unknown) => console.error(m, meta), log: noop };

export async function buildWorker(opts: BuildWorkerOptions): Promise<Worker> {
  const namespace = opts.namespace ?? 'default';
  const payloadKeys = opts.payloadKeys ?? loadConfig().payloadKeys;
  const client = opts.client ?? (opts.clientConnection ? new Client({ connection: opts.clientConnection, namespace, dataConverter: sojournDataConverter(payloadKeys) }) : undefined);
  const all: Record<string, (...args: never[]) => Promise<unknown>> = {
    ...createEngineActivities({ client, taskQueue: opts.taskQueue, contacts: opts.contacts, send: opts.send, webhooks: opts.webhooks, tasks: opts.tasks }),
    ...(opts.activityOverrides ?? {}),
  };
  const wrap = opts.activityWrapper;
  // Every activity is timed and its outcome counted (lib/metrics.ts); the fault suite's wrapper goes inside.
  const activities = Object.fromEntries(Object.entries(all).map(([name, fn]) => [name, withActivityMetrics(name, wrap ? wrap(name, fn) : fn)]));
  const bundle = opts.workflowBundle ?? (process.env.SOJOURN_WORKFLOW_BUNDLE ? { codePath: process.env.SOJOURN_WORKFLOW_BUNDLE } : await bundleWorkflows());
  return Worker.create({
    connection: opts.connection,
    namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: bundle,
    activities,
    sinks: metricSinks(),
    // Every payload leaves this worker encrypted (lib/payload-codec.ts): no contact data in Temporal's history.
    dataConverter: sojournDataConverter(payloadKeys),
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivityTaskExecutions,
    ...(opts.shutdownGraceTimeMs !== undefined ? { shutdownGraceTime: opts.shutdownGraceTimeMs } : {}),
    maxConcurrentWorkflowTaskExecutions: opts.maxConcurrentWorkflowTaskExecutions,
    ...(opts.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: opts.maxCachedWorkflows } : {}),
  });
}

/** What workflows report through sinks (not recorded in history; not called again on replay). */
function metricSinks(): InjectedSinks<SojournSinks> {
  return {
    metrics: {
      runEnded: { fn: (_info, journeyId, outcome) => void runsEnded.inc({ journey: journeyId, outcome }), callDuringReplay: false },
    },
    report: {
      runEntered: { fn: (_info, f) => storeFacts(runEnteredFacts(f)), callDuringReplay: false },
      splitChosen: { fn: (_info, f) => storeFacts(splitFacts(f)), callDuringReplay: false },
      runEnded: { fn: (_info, f) => storeFacts(runEndedFacts(f)), callDuringReplay: false },
    },
  };
}

/**
 * Stores a run's report facts in the background (a sink must not block the workflow task), retrying
 * with backoff for about 10 minutes while the database is unreachable. Keys make a repeat harmless; a
 * worker that dies before the write loses those facts (at most once; docs/reports.md).
 */
function storeFacts(facts: StatFact[]): void {
  const attempt = (n: number): void => {
    recordFacts(facts).catch((err: unknown) => {
      if (n >= 12) {
        console.error(`report facts not stored after ${n} attempts: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      setTimeout(() => attempt(n + 1), Math.min(60_000, 500 * 2 ** n)).unref();
    });
  };
  attempt(0);
}
