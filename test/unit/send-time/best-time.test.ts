/**
 * The best-hour pick of `wait: { until: best_time }` (workflows/best-time.ts): examples that read as the
 * rules, and a property test over random times, windows, zones, quiet hours and histograms: the pick is
 * inside the window (or, when the whole window is quiet, the end of the quiet hours) and never in quiet hours.
 */
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { pickBestTime, type BestTimeInput } from '../../../workflows/best-time';
import { quietHoursEnd } from '../../../workflows/local-time';
import { hourOfWeek } from '../../../rules/hour-of-week';

const QUIET = { from: '21:00', to: '08:00' };
/** A histogram with `n` opens at each of the given local hours of the day, every weekday. */
function daily(hours: Record<number, number>): { total: number; hours: number[] } {
  const h = new Array<number>(168).fill(0);
  let total = 0;
  for (let d = 0; d < 7; d++) for (const [hr, n] of Object.entries(hours)) { h[d * 24 + Number(hr)] += n; total += n; }
  return { total, hours: h };
}
const local = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone }).toFormat('ccc HH:mm');
const base = (over: Partial<BestTimeInput>): BestTimeInput => ({
  now: Date.parse('2026-03-10T08:00:00Z'), withinMs: 24 * 3600_000, zone: 'Europe/Berlin', histogramZone: 'Europe/Berlin', quietHours: QUIET, histogram: null, ...over,
});

describe('the best-time pick', () => {
  it('sends an evening reader at 19:00 and a lunchtime reader at 12:00 of the same day (Tuesday 09:00 in Berlin)', () => {
    const evening = pickBestTime(base({ histogram: daily({ 19: 1 }) }));
    const lunch = pickBestTime(base({ histogram: daily({ 12: 1 }) }));
    expect([local(evening.at, 'Europe/Berlin'), evening.basis]).toEqual(['Tue 19:00', 'history']);
    expect([local(lunch.at, 'Europe/Berlin'), lunch.basis]).toEqual(['Tue 12:00', 'history']);
  });

  it('moves a reader whose opens fall in quiet hours (07:00) to the nearest hour outside them (08:00)', () => {
    const p = pickBestTime(base({ now: Date.parse('2026-03-10T12:00:00Z'), histogram: daily({ 7: 2 }) }));
    expect([local(p.at, 'Europe/Berlin'), p.basis]).toEqual(['Wed 08:00', 'history']);
  });

  it('prefers the hour on the weekday the opens happened over the same hour a day earlier', () => {
    const h = daily({});
    h.hours[2 * 24 + 18] = 5; // Wednesday 18:00 only
    h.total = 5;
    // From Tuesday 09:00 Berlin with 36 h: Tuesday 18:00 scores the hour of the day (5), Wednesday 18:00 that plus its weekday (10).
    expect(local(pickBestTime(base({ histogram: h, withinMs: 36 * 3600_000 })).at, 'Europe/Berlin')).toBe('Wed 18:00');
    // Within 24 h only Tuesday's 18:00 is left: the hour of the day still counts.
    expect(local(pickBestTime(base({ histogram: h })).at, 'Europe/Berlin')).toBe('Tue 18:00');
  });

  it('falls back to the step\'s time (10:00 by default) below five opens', () => {
    const few = pickBestTime(base({ histogram: { ...daily({}), total: 4, hours: daily({ 19: 0 }).hours.map((_, i) => (i === 43 ? 4 : 0)) } }));
    expect([local(few.at, 'Europe/Berlin'), few.basis]).toEqual(['Tue 10:00', 'fallback']);
    const none = pickBestTime(base({ histogram: null, fallbackAt: '17:30' }));
    expect([local(none.at, 'Europe/Berlin'), none.basis]).toEqual(['Tue 17:30', 'fallback']);
  });

  it('sends now when the current hour is the best one', () => {
    const now = Date.parse('2026-03-10T18:20:00Z'); // 19:20 in Berlin
    expect(pickBestTime(base({ now, histogram: daily({ 19: 1 }) })).at).toBe(now);
  });

  it('waits for the end of quiet hours when the whole window is quiet', () => {
    const now = Date.parse('2026-03-10T21:00:00Z'); // 22:00 in Berlin
    const p = pickBestTime(base({ now, withinMs: 3 * 3600_000, histogram: daily({ 19: 1 }) }));
    expect([local(p.at, 'Europe/Berlin'), p.basis]).toEqual(['Wed 08:00', 'quiet_hours']);
  });

  it('picks instants inside the window and never in quiet hours (property)', () => {
    const zones = ['UTC', 'Europe/Berlin', 'Asia/Shanghai', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham'];
    const time = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
    const histogram = fc.option(fc.array(fc.nat({ max: 6 }), { minLength: 168, maxLength: 168 }).map((hours) => ({ total: hours.reduce((a, b) => a + b, 0), hours })));
    fc.assert(fc.property(
      fc.integer({ min: Date.parse('2024-01-01T00:00:00Z'), max: Date.parse('2030-12-31T00:00:00Z') }),
      fc.integer({ min: 3600_000, max: 7 * 86_400_000 }),
      fc.constantFrom(...zones), fc.constantFrom(...zones), fc.option(fc.record({ from: time, to: time })), histogram, time, fc.integer({ min: 1, max: 20 }),
      (now, withinMs, zone, histogramZone, quietHours, hist, fallbackAt, minOpens) => {
        const p = pickBestTime({ now, withinMs, zone, histogramZone, quietHours: quietHours ?? undefined, histogram: hist, fallbackAt, minOpens });
        if (quietHours) expect(quietHoursEnd(p.at, quietHours, zone)).toBeNull();
        expect(p.at).toBeGreaterThanOrEqual(now);
        if (p.basis === 'quiet_hours') expect(p.at).toBe(quietHoursEnd(now, quietHours!, zone));
        else expect(p.at).toBeLessThanOrEqual(now + withinMs);
        // A pick from history is an hour the contact opened in, or next to one.
        if (p.basis === 'history' && hist) {
          const hr = hourOfWeek(p.at, histogramZone) % 24;
          const near = [hr, (hr + 23) % 24, (hr + 1) % 24];
          expect(hist.hours.some((n, b) => n > 0 && near.includes(b % 24))).toBe(true);
        }
      },
    ), { numRuns: 250 });
  });
});
