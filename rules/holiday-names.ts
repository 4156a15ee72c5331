/**
 * The holidays a date trigger can name (`date: { holiday: chinese_new_year, at: "09:00" }`). Only the
 * names live here, so `validate` knows them without loading a calendar; the dates come from
 * lib/holiday-calendar.ts (Gregorian fixed dates, and the Chinese lunar calendar).
 */
export const HOLIDAY_NAMES = [
  'new_year', 'valentines_day', 'christmas_eve', 'christmas', 'new_years_eve',
  'chinese_new_year_eve', 'chinese_new_year', 'lantern_festival', 'dragon_boat', 'qixi', 'mid_autumn', 'double_ninth',
] as const;

export type HolidayName = (typeof HOLIDAY_NAMES)[number];

export function isHolidayName(name: string): name is HolidayName {
  return (HOLIDAY_NAMES as readonly string[]).includes(name);
}
