/**
 * The vocabulary of events: every name Sojourn itself emits, and the integration events it
 * understands (they change engagement). Journeys may trigger on, wait for or reach a goal with these
 * names, or with names they declare under `custom_events:`; anything else is E_UNDECLARED_EVENT in
 * `sojourn validate` (rules/check.ts), since nothing would ever send it. docs/events.md is the table
 * of this record; a test keeps the two equal.
 */

export interface EventSpec {
  /** Who produces it. */
  source: 'api' | 'public_endpoints' | 'bounce_reports' | 'inbound_mail' | 'integration';
  /** What it means, for the docs table. */
  meaning: string;
  /** Opens and clicks may come from machines (scanners, privacy proxies): stored, never dispatched to runs. */
  machineFiltered?: true;
}

export const EVENT_VOCABULARY = {
  'contact.created': { source: 'api', meaning: 'A contact was created through the API (or the demo); not sent for CSV imports.' },
  'contact.email_changed': { source: 'api', meaning: "A contact's address changed under the same externalId." },
  'email.opened': { source: 'public_endpoints', meaning: 'A person loaded the open pixel.', machineFiltered: true },
  'email.clicked': { source: 'public_endpoints', meaning: 'A person followed a tracked link.', machineFiltered: true },
  'email.unsubscribed': { source: 'public_endpoints', meaning: 'One-click unsubscribe, or "unsubscribe from all" in the preference centre.' },
  'email.preferences_updated': { source: 'public_endpoints', meaning: 'Topics or a pause were saved in the preference centre.' },
  'email.confirmed': { source: 'public_endpoints', meaning: 'The double opt-in button was pressed (consent becomes subscribed).' },
  'email.verified': { source: 'public_endpoints', meaning: 'The address verification button was pressed.' },
  'email.bounced': { source: 'bounce_reports', meaning: 'A DSN bounce report (data.type hard or soft).' },
  'email.complained': { source: 'bounce_reports', meaning: 'An ARF abuse complaint (consent becomes unsubscribed).' },
  'email.received': { source: 'inbound_mail', meaning: 'A contact wrote to the sending domain; data.category (pre_sales, after_sales, complaint, other) and data.urgency from the rule sets over messages.' },
  'survey.answered': { source: 'public_endpoints', meaning: 'A survey was answered on the page behind a rating link: data.surveyId, data.scale (csat 1-5, nps 0-10), data.score, data.commented (the comment stays on the contact).' },
  'task.completed': { source: 'api', meaning: 'An owner task was closed (POST /v1/tasks/{id}/close): data.taskId, data.journeyId, data.stepId, data.ownerId.' },
  'order.completed': { source: 'integration', meaning: 'An order, sent by the shop through POST /v1/events (data.amount counts as revenue).' },
  'contact.login': { source: 'integration', meaning: 'A login, sent through POST /v1/events (updates lastActivityAt).' },
} as const satisfies Record<string, EventSpec>;

export type EmittedEventName = keyof typeof EVENT_VOCABULARY;

export const KNOWN_EVENTS: readonly string[] = Object.keys(EVENT_VOCABULARY);

export function isKnownEvent(name: string): name is EmittedEventName {
  return Object.prototype.hasOwnProperty.call(EVENT_VOCABULARY, name);
}

/** The event names a custom event may use: lower_snake segments joined by dots, like cart.abandoned. */
export const CUSTOM_EVENT_RE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
