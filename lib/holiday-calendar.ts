/**
 * The calendar date of a holiday in a given Gregorian year. Gregorian holidays are fixed dates; the
 * Chinese ones are days of the Chinese lunisolar calendar, converted by lunar-typescript (6tail's
 * maintained calendar, tables 1900-2100), which computes them for China Standard Time as the published
 * calendars do. The test checks Chinese New Year and Mid-Autumn against the published dates 2020-2035.
 *
 * A holiday is one calendar date for everyone (decision 32 in docs/decisions.md): the greeting goes
 * out at the journey's local time in each contact's own zone on that date.
 */
import { Lunar } from 'lunar-typescript';
import type { HolidayName } from '../rules/holiday-names';

export interface CalendarDate { year: number; month: number; day: number }

const fixed = (month: number, day: number) => (year: number): CalendarDate => ({ year, month, day });

/** The Gregorian date of lunar month/day in the lunar year that starts in Gregorian `year`. */
const lunar = (month: number, day: number, shiftDays = 0) => (year: number): CalendarDate => {
  const s = Lunar.fromYmd(year, month, day).getSolar().next(shiftDays);
  return { year: s.getYear(), month: s.getMonth(), day: s.getDay() };
};

const RULES = {
  new_year: fixed(1, 1),
  valentines_day: fixed(2, 14),
  christmas_eve: fixed(12, 24),
  christmas: fixed(12, 25),
  new_years_eve: fixed(12, 31),
  // The last day of the lunar year (the twelfth month has 29 or 30 days): the day before the new year.
  chinese_new_year_eve: lunar(1, 1, -1),
  chinese_new_year: lunar(1, 1),
  lantern_festival: lunar(1, 15),
  dragon_boat: lunar(5, 5),
  qixi: lunar(7, 7),
  mid_autumn: lunar(8, 15),
  double_ninth: lunar(9, 9),
} satisfies Record<HolidayName, (year: number) => CalendarDate>;

/** The date of `holiday` in the lunar or Gregorian year `year` (chinese_new_year_eve falls in the year before). */
export function holidayDate(holiday: HolidayName, year: number): CalendarDate {
  return RULES[holiday](year);
}

/** "YYYY-MM-DD" of a calendar date. */
export function ymd(d: CalendarDate): string {
  return `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}
