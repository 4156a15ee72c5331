/**
 * The journey workflow's public surface: its input, result, the `event` signal and the `status` query.
 * Clients (dispatcher, CLI, tests) import these; the shapes are JSON (no Dates) because they are payloads.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { sha256Hex } from '../rules/sha256';

/** An event as delivered to a run. `at` is ISO-8601. No PII: ids and small facts only. */
export interface JourneyEvent {
  name: string;
  at: string;
  eventId: string;
  data?: Record<string, unknown>;
}

/** How a run ended. */
export type RunOutcome = 'completed' | 'exited' | 'converted' | 'holdout';

/** What a run carries into its next incarnation when it continues-as-new (a loop back in the plan). */
export interface CarriedState {
  stepId: string;
  iteration: number;
  startedAt: string;
  splits: Record<string, string>;
  seenEventIds: string[];
  sends: SendRecord[];
}

export interface JourneyInput {
  journeyId: string;
  version: number;
  contactId: string;
  /**
   * The event that started the run (name, time, id) and the data fields its journey declares (only those:
   * an undeclared field, possibly personal, never enters the run; payloads are encrypted by the codec).
   */
  trigger?: { name: string; at: string; eventId: string; data?: Record<string, unknown> };
  /** Per-entity runs (`entry: { key }`): the key value of this run (also in its workflow id). */
  key?: string;
  /** Set by audience/date scans: the yearly date to wait for before the first step. */
  entryWait?: { until: string; reason: string };
  /** Present after continue-as-new. */
  carried?: CarriedState;
}

/** One gate/send decision, as the run records it. */
export interface SendRecord {
  stepId: string;
  iteration: number;
  templateId: string;
  /** `unknown`: the email may or may not have gone out (a crash right after the SMTP hand-off); it was not resent. */
  outcome: 'sent' | 'duplicate' | 'unknown' | 'failed' | 'skip';
  reason?: string;
  deferrals: number;
  /** Workflow time of the decision (ISO). */
  at: string;
}

export interface JourneyResult {
  outcome: RunOutcome;
  reason: string;
  /** Last step entered. */
  step: string | null;
  iteration: number;
  splits: Record<string, string>;
  sends: SendRecord[];
  /** The last webhook step's outcome, when the run had one. */
  lastCall?: CallRecord;
}

/** What the `status` query answers: where the run is and why it is waiting. */
export interface RunStatus {
  journeyId: string;
  version: number;
  contactId: string;
  step: string | null;
  /** e.g. "timer", "event:email.clicked", "quiet_hours", "birthday". null while not waiting. */
  waitingFor: string | null;
  /** ISO instant the current wait ends (timeout), or null. */
  until: string | null;
  reason: string | null;
  iteration: number;
  outcome?: RunOutcome;
  /** The last send decision of this run (sent, or skipped with the gate's reason such as topic_opt_out). */
  lastSend?: SendRecord;
  /** The last webhook step's outcome (status code and reason, never the body or the answer). */
  lastCall?: CallRecord;
}

/** A webhook step's outcome, as the run records it. */
export interface CallRecord {
  stepId: string;
  iteration: number;
  outcome: 'delivered' | 'failed';
  status: number | null;
  reason?: string;
  /** Attempts it took (Temporal retries carry the same idempotency key). */
  attempt: number;
  at: string;
}

/** Asks a run to move to another version of its journey (`sojourn journeys migrate`). */
export interface MigrateRequest { toVersion: number; migrationId: string }
/** The run's answer: moved (it continues at the same step id under the new version), or why not. */
export type MigrateAnswer = { moved: true; fromVersion: number; step: string | null } | { moved: false; reason: string };

export const eventSignal = defineSignal<[JourneyEvent]>('event');
export const migrateUpdate = defineUpdate<MigrateAnswer, [MigrateRequest]>('migrate');
export const statusQuery = defineQuery<RunStatus>('status');

/**
 * Workflow id of a contact's run for one key of a keyed journey (`entry: { key: event.data.orderId }`):
 * `journey/<j>/<c>/key/<key>`. A key that is not short and plain (letters, digits, `_.-`, at most 64)
 * is replaced by the first 32 hex digits of its SHA-256, so ids stay bounded and carry nothing personal.
 */
export function keyedWorkflowId(journeyId: string, contactId: string, key: string): string {
  const part = /^[A-Za-z0-9_.-]{1,64}$/.test(key) ? key : `h-${sha256Hex(key).slice(0, 32)}`;
  return `journey/${journeyId}/${contactId}/key/${part}`;
}

/** Workflow id of a contact's run in a journey; `period` only for "every <duration>" entry. */
export function journeyWorkflowId(journeyId: string, contactId: string, period?: string): string {
  return period === undefined ? `journey/${journeyId}/${contactId}` : `journey/${journeyId}/${contactId}/${period}`;
}
