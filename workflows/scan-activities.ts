/** What the audience and birthday scan workflows share: their activities (timeouts, retries) and version pinning. */
import { proxyActivities } from '@temporalio/workflow';
import type { JourneyActivities } from '../activities/journeys';
import type { ScanActivities } from '../activities/scan';

/** Pages of a scan heartbeat per contact: a dead worker is noticed within 20 s; retried without limit (runs are deduped by id). */
export const scanActs = proxyActivities<ScanActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '5 seconds', maximumInterval: '2 minutes' },
});

export const liveJourney = proxyActivities<Pick<JourneyActivities, 'getLiveJourney'>>({ startToCloseTimeout: '30 seconds' });

/** The version a scan pins at its first page: the given one, or the live one (null: paused or not deployed). */
export async function pinnedVersion(journeyId: string, version: number | undefined): Promise<number | null> {
  if (version !== undefined) return version;
  const j = await liveJourney.getLiveJourney({ journeyId });
  return !j || j.paused ? null : j.version;
}
