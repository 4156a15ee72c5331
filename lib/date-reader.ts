/**
 * Reads birthdays as people write them, with luxon doing the parsing: ISO forms always
 * (`1990-05-17`, `05-17`, `--05-17`, `19900517`, `1990-05-17T00:00:00Z`), month names in English
 * (`17 May 1990`, `May 17, 1990`, `17-May`), year-first numeric forms (`1990/5/17`), and day/month
 * numeric forms (`17/05/1990`, `5.17`) only when the caller says the order (`dmy`, `mdy`, `ymd`):
 * `03/04/1990` is 3 April or 4 March, and guessing would put a birthday email on the wrong day.
 *
 * A year is optional; with one it must be 1900..this year and 29 February only in leap years.
 */
import { DateTime } from 'luxon';

export type DateOrder = 'dmy' | 'mdy' | 'ymd';
export const DATE_ORDERS: readonly DateOrder[] = ['dmy', 'mdy', 'ymd'];

export interface Birthday { month: number; day: number; year?: number }

export type BirthdayReading =
  | { ok: true; birthday: Birthday; how: 'exact' | 'mapped' }
  | { ok: false; code: 'E_BIRTHDAY' | 'E_BIRTHDAY_ORDER'; message: string };

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A real month/day (and year, when given: 1900..this year, leap years only for 29 February). */
export function checkBirthday(month: number, day: number, year?: number): Birthday | null {
  if (!Number.isInteger(month) || !Number.isInteger(day) || month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]) return null;
  if (year === undefined) return { month, day };
  if (!Number.isInteger(year) || year < 1900 || year > new Date().getUTCFullYear()) return null;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (month === 2 && day === 29 && !leap) return null;
  return { month, day, year };
}

const NUMERIC_FORMATS: Record<DateOrder, string[]> = {
  dmy: ['d/M/yyyy', 'd.M.yyyy', 'd-M-yyyy', 'd M yyyy'],
  mdy: ['M/d/yyyy', 'M.d.yyyy', 'M-d-yyyy', 'M d yyyy'],
  ymd: ['yyyy/M/d', 'yyyy.M.d', 'yyyy-M-d', 'yyyy M d'],
};
const NAMED_FORMATS = ['d MMM yyyy', 'd MMMM yyyy', 'MMM d yyyy', 'MMMM d yyyy', 'd MMM', 'd MMMM', 'MMM d', 'MMMM d', 'yyyy MMM d', 'yyyy MMMM d'];

/** Parses with luxon; forms without a year are read in the leap year 2000 so 29 February survives. */
function withLuxon(text: string, formats: string[]): Birthday | 'invalid' | null {
  let sawShape = false;
  for (const f of formats) {
    const hasYear = f.includes('yyyy');
    const dt = DateTime.fromFormat(hasYear ? text : `${text} 2000`, hasYear ? f : `${f} yyyy`, { locale: 'en-US', zone: 'utc' });
    if (dt.isValid) {
      const b = checkBirthday(dt.month, dt.day, hasYear ? dt.year : undefined);
      return b ?? 'invalid';
    }
    if (dt.invalidReason === 'unit out of range') sawShape = true;
  }
  return sawShape ? 'invalid' : null;
}

const bad = (message: string): BirthdayReading => ({ ok: false, code: 'E_BIRTHDAY', message });

/**
 * Reads one birthday. `lenient: false` accepts only today's strict forms (YYYY-MM-DD, MM-DD, --MM-DD)
 * plus the numeric forms of an explicitly given `order`.
 */
export function readBirthday(raw: string, opts: { order?: DateOrder | null; lenient?: boolean } = {}): BirthdayReading {
  const s = raw.trim();
  if (s.length > 40) return bad('birthday is too long to be a date');
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (m) {
    const b = checkBirthday(Number(m[2]), Number(m[3]), Number(m[1]));
    return b ? { ok: true, birthday: b, how: 'exact' } : bad(`"${s}" is not a real date of birth (YYYY-MM-DD, year 1900 to now)`);
  }
  if ((m = /^(?:--)?(\d{2})-(\d{2})$/.exec(s))) {
    const b = checkBirthday(Number(m[1]), Number(m[2]));
    return b ? { ok: true, birthday: b, how: 'exact' } : bad(`"${s}" is not a real day of the year (MM-DD)`);
  }
  const spaced = s.replace(/,/g, ' ').replace(/\s+/g, ' ');
  const numeric = /^\d{1,4}[/.\- ]\d{1,2}(?:[/.\- ]\d{1,4})?\.?$/.test(s);
  if (numeric) {
    const t = s.replace(/\.$/, '');
    const yearFirst = /^\d{4}/.test(t);
    const order = opts.order ?? (opts.lenient && yearFirst ? 'ymd' : null);
    if (!order) {
      // Strict mode keeps its single historical code.
      return { ok: false, code: opts.lenient ? 'E_BIRTHDAY_ORDER' : 'E_BIRTHDAY', message: `"${s}" could be day/month or month/day: give the order (--date-order dmy, mdy or ymd) or write YYYY-MM-DD` };
    }
    const r = withLuxon(t, NUMERIC_FORMATS[order].concat(NUMERIC_FORMATS[order].filter((f) => f.includes('yyyy')).map((f) => f.replace(/[/.\- ]?yyyy[/.\- ]?/, ''))));
    if (r && r !== 'invalid') return { ok: true, birthday: r, how: 'mapped' };
    return bad(`"${s}" is not a real date in ${order} order`);
  }
  if (opts.lenient) {
    if (/[A-Za-z]/.test(s)) {
      const r = withLuxon(spaced.replace(/(\d)(st|nd|rd|th)\b/gi, '$1').replace(/-/g, ' '), NAMED_FORMATS);
      if (r && r !== 'invalid') return { ok: true, birthday: r, how: 'mapped' };
      if (r === 'invalid') return bad(`"${s}" is not a real date`);
    }
    const iso = /^\d{4}-?\d{2}-?\d{2}(?:T|$)/.test(s) ? DateTime.fromISO(s, { setZone: true }) : null;
    if (iso?.isValid) {
      const b = checkBirthday(iso.month, iso.day, iso.year);
      return b ? { ok: true, birthday: b, how: 'mapped' } : bad(`"${s}" is not a real date of birth (year 1900 to now)`);
    }
  }
  return bad(`"${s.slice(0, 40)}" is not a date (write YYYY-MM-DD or MM-DD${opts.lenient ? ', 17 May 1990, or give --date-order' : ''})`);
}
