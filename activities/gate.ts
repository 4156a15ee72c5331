/**
 * The gate every send passes, as one activity returning a value (never an exception):
 *  1. contact exists and has an address; email status not bounced, complained or invalid; not on the
 *     suppression list (nor erased): these hold for every email, transactional included.
 *  2. marketing only: email consent is "subscribed"; status not dormant.
 *  3. marketing only: preferences from the preference centre: the template's topic turned off -> skip
 *     (`topic_opt_out`); emails paused for 30/90 days -> defer until the pause ends (`paused`).
 *  4. marketing only: quiet hours in the contact's time zone -> defer until the window ends.
 *  5. marketing only: frequency cap across all journeys, from the contact's numbered send slots
 *     (data/send-window.ts: keyed reads, and an insert under a unique `_id` when the send may go) -> skip.
 * Every read is by `_id`: the contact, its suppression entries, its window.
 * Transactional templates bypass 2-5 (a receipt goes out at 23:00, to a paused contact, and does not
 * count toward the cap).
 */
import { takeWindowSlot } from '../data/send-window';
import { readTemplateCatalog } from '../mail/template-catalog';
import type { TemplateRef } from '../rules/plan';
import { quietHoursEnd, safeZone } from '../workflows/local-time';
import type { ContactStore } from './contact-store';
import type { GateInput, GateOutcome } from './types';

export interface GateActivities {
  gateSend(input: GateInput): Promise<GateOutcome>;
}

/**
 * What the preference centre stored (contact attributes `emailTopics` and `emailPausedUntil`, written by
 * mail/contacts-port.ts) means for one marketing email of `topic` at `now`: a topic the contact turned off
 * skips it; a pause that has not ended defers it to the end of the pause. Topics absent from the map are on.
 */
export function preferenceDecision(attributes: Record<string, unknown> | null | undefined, topic: string | null, now: Date): GateOutcome | null {
  const topics = attributes?.emailTopics;
  if (topic && topics && typeof topics === 'object' && (topics as Record<string, unknown>)[topic] === false) {
    return { outcome: 'skip', reason: 'topic_opt_out' };
  }
  const paused = attributes?.emailPausedUntil;
  const until = typeof paused === 'string' || paused instanceof Date ? new Date(paused) : null;
  if (until && !Number.isNaN(until.getTime()) && until.getTime() > now.getTime()) {
    return { outcome: 'defer', until: until.toISOString(), reason: 'paused' };
  }
  return null;
}

export interface GateDeps {
  contacts: ContactStore;
  clock?: () => Date;
  /** Template catalog for plans deployed before templates carried their topic (defaults to templates/). */
  templates?: () => Record<string, TemplateRef>;
}

export function createGateActivities(deps: GateDeps): GateActivities {
  const clock = deps.clock ?? (() => new Date());
  let catalog: Record<string, TemplateRef> | undefined;
  const topicOf = (input: GateInput): string | null => {
    if (typeof input.topic === 'string') return input.topic;
    catalog ??= (deps.templates ?? (() => readTemplateCatalog()))();
    return catalog[input.templateId]?.topic ?? null;
  };
  return {
    async gateSend(input) {
      const contact = await deps.contacts.getContactView(input.contactId);
      if (!contact) return { outcome: 'skip', reason: 'contact_not_found' };
      if (!contact.emailDomain) return { outcome: 'skip', reason: 'no_email' };
      if (contact.emailStatus === 'bounced') return { outcome: 'skip', reason: 'email_bounced' };
      if (contact.emailStatus === 'complained') return { outcome: 'skip', reason: 'email_complained' };
      if (contact.emailStatus === 'invalid') return { outcome: 'skip', reason: 'email_invalid' };
      if (await deps.contacts.isSuppressed(input.contactId)) return { outcome: 'skip', reason: 'suppressed' };
      if (!input.marketing) return { outcome: 'send' };

      if (contact.consent.email !== 'subscribed') return { outcome: 'skip', reason: 'no_consent' };
      if (contact.emailStatus === 'dormant') return { outcome: 'skip', reason: 'email_dormant' };
      const now = input.now ? new Date(input.now) : clock();
      const preference = preferenceDecision(contact.attributes, topicOf(input), now);
      if (preference) return preference;
      const { quietHours, frequency, defaultTimezone } = input.settings;
      if (quietHours) {
        const end = quietHoursEnd(now.getTime(), quietHours, safeZone(contact.timezone, defaultTimezone));
        if (end !== null) return { outcome: 'defer', until: new Date(end).toISOString(), reason: 'quiet_hours' };
      }
      if (frequency) {
        // Last, so only a send that will go takes a slot (a retry of this key gets the same answer). The
        // window is kept on the wall clock, which stamps the ledger too: in production it is workflow time;
        // a time-skipping test server jumps years ahead whenever a run completes.
        if (!(await takeWindowSlot(input.contactId, input.key, clock(), frequency.max, frequency.perMs))) return { outcome: 'skip', reason: 'frequency_cap' };
      }
      return { outcome: 'send' };
    },
  };
}
