/**
 * The page of the daily classification pass (workflows/classify-scan.ts): one bounded page of contacts
 * by `_id`, classified with the rule sets the schedule carries, changes written in one bulk write.
 * Idempotent: a retried page classifies the same contacts at the same time and writes the same values.
 */
import { heartbeat } from '@temporalio/activity';
import { classifyPage as dataLayerClassifyPage, type ClassifyPageInput, type ClassifyPageResult } from '../data/contacts';
import type { RuleSetPlan } from '../rules/plan';

export interface ClassifyPageRequest {
  ruleSets: RuleSetPlan[];
  afterId: string | null;
  pageSize: number;
  /** ISO time of the pass: every page classifies "as of" it. */
  at: string;
}

export interface ClassifyActivities {
  classifyContactsPage(input: ClassifyPageRequest): Promise<ClassifyPageResult>;
}

/** Built over the data layer's page (data/contact-classification.ts); tests may pass their own. */
export function createClassifyActivities(deps: { classifyPage?: (input: ClassifyPageInput) => Promise<ClassifyPageResult> } = {}): ClassifyActivities {
  const page = deps.classifyPage ?? dataLayerClassifyPage;
  return {
    async classifyContactsPage(input) {
      heartbeat();
      return page({ ruleSets: input.ruleSets, afterId: input.afterId, pageSize: input.pageSize, at: new Date(input.at) });
    },
  };
}
