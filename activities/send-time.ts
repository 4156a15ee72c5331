/**
 * The read behind `wait: { until: best_time }`: the contact's open histogram (data/open-hours.ts), folded
 * up to date and read by `_id`. Only counts per hour of the week leave the database (no personal data in
 * the run's history); the workflow picks the hour itself (workflows/best-time.ts), so replays agree.
 */
import { readOpenHistogram, type OpenHistogram } from '../data/open-hours';

export interface SendTimeActivities {
  /** Human opens per hour-of-week bucket (168, Monday 00:00 local first) and their total. */
  readOpenHistogram(input: { contactId: string }): Promise<OpenHistogram>;
}

export function createSendTimeActivities(deps: { read?: (contactId: string) => Promise<OpenHistogram> } = {}): SendTimeActivities {
  const read = deps.read ?? ((id: string) => readOpenHistogram(id));
  return {
    readOpenHistogram: ({ contactId }) => read(contactId),
  };
}
