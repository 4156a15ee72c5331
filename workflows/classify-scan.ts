/**
 * The daily classification pass, started by the Temporal Schedule `sojourn/classify/daily`
 * (engine/schedules.ts), which carries the deployed contact rule sets. Pages through every live contact
 * by `_id` (each page one bounded activity that classifies and writes the changes), and continues-as-new
 * every few pages so its history stays small however many contacts there are. Every page classifies as
 * of the pass's start time, so a pass is one consistent picture.
 */
import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { ClassifyActivities } from '../activities/classify';
import type { RuleSetPlan } from '../rules/plan';

const acts = proxyActivities<ClassifyActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', maximumInterval: '2 minutes' },
});

/** Contacts per field, value and rule (`importance` -> `vip` -> `importance#0` -> n). */
export type ClassifyTotalsDistribution = Record<string, Record<string, Record<string, number>>>;

export interface ClassifyScanTotals { scanned: number; changed: number; pages: number; distribution: ClassifyTotalsDistribution }

export interface ClassifyScanInput {
  ruleSets: RuleSetPlan[];
  afterId?: string | null;
  /** ISO time of the pass (set at the first page and kept across continue-as-new). */
  at?: string;
  pageSize?: number;
  pagesPerRun?: number;
  totals?: ClassifyScanTotals;
}

function add(into: ClassifyTotalsDistribution, from: ClassifyTotalsDistribution): void {
  for (const [field, values] of Object.entries(from)) {
    for (const [value, rules] of Object.entries(values)) {
      for (const [rule, n] of Object.entries(rules)) {
        const v = ((into[field] ??= {})[value] ??= {});
        v[rule] = (v[rule] ?? 0) + n;
      }
    }
  }
}

export async function classifyScan(input: ClassifyScanInput): Promise<ClassifyScanTotals> {
  const totals = input.totals ?? { scanned: 0, changed: 0, pages: 0, distribution: {} };
  const at = input.at ?? new Date(Date.now()).toISOString();
  let afterId = input.afterId ?? null;
  for (let page = 0; page < (input.pagesPerRun ?? 20); page++) {
    const r = await acts.classifyContactsPage({ ruleSets: input.ruleSets, afterId, pageSize: input.pageSize ?? 500, at });
    totals.scanned += r.scanned;
    totals.changed += r.changed;
    totals.pages += 1;
    add(totals.distribution, r.distribution);
    if (r.nextAfterId === null) return totals;
    afterId = r.nextAfterId;
  }
  return continueAsNew<typeof classifyScan>({ ...input, afterId, at, totals });
}
