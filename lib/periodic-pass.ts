/**
 * A background pass run every `intervalMs` inside a long-lived process (the outbox sweep, the
 * idempotency-key expiry, the report fold): one pass at a time, a failed pass (database down) logged
 * once per outage and retried at the next tick, the timer never keeping the process alive.
 */
import type { Logger } from 'pino';

export interface PeriodicPass<T> {
  /** Runs one pass now (tests, shutdown), or joins the one running; null when it failed. */
  runOnce(): Promise<T | null>;
  stop(): Promise<void>;
}

export function startPeriodicPass<T>(pass: () => Promise<T>, opts: {
  intervalMs: number;
  log?: Pick<Logger, 'warn' | 'info'>;
  /** What the log says: `${failed}; retrying` once per outage, `${recovered}` when it works again. */
  messages: { failed: string; recovered: string };
  /** Logs a successful pass's result, if worth saying. */
  report?: (result: T, log: Pick<Logger, 'warn' | 'info'>) => void;
}): PeriodicPass<T> {
  let running: Promise<T | null> | null = null;
  let failing = false;
  const runOnce = () =>
    (running ??= pass().then(
      (r) => {
        if (failing) opts.log?.info(opts.messages.recovered);
        failing = false;
        if (opts.log) opts.report?.(r, opts.log);
        return r;
      },
      (err: unknown) => {
        if (!failing) opts.log?.warn({ err: err instanceof Error ? err.message : String(err) }, `${opts.messages.failed}; retrying`);
        failing = true;
        return null;
      },
    ).finally(() => { running = null; }));
  const timer = setInterval(() => void runOnce(), opts.intervalMs);
  timer.unref();
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
