/**
 * Birthday (yearly date) scan, run daily by a Temporal Schedule. Each pass looks for contacts whose
 * stored birthday (top-level `birthdayMonthDay`, "MM-DD") falls within the next two days in any time
 * zone, and starts for each a run (id journey/<j>/<c>/<year>) that waits until the journey's local
 * time on the birthday in the contact's zone. Because every pass reads the contacts afresh, contacts
 * added after the schedule was created are included; overlapping passes are deduped by the run id.
 */
import { continueAsNew } from '@temporalio/workflow';
import { pinnedVersion, scanActs as acts } from './scan-activities';

export interface BirthdayScanInput {
  journeyId: string;
  version?: number;
  afterId?: string | null;
  scanAt?: string;
  /** How far ahead to start runs (default 48h: a daily scan sees every birthday twice, deduped). */
  lookaheadMs?: number;
  pageSize?: number;
  concurrency?: number;
  pagesPerRun?: number;
  totals?: { scanned: number; started: number; alreadyEntered: number };
}

export async function birthdayScan(input: BirthdayScanInput): Promise<BirthdayScanInput['totals']> {
  const totals = input.totals ?? { scanned: 0, started: 0, alreadyEntered: 0 };
  const version = await pinnedVersion(input.journeyId, input.version);
  if (version === null) return totals;
  const scanAt = input.scanAt ?? new Date(Date.now()).toISOString();
  let afterId = input.afterId ?? null;
  for (let page = 0; page < (input.pagesPerRun ?? 20); page++) {
    const r = await acts.scanBirthdayPage({
      journeyId: input.journeyId, version, afterId, scanAt, lookaheadMs: input.lookaheadMs ?? 48 * 3600_000,
      pageSize: input.pageSize ?? 200, concurrency: input.concurrency ?? 20,
    });
    totals.scanned += r.scanned; totals.started += r.started; totals.alreadyEntered += r.alreadyEntered;
    if (r.nextAfterId === null) return totals;
    afterId = r.nextAfterId;
  }
  return continueAsNew<typeof birthdayScan>({ ...input, version, afterId, scanAt, totals });
}
