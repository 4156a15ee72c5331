/**
 * The gate every send passes, as one activity returning a value (never an exception):
 *  1. contact exists and has an address; email status not bounced, complained or invalid; not on the
 *     suppression list (nor erased): these hold for every email, transactional included.
 *  2. marketing only: email consent is "subscribed"; status not dormant.
 *  3. marketing only: quiet hours in the contact's time zone -> defer until the window ends.
 *  4. marketing only: frequency cap across all journeys, counted from the send ledger -> skip.
 * Transactional templates bypass 2-4 (a receipt goes out at 23:00 and does not count toward the cap).
 */
import { Send } from '../data/send-ledger';
import { quietHoursEnd, safeZone } from '../workflows/local-time';
import type { ContactStore } from './contact-store';
import type { GateInput, GateOutcome } from './types';

export interface GateActivities {
  gateSend(input: GateInput): Promise<GateOutcome>;
}

/** Marketing sends of a contact since `since`, across journeys, not counting the send being decided. */
export async function countMarketingSends(contactId: string, since: Date, excludeKey: string): Promise<number> {
  return Send.countDocuments({
    contactId, marketing: true, status: { $in: ['pending', 'sent'] }, createdAt: { $gte: since }, key: { $ne: excludeKey },
  });
}

export function createGateActivities(deps: { contacts: ContactStore; clock?: () => Date }): GateActivities {
  const clock = deps.clock ?? (() => new Date());
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
      const { quietHours, frequency, defaultTimezone } = input.settings;
      if (quietHours) {
        const end = quietHoursEnd(now.getTime(), quietHours, safeZone(contact.timezone, defaultTimezone));
        if (end !== null) return { outcome: 'defer', until: new Date(end).toISOString(), reason: 'quiet_hours' };
      }
      if (frequency) {
        // The ledger is stamped with the wall clock, so the window is measured on the same clock (in
        // production it equals workflow time; under a time-skipping test server it does not).
        const count = await countMarketingSends(input.contactId, new Date(clock().getTime() - frequency.perMs), input.key);
        if (count >= frequency.max) return { outcome: 'skip', reason: 'frequency_cap' };
      }
      return { outcome: 'send' };
    },
  };
}
