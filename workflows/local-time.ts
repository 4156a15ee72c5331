/**
 * Local-time arithmetic for waits, birthdays and quiet hours, as pure functions of (instant, zone).
 * Used inside the workflow sandbox (luxon only needs Intl, and Date.now is deterministic there) and by
 * the gate activity, so both sides agree on what "09:00 in Asia/Shanghai" means.
 *
 * DST rules, chosen once: a local time that does not exist (spring-forward gap) moves forward by the
 * length of the gap (02:30 -> 03:30); an ambiguous local time (fall-back overlap) takes the earlier instant.
 */
import { DateTime } from 'luxon';

export interface HourMinute { hour: number; minute: number }

/** Parses "HH:MM" (24h). Throws on malformed input: plans are validated before they get here. */
export function parseLocalTime(at: string): HourMinute {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(at);
  if (!m) throw new Error(`invalid local time "${at}", expected HH:MM`);
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

/** A zone luxon understands, or the fallback (invalid or missing zones never crash a run). */
export function safeZone(zone: string | null | undefined, fallback: string): string {
  if (zone && DateTime.now().setZone(zone).isValid) return zone;
  return fallback;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** The day a yearly (month, day) date falls on in `year`: 29 Feb becomes 28 Feb in non-leap years. */
export function yearlyDay(year: number, month: number, day: number): { month: number; day: number } {
  if (month === 2 && day === 29 && !isLeapYear(year)) return { month: 2, day: 28 };
  return { month, day };
}

/** The instant a local wall-clock time happens on a local date, with the DST rules above. */
export function localInstant(zone: string, year: number, month: number, day: number, at: HourMinute): number {
  // luxon resolves gaps by moving forward (our rule); for overlaps it may pick the later offset, so look
  // for an earlier instant with the same wall clock (DST shifts are 30 or 60 minutes).
  const t = DateTime.fromObject({ year, month, day, hour: at.hour, minute: at.minute }, { zone }).toMillis();
  for (const shift of [3600_000, 1800_000]) {
    const e = DateTime.fromMillis(t - shift, { zone });
    if (e.year === year && e.month === month && e.day === day && e.hour === at.hour && e.minute === at.minute) return t - shift;
  }
  return t;
}

/** The first instant >= `now` at which the local clock in `zone` reads `at`. */
export function nextLocalTimeOfDay(now: number, at: string, zone: string): number {
  const hm = parseLocalTime(at);
  const local = DateTime.fromMillis(now, { zone });
  for (let i = 0; i < 3; i++) {
    const d = local.plus({ days: i });
    const t = localInstant(zone, d.year, d.month, d.day, hm);
    if (t >= now) return t;
  }
  throw new Error('unreachable: no local time within three days');
}

/** The first instant >= `now` of a yearly date (month, day) at local time `at` in `zone` (29 Feb -> 28 Feb in non-leap years). */
export function nextYearlyDate(now: number, month: number, day: number, at: string, zone: string): number {
  const hm = parseLocalTime(at);
  const year = DateTime.fromMillis(now, { zone }).year;
  for (let y = year; y <= year + 2; y++) {
    const d = yearlyDay(y, month, day);
    const t = localInstant(zone, y, d.month, d.day, hm);
    if (t >= now) return t;
  }
  throw new Error('unreachable: no yearly date within two years');
}

/** "MM-DD" keys of stored birthdays that are celebrated on this local date (28 Feb also covers 29 Feb in non-leap years). */
export function birthdayKeysOn(year: number, month: number, day: number): string[] {
  const key = (mm: number, dd: number) => `${String(mm).padStart(2, '0')}-${String(dd).padStart(2, '0')}`;
  const keys = [key(month, day)];
  if (month === 2 && day === 28 && !isLeapYear(year)) keys.push(key(2, 29));
  return keys;
}

/** The local calendar date of an instant in a zone. */
export function localDate(now: number, zone: string): { year: number; month: number; day: number } {
  const d = DateTime.fromMillis(now, { zone });
  return { year: d.year, month: d.month, day: d.day };
}

/**
 * If `now` falls in the quiet window [from, to) of the local day (the window may wrap midnight, e.g.
 * 21:00-08:00), the instant the window ends; otherwise null.
 */
export function quietHoursEnd(now: number, window: { from: string; to: string }, zone: string): number | null {
  const from = parseLocalTime(window.from);
  const to = parseLocalTime(window.to);
  const local = DateTime.fromMillis(now, { zone });
  const minutes = local.hour * 60 + local.minute;
  const f = from.hour * 60 + from.minute;
  const t = to.hour * 60 + to.minute;
  if (f === t) return null;
  const inside = f < t ? minutes >= f && minutes < t : minutes >= f || minutes < t;
  if (!inside) return null;
  // The end is today at `to` if we are before it (after midnight part of a wrapped window), else tomorrow.
  const endDay = minutes < t ? local : local.plus({ days: 1 });
  return localInstant(zone, endDay.year, endDay.month, endDay.day, to);
}

/**
 * The local calendar date a contact date means: a date written without a time ("2027-03-15") is that
 * date wherever the contact is; an instant (a Date, or ISO text with a time) is its date in the zone.
 * null for anything else.
 */
export function localDateOf(value: unknown, zone: string): { year: number; month: number; day: number } | null {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const [year, month, day] = value.split('-').map(Number);
    const d = DateTime.fromObject({ year, month, day }, { zone: 'UTC' });
    return d.isValid ? { year, month, day } : null;
  }
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isNaN(ms) ? null : localDate(ms, zone);
}

/** The instant `offsetDays` calendar days from a local date, at local time `at` in `zone` (DST rules as above). */
export function dateOffsetInstant(date: { year: number; month: number; day: number }, offsetDays: number, at: string, zone: string): number {
  const d = DateTime.fromObject(date, { zone: 'UTC' }).plus({ days: offsetDays });
  return localInstant(zone, d.year, d.month, d.day, parseLocalTime(at));
}
