/**
 * Removes expired `Idempotency-Key` records (server/api/idempotency.ts keeps answers 24 hours) every
 * `intervalMs` inside the HTTP server's process. FerretDB 1.x refuses TTL indexes, so the expiry that
 * MongoDB would do with one is a sweep here, on every database alike. One pass at a time; a failed pass
 * (database down) is logged once per outage and retried at the next tick.
 */
import type { Logger } from 'pino';
import { startPeriodicPass } from '../lib/periodic-pass';
import { sweepExpiredIdempotencyKeys } from '../data/idempotency-model';
import { IDEMPOTENCY_TTL_MS } from './api/idempotency';

export interface IdempotencySweeper {
  /** Runs one pass now (tests, shutdown); the number of records removed, null when it failed. */
  runOnce(): Promise<number | null>;
  stop(): Promise<void>;
}

export function startIdempotencySweeper(opts: { intervalMs?: number; ttlMs?: number; now?: () => Date; log?: Pick<Logger, 'warn' | 'info'> } = {}): IdempotencySweeper {
  const ttlMs = opts.ttlMs ?? IDEMPOTENCY_TTL_MS;
  const now = opts.now ?? (() => new Date());
  return startPeriodicPass(() => sweepExpiredIdempotencyKeys(new Date(now().getTime() - ttlMs)), {
    intervalMs: opts.intervalMs ?? 15 * 60_000, log: opts.log,
    messages: { failed: 'idempotency sweep failed', recovered: 'idempotency sweep works again' },
    report: (n, log) => { if (n) log.info({ removed: n }, 'idempotency: expired keys removed'); },
  });
}
