/**
 * What Delivery hands to the ingest (engine/ingest.ts) about an email: opens, clicks, unsubscribes,
 * preference changes, confirmations, verifications, bounces and complaints, and survey answers given on
 * the page behind a survey email's rating links. The event is the one
 * `SojournEvent` type; its names come from the vocabulary (rules/event-vocabulary.ts). Ids and small
 * facts only: never an address.
 */
import crypto from 'node:crypto';
import type { NewEvent } from '../data/contact-event-model';
import type { EmittedEventName } from '../rules/event-vocabulary';

/** An email event as Delivery emits it: a vocabulary name, a time and a deterministic or random id. */
export type EmailEvent = NewEvent & { name: Extract<EmittedEventName, `email.${string}` | 'survey.answered'>; at: Date; eventId: string; data: Record<string, unknown> };

/** The door Delivery emits through (the ingest in production; a recorder in unit tests of Delivery). */
export type EventSink = (event: EmailEvent) => Promise<unknown>;

export function deterministicEventId(...parts: string[]): string {
  return crypto.createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);
}

export function randomEventId(): string {
  return crypto.randomUUID();
}
