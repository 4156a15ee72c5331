/**
 * Runs the outbox sweep (engine/ingest.ts `sweepOutbox`) every `intervalMs` inside `sojourn serve`,
 * so events stored while the engine was unreachable reach their runs once it is back. One pass at a
 * time; a failed pass (database down) is logged once per outage and retried at the next tick. Each
 * entry carries its own backoff, so an engine that stays down is not hammered.
 */
import type { Logger } from 'pino';
import { startPeriodicPass } from '../lib/periodic-pass';
import type { Ingest, SweepResult } from './ingest';

export interface OutboxSweeper {
  /** Runs one pass now (tests, shutdown). */
  runOnce(): Promise<SweepResult | null>;
  stop(): Promise<void>;
}

export function startOutboxSweeper(ingest: Pick<Ingest, 'sweepOutbox'>, opts: { intervalMs?: number; log?: Pick<Logger, 'warn' | 'info'> } = {}): OutboxSweeper {
  return startPeriodicPass(() => ingest.sweepOutbox(), {
    intervalMs: opts.intervalMs ?? 5_000, log: opts.log,
    messages: { failed: 'outbox sweep failed', recovered: 'outbox sweep works again' },
    report: (r, log) => { if (r.dispatched || r.dropped) log.info({ ...r }, 'outbox: events dispatched after a delay'); },
  });
}
