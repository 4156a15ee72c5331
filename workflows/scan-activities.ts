/** The activities the audience and birthday scan workflows call, with their timeouts and retries. */
import { proxyActivities } from '@temporalio/workflow';
import type { JourneyActivities } from '../activities/journeys';
import type { ScanActivities } from '../activities/scan';

export const scanActs = proxyActivities<ScanActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumInterval: '2 minutes' },
});

export const liveJourney = proxyActivities<Pick<JourneyActivities, 'getLiveJourney'>>({ startToCloseTimeout: '30 seconds' });
