/**
 * wait: a duration, the next local time of day in the contact's time zone, the next yearly date of a
 * contact date field (birthday; 29 Feb -> 28 Feb in non-leap years), a contact date moved by whole days,
 * or the contact's best hour to read email within a window (send-time optimisation, workflows/best-time.ts).
 * Events keep flowing while waiting.
 */
import type { WaitStep } from '../../rules/plan';
import { dateOffsetInstant, localDateOf, nextLocalTimeOfDay, nextYearlyDate, safeZone } from '../local-time';
import type { ContactView } from '../../rules/contact-schema';
import { histogramZone } from '../../rules/hour-of-week';
import { data } from '../activities';
import { pickBestTime } from '../best-time';
import type { Run, StepResult } from '../run';

/** A contact value by its dotted path (`attributes.renewalDate`, `engagement.lastOrderAt`). */
function fieldValue(contact: ContactView, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), contact);
}

/** When the wait ends (epoch ms), or an end of the run when the contact can't be waited on. */
export async function waitUntil(step: WaitStep, run: Run): Promise<number | { reason: string }> {
  const now = Date.now();
  if (step.mode === 'duration') return now + step.ms;
  const contact = await run.currentContact();
  const zone = safeZone(contact?.timezone, run.plan.settings.defaultTimezone);
  if (step.mode === 'time_of_day') return nextLocalTimeOfDay(now, step.at, zone);
  if (step.mode === 'best_time') return bestTime(step, run, contact, zone, now);
  if (step.mode === 'until_field') {
    const date = contact ? localDateOf(fieldValue(contact, step.field), zone) : null;
    if (!date) return { reason: `no_${step.field.replace(/^attributes\./, '')}` };
    // A date already past (a reminder 14 days before a renewal 3 days away) does not wait.
    return Math.max(now, dateOffsetInstant(date, step.offsetDays, step.at, zone));
  }
  if (!contact || contact.birthdayMonth === null || contact.birthdayDay === null) return { reason: 'no_birthday' };
  return nextYearlyDate(now, contact.birthdayMonth, contact.birthdayDay, step.at, zone);
}

/**
 * The contact's best hour within the step's window: the histogram is read by an activity (its result is in
 * the history), the pick is pure (workflows/best-time.ts), so a replay picks the same instant.
 */
async function bestTime(step: Extract<WaitStep, { mode: 'best_time' }>, run: Run, contact: ContactView | null, zone: string, now: number): Promise<number> {
  const histogram = await data().readOpenHistogram({ contactId: run.input.contactId });
  const pick = pickBestTime({
    now, withinMs: step.withinMs, zone, histogramZone: histogramZone(contact?.timezone), quietHours: run.plan.settings.quietHours, histogram, fallbackAt: step.at,
  });
  return pick.at;
}

export async function runWait(step: WaitStep, run: Run): Promise<StepResult> {
  const until = await waitUntil(step, run);
  if (typeof until !== 'number') return { end: { outcome: 'exited', reason: until.reason } };
  const waitingFor = step.mode === 'duration' ? 'timer' : step.mode === 'time_of_day' ? `local_time ${step.at}` : step.mode === 'best_time' ? 'best_time'
    : step.mode === 'until_field' ? `${step.field}${step.offsetDays ? ` ${step.offsetDays > 0 ? '+' : ''}${step.offsetDays}d` : ''} ${step.at}` : `${step.field} ${step.at}`;
  const r = await run.wait({ until, waitingFor, reason: `wait step ${step.id}` });
  if (r.kind === 'ended') return { end: r.end };
  return { next: step.next };
}
