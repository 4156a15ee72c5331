/**
 * Folds pending report facts into the daily counters (data/journey-stats.ts `foldFacts`) every
 * `intervalMs` inside `sojourn serve`/`server`, so pending facts stay few and a report finds its
 * counters current. A report folds before reading too; the lease keeps folders of several processes
 * from counting at once. A failed pass (database down) is logged once per outage.
 */
import type { Logger } from 'pino';
import { foldFacts, type FoldResult } from '../data/journey-stats';

export interface StatsFolder { runOnce(): Promise<FoldResult | null>; stop(): Promise<void> }

export function startStatsFolder(opts: { intervalMs?: number; log?: Pick<Logger, 'warn' | 'info'> } = {}): StatsFolder {
  let running: Promise<FoldResult | null> | null = null;
  let failing = false;
  const runOnce = () =>
    (running ??= foldFacts().then(
      (r) => {
        if (failing) opts.log?.info('report counters fold again');
        failing = false;
        return r;
      },
      (err: unknown) => {
        if (!failing) opts.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'folding report facts failed; retrying');
        failing = true;
        return null;
      },
    ).finally(() => { running = null; }));
  const timer = setInterval(() => void runOnce(), opts.intervalMs ?? 10_000);
  timer.unref();
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
