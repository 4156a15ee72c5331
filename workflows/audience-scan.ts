/**
 * Audience scan, run by a Temporal Schedule for schedule/segment triggers: pages through the contacts
 * by `_id` (an activity reads one page, keeps the segment's members and starts their runs with bounded
 * concurrency) and continues-as-new every few pages so its history stays small. The `scanProgress`
 * query tells how far it is (`sojourn status <journey>`, bench/audience.bench.ts).
 */
import { continueAsNew, setHandler } from '@temporalio/workflow';
import { pinnedVersion, scanActs as acts } from './scan-activities';
import { scanProgressQuery } from './scan-progress';

export interface AudienceScanInput {
  journeyId: string;
  /** Pinned at the first page so one scan starts every run on the same version. */
  version?: number;
  afterId?: string | null;
  /** ISO time the scan was scheduled; the trigger event time of the runs it starts. */
  scanAt?: string;
  /** Contacts read per page (the segment is evaluated on them, so a page starts at most this many runs). */
  pageSize?: number;
  concurrency?: number;
  pagesPerRun?: number;
  totals?: { scanned: number; matched: number; started: number; alreadyEntered: number };
  /** Pages read by the earlier runs of this scan (carried across continue-as-new, for progress). */
  pages?: number;
}

/** Contacts read per page unless the caller says otherwise (one `_id` range of this many rows). */
export const AUDIENCE_PAGE_SIZE = 500;

export async function audienceScan(input: AudienceScanInput): Promise<AudienceScanInput['totals']> {
  const totals = input.totals ?? { scanned: 0, matched: 0, started: 0, alreadyEntered: 0 };
  // The scan time is taken once the version is pinned, where it always was (recorded histories replay alike).
  let scanAt = input.scanAt ?? '';
  let afterId = input.afterId ?? null;
  let pages = input.pages ?? 0;
  let version: number | null = input.version ?? null;
  let done = false;
  setHandler(scanProgressQuery, () => ({ journeyId: input.journeyId, version, scanAt, pages, ...totals, afterId, done }));
  version = await pinnedVersion(input.journeyId, input.version);
  if (version === null) {
    done = true;
    return totals;
  }
  scanAt = input.scanAt ?? new Date(Date.now()).toISOString();
  for (let page = 0; page < (input.pagesPerRun ?? 20); page++) {
    const r = await acts.scanAudiencePage({
      journeyId: input.journeyId, version, afterId, scanAt, pageSize: input.pageSize ?? AUDIENCE_PAGE_SIZE, concurrency: input.concurrency ?? 20,
    });
    pages++;
    totals.scanned += r.scanned; totals.matched += r.matched; totals.started += r.started; totals.alreadyEntered += r.alreadyEntered;
    if (r.nextAfterId === null) {
      done = true;
      return totals;
    }
    afterId = r.nextAfterId;
  }
  return continueAsNew<typeof audienceScan>({ ...input, version, afterId, scanAt, totals, pages });
}
