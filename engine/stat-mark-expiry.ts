/**
 * Removes the marks of report facts folded longer ago than their retention (data/journey-stats.ts
 * `expireStatMarks`, 30 days) every `intervalMs` inside `sojourn serve`/`server`, so the collection that
 * makes each fact count once holds about a month of facts instead of growing forever. Each mark is deleted
 * by `_id`, from the lists the fold kept, never by a range filter (FerretDB would scan every mark).
 */
import type { Logger } from 'pino';
import { startPeriodicPass, type PeriodicPass } from '../lib/periodic-pass';
import { expireStatMarks, type MarkExpiry } from '../data/journey-stats';

export function startStatMarkExpiry(opts: { intervalMs?: number; retentionMs?: number; now?: () => Date; log?: Pick<Logger, 'warn' | 'info'> } = {}): PeriodicPass<MarkExpiry> {
  const now = opts.now ?? (() => new Date());
  return startPeriodicPass(async () => {
    // A backlog (the first pass after a long stop) is worked off in slices, each bounded.
    const total: MarkExpiry = { removed: 0, days: 0, more: true };
    for (let i = 0; i < 20 && total.more; i++) {
      const r = await expireStatMarks({ now: now(), retentionMs: opts.retentionMs });
      Object.assign(total, { removed: total.removed + r.removed, days: total.days + r.days, more: r.more });
    }
    return total;
  }, {
    intervalMs: opts.intervalMs ?? 60 * 60_000, log: opts.log,
    messages: { failed: 'expiring report fact marks failed', recovered: 'report fact marks expire again' },
    report: (r, log) => { if (r.removed) log.info({ removed: r.removed, days: r.days }, 'report: expired fact marks removed'); },
  });
}
