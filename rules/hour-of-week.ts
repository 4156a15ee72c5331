/**
 * Hour-of-week buckets for send-time optimisation, shared by the open write path (data/open-hours.ts)
 * and the workflow's best-hour pick (workflows/best-time.ts), so both name the same hour the same way.
 * Bucket 0 is Monday 00:00-00:59 in the zone, 167 Sunday 23:00-23:59. Buckets are local: a person who
 * reads at 08:00 keeps reading at 08:00 across DST changes and after moving to another zone.
 */
import { DateTime } from 'luxon';

export const HOURS_PER_WEEK = 168;

/** The zone buckets are counted in: the contact's own, or UTC when it has none (or a bad one). */
export function histogramZone(zone: string | null | undefined): string {
  if (zone && DateTime.fromMillis(0, { zone }).isValid) return zone;
  return 'UTC';
}

/** The hour-of-week bucket (0-167) of an instant in a zone (UTC if the zone is not valid). */
export function hourOfWeek(ms: number, zone: string): number {
  const d = DateTime.fromMillis(ms, { zone: histogramZone(zone) });
  return (d.weekday - 1) * 24 + d.hour;
}
