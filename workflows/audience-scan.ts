/**
 * Audience scan, run by a Temporal Schedule for schedule/segment triggers: pages through the contacts
 * matching the journey's segment (by _id, in an activity that also starts the runs with bounded
 * concurrency) and continues-as-new every few pages so its history stays small.
 */
import { continueAsNew } from '@temporalio/workflow';
import { pinnedVersion, scanActs as acts } from './scan-activities';

export interface AudienceScanInput {
  journeyId: string;
  /** Pinned at the first page so one scan starts every run on the same version. */
  version?: number;
  afterId?: string | null;
  /** ISO time the scan was scheduled; the trigger event time of the runs it starts. */
  scanAt?: string;
  pageSize?: number;
  concurrency?: number;
  pagesPerRun?: number;
  totals?: { scanned: number; matched: number; started: number; alreadyEntered: number };
}

export async function audienceScan(input: AudienceScanInput): Promise<AudienceScanInput['totals']> {
  const totals = input.totals ?? { scanned: 0, matched: 0, started: 0, alreadyEntered: 0 };
  const version = await pinnedVersion(input.journeyId, input.version);
  if (version === null) return totals;
  const scanAt = input.scanAt ?? new Date(Date.now()).toISOString();
  let afterId = input.afterId ?? null;
  for (let page = 0; page < (input.pagesPerRun ?? 20); page++) {
    const r = await acts.scanAudiencePage({
      journeyId: input.journeyId, version, afterId, scanAt, pageSize: input.pageSize ?? 200, concurrency: input.concurrency ?? 20,
    });
    totals.scanned += r.scanned; totals.matched += r.matched; totals.started += r.started; totals.alreadyEntered += r.alreadyEntered;
    if (r.nextAfterId === null) return totals;
    afterId = r.nextAfterId;
  }
  return continueAsNew<typeof audienceScan>({ ...input, version, afterId, scanAt, totals });
}
