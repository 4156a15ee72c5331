/**
 * Send-time optimisation: when, within a window, to send to a contact, from the hours of the week they
 * opened email in (data/open-hours.ts). Pure and deterministic (the workflow calls it with the
 * histogram an activity read), so a replayed run picks the same instant.
 *
 * The candidates are now and the start of every local hour up to `now + within`. Quiet hours are never
 * a candidate (the same `quietHoursEnd` the gate uses). Each candidate scores the opens in its hour of
 * the day on any weekday, half those of the hours either side (a person who reads at 07:00 is a good bet
 * at 08:00 when 07:00 is quiet), plus the opens in that very hour of the week (weekday habits count
 * double). The highest score wins, the earliest on a tie. Below `minOpens` opens, or when no candidate
 * scores, the contact gets the fallback local time (`at`); when that is quiet or beyond the window, the
 * first candidate. When the whole window is quiet, the send waits for the quiet hours to end: quiet
 * hours win over the window.
 */
import { DateTime } from 'luxon';
import { HOURS_PER_WEEK, hourOfWeek } from '../rules/hour-of-week';
import { nextLocalTimeOfDay, quietHoursEnd } from './local-time';

/** Below this many human opens the history says too little: the fallback time is used. */
export const BEST_TIME_MIN_OPENS = 5;
/** The fallback local time when a step names none. */
export const BEST_TIME_DEFAULT_AT = '10:00';

export interface BestTimeInput {
  now: number;
  withinMs: number;
  /** Zone of quiet hours and of the fallback time: the contact's, or the journey's default. */
  zone: string;
  /** Zone the histogram's buckets are in (rules/hour-of-week.ts `histogramZone` of the contact's zone). */
  histogramZone: string;
  quietHours?: { from: string; to: string };
  /** Opens per hour-of-week bucket (168), and their total. */
  histogram: { total: number; hours: number[] } | null;
  minOpens?: number;
  /** Fallback local time "HH:MM". */
  fallbackAt?: string;
}

export type BestTimeBasis = 'history' | 'fallback' | 'quiet_hours';
export interface BestTimePick { at: number; basis: BestTimeBasis }

/** The instant to send at (see the file comment for the rules). */
export function pickBestTime(input: BestTimeInput): BestTimePick {
  const { now, withinMs, zone, quietHours } = input;
  const end = now + Math.max(0, withinMs);
  const quiet = (t: number) => quietHours !== undefined && quietHoursEnd(t, quietHours, zone) !== null;
  const candidates = [now];
  for (let t = DateTime.fromMillis(now, { zone: input.histogramZone }).startOf('hour').toMillis() + 3_600_000; t <= end; t += 3_600_000) candidates.push(t);
  const allowed = candidates.filter((t) => !quiet(t));
  // Only when now itself is quiet can every candidate be: wait for the window to end.
  if (allowed.length === 0) return { at: quietHoursEnd(now, quietHours!, zone) ?? now, basis: 'quiet_hours' };

  const h = input.histogram;
  if (h && h.total >= (input.minOpens ?? BEST_TIME_MIN_OPENS) && h.hours.length === HOURS_PER_WEEK) {
    const day = new Array<number>(24).fill(0);
    h.hours.forEach((n, b) => { day[b % 24] += n; });
    let best: { at: number; score: number } | null = null;
    for (const t of allowed) {
      const b = hourOfWeek(t, input.histogramZone);
      const hr = b % 24;
      const score = day[hr] + (day[(hr + 23) % 24] + day[(hr + 1) % 24]) / 2 + h.hours[b];
      if (score > 0 && (!best || score > best.score)) best = { at: t, score };
    }
    if (best) return { at: best.at, basis: 'history' };
  }

  let target = nextLocalTimeOfDay(now, input.fallbackAt ?? BEST_TIME_DEFAULT_AT, zone);
  if (quiet(target)) target = quietHoursEnd(target, quietHours!, zone) ?? target;
  return { at: target <= end ? target : allowed[0], basis: 'fallback' };
}
