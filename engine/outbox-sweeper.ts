/**
 * Runs the outbox sweep (engine/ingest.ts `sweepOutbox`) every `intervalMs` inside `sojourn serve`,
 * so events stored while the engine was unreachable reach their runs once it is back. One pass at a
 * time; a failed pass (database down) is logged once per outage and retried at the next tick. Each
 * entry carries its own backoff, so an engine that stays down is not hammered.
 */
import type { Logger } from 'pino';
import type { Ingest, SweepResult } from './ingest';

export interface OutboxSweeper {
  /** Runs one pass now (tests, shutdown). */
  runOnce(): Promise<SweepResult | null>;
  stop(): Promise<void>;
}

export function startOutboxSweeper(ingest: Pick<Ingest, 'sweepOutbox'>, opts: { intervalMs?: number; log?: Pick<Logger, 'warn' | 'info'> } = {}): OutboxSweeper {
  const intervalMs = opts.intervalMs ?? 5_000;
  let running: Promise<SweepResult | null> | null = null;
  let failing = false;
  const runOnce = () =>
    (running ??= ingest.sweepOutbox().then(
      (r) => {
        if (failing) opts.log?.info('outbox sweep works again');
        failing = false;
        if (r.dispatched || r.dropped) opts.log?.info({ ...r }, 'outbox: events dispatched after a delay');
        return r;
      },
      (err: unknown) => {
        if (!failing) opts.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'outbox sweep failed; retrying');
        failing = true;
        return null;
      },
    ).finally(() => { running = null; }));
  const timer = setInterval(() => void runOnce(), intervalMs);
  timer.unref();
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
