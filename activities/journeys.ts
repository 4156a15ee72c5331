/** Loading pinned plans and live journey state for runs and scans. */
import { ApplicationFailure } from '@temporalio/common';
import { getJourney, getJourneyPlan } from '../data/journey-versions';
import type { EntryPolicy, JourneyPlan } from '../rules/plan';

export interface LiveJourney { journeyId: string; version: number; paused: boolean; entry: EntryPolicy }

export interface JourneyActivities {
  /** The plan of a deployed version. A missing version is a non-retryable `UnknownJourneyVersion`. */
  loadJourneyPlan(input: { journeyId: string; version: number }): Promise<JourneyPlan>;
  /** The live version and paused flag, or null when never deployed. */
  getLiveJourney(input: { journeyId: string }): Promise<LiveJourney | null>;
}

/** Versions are immutable, so plans are cached per worker (bounded). */
const PLAN_CACHE_LIMIT = 200;

export function createJourneyActivities(): JourneyActivities {
  const cache = new Map<string, JourneyPlan>();
  return {
    async loadJourneyPlan({ journeyId, version }) {
      const key = `${journeyId}@${version}`;
      const cached = cache.get(key);
      if (cached) return cached;
      const plan = await getJourneyPlan(journeyId, version);
      if (!plan) throw ApplicationFailure.nonRetryable(`journey ${journeyId} has no version ${version}`, 'UnknownJourneyVersion');
      if (cache.size >= PLAN_CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
      cache.set(key, plan);
      return plan;
    },
    async getLiveJourney({ journeyId }) {
      const j = await getJourney(journeyId);
      if (!j) return null;
      const plan = await getJourneyPlan(journeyId, j.liveVersion);
      if (!plan) return null;
      return { journeyId, version: j.liveVersion, paused: j.paused, entry: plan.entry };
    },
  };
}
