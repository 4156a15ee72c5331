/**
 * wait: a duration, the next local time of day in the contact's time zone, or the next yearly date of
 * a contact date field (birthday; 29 Feb -> 28 Feb in non-leap years). Events keep flowing while waiting.
 */
import type { WaitStep } from '../../rules/plan';
import { dateOffsetInstant, localDateOf, nextLocalTimeOfDay, nextYearlyDate, safeZone } from '../local-time';
import type { ContactView } from '../../rules/contact-schema';

/** A contact value by its dotted path (`attributes.renewalDate`, `engagement.lastOrderAt`). */
function fieldValue(contact: ContactView, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), contact);
}
import type { Run, StepResult } from '../run';

/** When the wait ends (epoch ms), or an end of the run when the contact can't be waited on. */
export async function waitUntil(step: WaitStep, run: Run): Promise<number | { reason: string }> {
  const now = Date.now();
  if (step.mode === 'duration') return now + step.ms;
  const contact = await run.currentContact();
  const zone = safeZone(contact?.timezone, run.plan.settings.defaultTimezone);
  if (step.mode === 'time_of_day') return nextLocalTimeOfDay(now, step.at, zone);
  if (step.mode === 'until_field') {
    const date = contact ? localDateOf(fieldValue(contact, step.field), zone) : null;
    if (!date) return { reason: `no_${step.field.replace(/^attributes\./, '')}` };
    // A date already past (a reminder 14 days before a renewal 3 days away) does not wait.
    return Math.max(now, dateOffsetInstant(date, step.offsetDays, step.at, zone));
  }
  if (!contact || contact.birthdayMonth === null || contact.birthdayDay === null) return { reason: 'no_birthday' };
  return nextYearlyDate(now, contact.birthdayMonth, contact.birthdayDay, step.at, zone);
}

export async function runWait(step: WaitStep, run: Run): Promise<StepResult> {
  const until = await waitUntil(step, run);
  if (typeof until !== 'number') return { end: { outcome: 'exited', reason: until.reason } };
  const waitingFor = step.mode === 'duration' ? 'timer' : step.mode === 'time_of_day' ? `local_time ${step.at}`
    : step.mode === 'until_field' ? `${step.field}${step.offsetDays ? ` ${step.offsetDays > 0 ? '+' : ''}${step.offsetDays}d` : ''} ${step.at}` : `${step.field} ${step.at}`;
  const r = await run.wait({ until, waitingFor, reason: `wait step ${step.id}` });
  if (r.kind === 'ended') return { end: r.end };
  return { next: step.next };
}
