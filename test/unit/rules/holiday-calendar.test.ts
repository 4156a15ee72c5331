import { holidayDate, ymd } from '../../../lib/holiday-calendar';
import { HOLIDAY_NAMES } from '../../../rules/holiday-names';

// Published dates (Hong Kong Observatory's Gregorian-lunar calendar conversion tables; the same dates
// as the State Council holiday notices and Purple Mountain Observatory's almanac), written here by
// hand as the reference: the calendar package must agree with them.
const PUBLISHED: Record<number, { chineseNewYear: string; midAutumn: string }> = {
  2020: { chineseNewYear: '2020-01-25', midAutumn: '2020-10-01' },
  2021: { chineseNewYear: '2021-02-12', midAutumn: '2021-09-21' },
  2022: { chineseNewYear: '2022-02-01', midAutumn: '2022-09-10' },
  2023: { chineseNewYear: '2023-01-22', midAutumn: '2023-09-29' },
  2024: { chineseNewYear: '2024-02-10', midAutumn: '2024-09-17' },
  2025: { chineseNewYear: '2025-01-29', midAutumn: '2025-10-06' },
  2026: { chineseNewYear: '2026-02-17', midAutumn: '2026-09-25' },
  2027: { chineseNewYear: '2027-02-06', midAutumn: '2027-09-15' },
  2028: { chineseNewYear: '2028-01-26', midAutumn: '2028-10-03' },
  2029: { chineseNewYear: '2029-02-13', midAutumn: '2029-09-22' },
  2030: { chineseNewYear: '2030-02-03', midAutumn: '2030-09-12' },
  2031: { chineseNewYear: '2031-01-23', midAutumn: '2031-10-01' },
  2032: { chineseNewYear: '2032-02-11', midAutumn: '2032-09-19' },
  2033: { chineseNewYear: '2033-01-31', midAutumn: '2033-09-08' },
  2034: { chineseNewYear: '2034-02-19', midAutumn: '2034-09-27' },
  2035: { chineseNewYear: '2035-02-08', midAutumn: '2035-09-16' },
};

describe('the holiday calendar', () => {
  it.each(Object.entries(PUBLISHED))('puts Chinese New Year and Mid-Autumn %s on the published dates', (year, want) => {
    expect(ymd(holidayDate('chinese_new_year', Number(year)))).toBe(want.chineseNewYear);
    expect(ymd(holidayDate('mid_autumn', Number(year)))).toBe(want.midAutumn);
  });

  it('puts the other lunar festivals on their published dates (2024 and 2027) and the eve the day before the new year', () => {
    expect(ymd(holidayDate('lantern_festival', 2024))).toBe('2024-02-24');
    expect(ymd(holidayDate('dragon_boat', 2024))).toBe('2024-06-10');
    expect(ymd(holidayDate('qixi', 2024))).toBe('2024-08-10');
    expect(ymd(holidayDate('double_ninth', 2024))).toBe('2024-10-11');
    expect(ymd(holidayDate('dragon_boat', 2027))).toBe('2027-06-09');
    // 2024-25: the twelfth month had 29 days, so the eve is the 29th (28 Jan 2025).
    expect(ymd(holidayDate('chinese_new_year_eve', 2025))).toBe('2025-01-28');
    expect(ymd(holidayDate('chinese_new_year_eve', 2027))).toBe('2027-02-05');
  });

  it('has fixed Gregorian holidays and a date for every name in every year 1901-2099', () => {
    expect(ymd(holidayDate('christmas', 2027))).toBe('2027-12-25');
    expect(ymd(holidayDate('new_year', 2028))).toBe('2028-01-01');
    for (const name of HOLIDAY_NAMES) {
      for (let y = 1901; y <= 2099; y += 19) {
        const d = holidayDate(name, y);
        expect(Number.isInteger(d.month) && d.month >= 1 && d.month <= 12).toBe(true);
        expect(Math.abs(d.year - y)).toBeLessThanOrEqual(1);
      }
    }
  });
});
