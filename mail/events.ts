/**
 * Tracked email events (delivered to waiting runs as the journey `event` signal by the engine, and
 * counted in contact engagement). Ids and small facts only: never an address.
 */
import crypto from 'node:crypto';

export type TrackedEventName =
  | 'email.unsubscribed' | 'email.preferences_updated' | 'email.confirmed' | 'email.verified'
  | 'email.opened' | 'email.clicked' | 'email.bounced' | 'email.complained';

export interface TrackedEvent {
  contactId: string;
  name: TrackedEventName;
  at: Date;
  /** sendKey, workflowId, journeyId, stepId, templateId, and per event: machine/reasons/url, type/status. */
  data: Record<string, unknown>;
  /** Deterministic for state changes and reports (a replay is the same event), random for opens and clicks. */
  eventId: string;
}

export type EventSink = (event: TrackedEvent) => Promise<void>;

export function deterministicEventId(...parts: string[]): string {
  return crypto.createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);
}

export function randomEventId(): string {
  return crypto.randomUUID();
}
