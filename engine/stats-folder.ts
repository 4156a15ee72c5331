/**
 * Folds pending report facts into the daily counters (data/journey-stats.ts `foldFacts`) every
 * `intervalMs` inside `sojourn serve`/`server`, so pending facts stay few and a report finds its
 * counters current. A report folds before reading too; the lease keeps folders of several processes
 * from counting at once. A failed pass (database down) is logged once per outage. The same pass folds
 * pending human opens into the contacts' open histograms (data/open-hours.ts, send-time optimisation).
 */
import type { Logger } from 'pino';
import { startPeriodicPass } from '../lib/periodic-pass';
import { foldFacts, type FoldResult } from '../data/journey-stats';
import { foldOpenHours } from '../data/open-hours';

export interface StatsFolder { runOnce(): Promise<FoldResult | null>; stop(): Promise<void> }

export function startStatsFolder(opts: { intervalMs?: number; log?: Pick<Logger, 'warn' | 'info'> } = {}): StatsFolder {
  const pass = async (): Promise<FoldResult> => {
    const r = await foldFacts();
    await foldOpenHours({ maxFacts: 5_000 });
    return r;
  };
  return startPeriodicPass(pass, {
    intervalMs: opts.intervalMs ?? 10_000, log: opts.log,
    messages: { failed: 'folding report facts failed', recovered: 'report counters fold again' },
  });
}
