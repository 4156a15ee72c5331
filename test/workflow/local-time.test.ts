import { birthdayKeysOn, nextLocalTimeOfDay, nextYearlyDate, quietHoursEnd } from '../../workflows/local-time';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('local time arithmetic', () => {
  it('finds the next 09:00 in Shanghai later the same day or the next day', () => {
    expect(iso(nextLocalTimeOfDay(t('2027-01-10T00:30:00Z'), '09:00', 'Asia/Shanghai'))).toBe('2027-01-10T01:00:00.000Z');
    expect(iso(nextLocalTimeOfDay(t('2027-01-10T02:00:00Z'), '09:00', 'Asia/Shanghai'))).toBe('2027-01-11T01:00:00.000Z');
  });

  it('moves a local time that does not exist on the spring-forward day forward by the gap', () => {
    // 2027-03-14 02:30 does not exist in New York; it becomes 03:30 EDT.
    expect(iso(nextLocalTimeOfDay(t('2027-03-14T05:00:00Z'), '02:30', 'America/New_York'))).toBe('2027-03-14T07:30:00.000Z');
  });

  it('takes the earlier instant of a local time that happens twice when clocks fall back', () => {
    expect(iso(nextLocalTimeOfDay(t('2026-11-01T04:00:00Z'), '01:30', 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z');
  });

  it('celebrates a 29 February birthday on 28 February in a non-leap year and on 29 February in a leap year', () => {
    expect(iso(nextYearlyDate(t('2027-02-01T00:00:00Z'), 2, 29, '09:00', 'Europe/Berlin'))).toBe('2027-02-28T08:00:00.000Z');
    expect(iso(nextYearlyDate(t('2028-02-01T00:00:00Z'), 2, 29, '09:00', 'Europe/Berlin'))).toBe('2028-02-29T08:00:00.000Z');
  });

  it('rolls a birthday already passed this year over to next year', () => {
    expect(iso(nextYearlyDate(t('2027-06-02T00:00:00Z'), 6, 1, '09:00', 'UTC'))).toBe('2028-06-01T09:00:00.000Z');
  });

  it('matches 29 February birthdays on 28 February only in non-leap years', () => {
    expect(birthdayKeysOn(2027, 2, 28)).toEqual(['02-28', '02-29']);
    expect(birthdayKeysOn(2028, 2, 28)).toEqual(['02-28']);
    expect(birthdayKeysOn(2028, 2, 29)).toEqual(['02-29']);
  });

  it('ends a quiet window that wraps midnight at its local end, on the right day, across a DST change', () => {
    const qh = { from: '21:00', to: '08:00' };
    expect(iso(quietHoursEnd(t('2027-01-10T15:30:00Z'), qh, 'Asia/Shanghai'))).toBe('2027-01-11T00:00:00.000Z'); // 23:30 local
    expect(iso(quietHoursEnd(t('2027-01-10T20:00:00Z'), qh, 'Asia/Shanghai'))).toBe('2027-01-11T00:00:00.000Z'); // 04:00 local
    expect(quietHoursEnd(t('2027-01-10T04:00:00Z'), qh, 'Asia/Shanghai')).toBeNull(); // 12:00 local
    // 22:00 EST on the eve of spring-forward: the window ends at 08:00 EDT, 12:00Z (not 13:00Z).
    expect(iso(quietHoursEnd(t('2027-03-14T03:00:00Z'), qh, 'America/New_York'))).toBe('2027-03-14T12:00:00.000Z');
  });
});
