/**
 * Which dependency (database, SMTP relay, Temporal) is down, said once in the product log when it goes
 * down and once when it is back, instead of one stack per retry. Also the one test of "this error means
 * the database cannot be reached right now", shared by the API (503 + Retry-After) and the logs.
 */
import type { Logger } from 'pino';

export type Dependency = 'database' | 'smtp relay' | 'temporal';

const DB_UNAVAILABLE = new Set([
  'MongoServerSelectionError', 'MongooseServerSelectionError', 'MongoNetworkError', 'MongoNetworkTimeoutError',
  'MongoNotConnectedError', 'MongoPoolClearedError', 'MongoTopologyClosedError', 'MongoServerClosedError',
]);

/** True when `err` (or its cause) says the database cannot be reached, as opposed to a bad query. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as { name?: string; message?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.name && DB_UNAVAILABLE.has(e.name)) return true;
    if (e.name === 'MongooseError' && /buffering timed out|not connected|Connection was force closed/i.test(e.message ?? '')) return true;
  }
  return false;
}

/**
 * Runs an idempotent database step again while the database cannot be reached (backoff 0.5 s doubling
 * to 5 s), for up to `withinMs`; other errors and the last unavailability error are thrown. Used where
 * failing the step would leave an ambiguous state behind (the send ledger's claim and completion).
 */
export async function retryWhileUnavailable<T>(step: () => Promise<T>, withinMs: number, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (let wait = 500; ; wait = Math.min(wait * 2, 5_000)) {
    try {
      return await step();
    } catch (err) {
      if (!isDatabaseUnavailable(err) || Date.now() + wait > deadline) throw err;
      await sleep(wait);
    }
  }
}

/** First line of an error message, without stack and capped (enough to say why, never a dump). */
export function shortReason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].slice(0, 200);
}

export interface DependencyHealth {
  /** Logs `<dependency> is down` once per outage (later calls are silent until `up`). */
  down(dep: Dependency, reason: string): void;
  /** Logs `<dependency> is back after N s` if it was down; silent otherwise. */
  up(dep: Dependency): void;
  isDown(dep: Dependency): boolean;
}

export function createDependencyHealth(log: Pick<Logger, 'warn' | 'info'>, now: () => number = Date.now): DependencyHealth {
  const since = new Map<Dependency, number>();
  return {
    down(dep, reason) {
      if (since.has(dep)) return;
      since.set(dep, now());
      log.warn({ dependency: dep, reason }, `${dep} is down; waiting for it (retries continue)`);
    },
    up(dep) {
      const at = since.get(dep);
      if (at === undefined) return;
      since.delete(dep);
      log.info({ dependency: dep, downSeconds: Math.round((now() - at) / 1000) }, `${dep} is back`);
    },
    isDown: (dep) => since.has(dep),
  };
}
