/**
 * What the daily date scan asks the database, and when each contact it finds is due. Pure functions,
 * used by the scan page activity (activities/scan.ts) and tested without a server.
 *
 * The query is always bounded by the dates that can be due in the next pass, so that a database with
 * an index on the field answers it from the index (decision 32): birthdays by the indexed `birthdayMonthDay`
 * keys; other contact dates by ranges on the field itself (indexed at deploy, `dateFieldIndexes`), one
 * range for a `once` date and one per past year for a yearly one; holidays query nobody on the days
 * no holiday is near, and the journey's audience (its `when`, pushed down) on the days one is.
 */
import { holidayDate, ymd, type CalendarDate } from '../lib/holiday-calendar';
import { CONTACT_FIELDS } from '../rules/contact-schema';
import { dateTriggerRepeat, type Trigger } from '../rules/plan';
import { birthdayKeysOn, dateOffsetInstant, isLeapYear, localDate, localDateOf, yearlyDay } from '../workflows/local-time';

export type DateTrigger = Extract<Trigger, { kind: 'date' }>;
type Filter = Record<string, unknown>;

const DAY = 86_400_000;
/** How far back a yearly date may lie (anniversaries of dates up to this many years ago are found). */
export const YEARLY_SPAN_YEARS = 130;

/** The document path of a trigger's contact date (`attributes.renewalDate`, `createdAt`). */
export function datePath(field: string): string {
  if (field.startsWith('attributes.')) return field;
  return CONTACT_FIELDS.find((f) => f.path === field)?.mongoPath ?? field;
}

const addDays = (d: CalendarDate, n: number): CalendarDate => localDate(Date.UTC(d.year, d.month - 1, d.day) + n * DAY, 'UTC');

/**
 * The calendar dates that can be due within [now, now + lookahead] somewhere on Earth (zones from
 * UTC-12 to UTC+14): the UTC dates from a day before to a day after.
 */
export function dueDates(now: number, lookaheadMs: number): CalendarDate[] {
  const out: CalendarDate[] = [];
  for (let t = now - DAY; t <= now + lookaheadMs + DAY; t += DAY) out.push(localDate(t, 'UTC'));
  return out;
}

/** One range of stored dates: text dates ("2027-03-15", or ISO with a time) and Date values whose local date may be in [from, to]. */
function rangeFilter(path: string, from: CalendarDate, to: CalendarDate): Filter[] {
  const next = addDays(to, 1);
  return [
    { [path]: { $gte: ymd(from), $lt: ymd(next) } },
    // A stored instant's local date is its UTC date moved by at most -12h/+14h.
    { [path]: { $gte: new Date(Date.UTC(from.year, from.month - 1, from.day) - 14 * 3600_000), $lt: new Date(Date.UTC(next.year, next.month - 1, next.day) + 12 * 3600_000) } },
  ];
}

/** Sorted distinct dates merged into runs of consecutive days. */
function runs(dates: CalendarDate[]): [CalendarDate, CalendarDate][] {
  const sorted = [...new Map(dates.map((d) => [ymd(d), d])).values()].sort((a, b) => ymd(a).localeCompare(ymd(b)));
  const out: [CalendarDate, CalendarDate][] = [];
  for (const d of sorted) {
    const last = out[out.length - 1];
    if (last && ymd(addDays(last[1], 1)) === ymd(d)) last[1] = d;
    else out.push([d, d]);
  }
  return out;
}

/**
 * The filter of the contacts whose trigger date can be due in this pass, or null when nothing can be
 * (a holiday far away): the scan then reads nothing.
 */
export function dateScanFilter(trigger: DateTrigger, now: number, lookaheadMs: number): Filter | null {
  const offset = trigger.offsetDays ?? 0;
  // The dates on the contact that land on a due date once moved by the offset.
  const dates = dueDates(now, lookaheadMs).map((d) => addDays(d, -offset));
  if (trigger.holiday) {
    const holiday = trigger.holiday;
    const years = new Set(dates.flatMap((d) => [d.year - 1, d.year, d.year + 1]));
    const near = [...years].some((y) => dates.some((d) => ymd(d) === ymd(holidayDate(holiday, y))));
    return near ? {} : null;
  }
  const field = trigger.field ?? 'birthday';
  if (field === 'birthday') return { birthdayMonthDay: { $in: [...new Set(dates.flatMap((d) => birthdayKeysOn(d.year, d.month, d.day)))] } };
  const path = datePath(field);
  if (dateTriggerRepeat(trigger) === 'once') {
    return { $or: runs(dates).flatMap(([from, to]) => rangeFilter(path, from, to)) };
  }
  // Yearly: the same month and day in every past year (29 Feb of leap years on 28 Feb of other years).
  const past: CalendarDate[] = [];
  for (const d of dates) {
    for (let y = d.year - YEARLY_SPAN_YEARS; y <= d.year; y++) {
      if (d.month === 2 && d.day === 29 && !isLeapYear(y)) continue;
      past.push({ year: y, month: d.month, day: d.day });
      if (d.month === 2 && d.day === 28 && !isLeapYear(d.year) && isLeapYear(y)) past.push({ year: y, month: 2, day: 29 });
    }
  }
  return { $or: runs(past).flatMap(([from, to]) => rangeFilter(path, from, to)) };
}

/** A contact date by its document path (`attributes.renewalDate`). */
export function valueAt(doc: Record<string, unknown>, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), doc);
}

/**
 * When a contact found by the scan is due: the first instant >= now at the trigger's local time on its
 * date moved by the offset (for yearly dates, in the year that comes next; never before the date's own
 * year), or null when it has no such date.
 */
export function dueInstant(trigger: DateTrigger, doc: Record<string, unknown>, zone: string, now: number): number | null {
  const offset = trigger.offsetDays ?? 0;
  const year = localDate(now, zone).year;
  const firstAfter = (dateOf: (y: number) => CalendarDate | null): number | null => {
    for (let y = year - 1; y <= year + 1; y++) {
      const d = dateOf(y);
      const t = d ? dateOffsetInstant(d, offset, trigger.at, zone) : null;
      if (t !== null && t >= now) return t;
    }
    return null;
  };
  if (trigger.holiday) {
    const holiday = trigger.holiday;
    return firstAfter((y) => holidayDate(holiday, y));
  }
  const field = trigger.field ?? 'birthday';
  let date: CalendarDate | null;
  if (field === 'birthday') {
    const [mm, dd] = String(doc.birthdayMonthDay ?? '').split('-').map(Number);
    date = mm && dd ? { year: 0, month: mm, day: dd } : null;
  } else date = localDateOf(valueAt(doc, datePath(field)), zone);
  if (!date) return null;
  if (dateTriggerRepeat(trigger) === 'once') {
    const t = dateOffsetInstant(date, offset, trigger.at, zone);
    return t >= now ? t : null;
  }
  const d = date;
  return firstAfter((y) => (y < d.year ? null : { year: y, ...yearlyDay(y, d.month, d.day) }));
}
