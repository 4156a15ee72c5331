/**
 * Activity input/output shapes shared by the activity factories and the workflow (type-only imports there).
 * All JSON: ids and small values, never an email address or phone number.
 */
import type { ContactView } from '../rules/contact-schema';
import type { EmailStatus, Settings } from '../rules/plan';

/** A change to a contact, as journeys express it (`update` and `classify` steps). Keys of `set` are CEL contact paths. */
export interface ContactUpdate {
  set?: Record<string, unknown>;
  addTags?: string[];
  removeTags?: string[];
  consent?: { channel: 'email' | 'sms' | 'phone'; status: 'subscribed' | 'unsubscribed' };
  emailStatus?: EmailStatus;
}

export interface GateInput {
  contactId: string;
  journeyId: string;
  stepId: string;
  templateId: string;
  marketing: boolean;
  /** Preference-centre topic of the template (from the pinned plan); absent in plans deployed before topics: the gate reads the template catalog. */
  topic?: string | null;
  /** Ledger key of this send, excluded from the frequency count (a retried send must not cap itself). */
  key: string;
  settings: Settings;
  /** The workflow's current time (ISO): decisions follow workflow time, which tests can skip forward. */
  now?: string;
  /** The run's journey version and split branch (`step:branch`): the gate's decision is counted for them (reports). */
  version?: number;
  variant?: string | null;
}

/** The gate's decision. Not a failure in any case: the workflow branches on it and records it. */
export type GateOutcome =
  | { outcome: 'send' }
  | { outcome: 'defer'; until: string; reason: GateDeferReason }
  | { outcome: 'skip'; reason: GateSkipReason };

export type GateSkipReason =
  | 'contact_not_found' | 'no_email' | 'suppressed' | 'email_bounced' | 'email_complained' | 'email_invalid'
  | 'email_dormant' | 'no_consent' | 'topic_opt_out' | 'frequency_cap';

/** Why a send waits: the contact's quiet hours, or a "pause emails for 30/90 days" from the preference centre. */
export type GateDeferReason = 'quiet_hours' | 'paused';

/** Delivery's send input and result (activities/messaging.ts): sent, duplicate (ledger key seen), or failed permanently. */
export type { SendEmailInput, SendResult } from './messaging';

export type { ContactView };
