/**
 * The compiled journey plan (IR): what `rules/` produces and what the journey workflow executes.
 * Plain JSON, no functions, no Dates: it is stored in MongoDB, pinned by a run, and passed
 * through Temporal payloads. Changing a shape here needs a new PLAN_FORMAT and a workflow patch.
 */
export const PLAN_FORMAT = 1 as const;

/** A CEL expression as written, with where it was written. Workflows compile it (cached) at run time. */
export interface Expr {
  source: string;
  /** file:line:col of the expression, for run-time error messages. */
  at?: string;
}

/** Local time of day, "HH:MM" 24h, interpreted in the contact's IANA time zone. */
export type LocalTime = string;

export interface SegmentPlan {
  name: string;
  expr: Expr;
  /** MongoDB filter equivalent to `expr` over the contacts collection, or null when it can't be pushed down. */
  filter: Record<string, unknown> | null;
  /** Why it couldn't be pushed down (for `validate --explain` and scan logs). */
  pushdownNote?: string;
}

export interface RuleSetPlan {
  name: string;
  /** Set for rule sets over inbound email (`over: message`); absent for contact classification. */
  over?: 'message';
  /** The contact classification field this rule set writes (importance, lifecycle, rfm, businessType, ...). */
  field: string;
  /** Evaluated in order; the first match wins. */
  rules: { value: string; when: Expr; reason: string }[];
  /** Value when no rule matches; null leaves the field unchanged. */
  otherwise: string | null;
}

/**
 * The type of a declared trigger data field (`trigger: { event, data: { orderId: string, amount: number } }`):
 * `number` is a CEL double, `int` a whole number, `bool` true/false.
 */
export type DataFieldType = 'string' | 'number' | 'int' | 'bool';
export const DATA_FIELD_TYPES: readonly DataFieldType[] = ['string', 'number', 'int', 'bool'];

import type { HolidayName } from './holiday-names';

export type Trigger =
  /** `data`: the declared fields of the event's data the run keeps (only these; additive, optional). */
  | { kind: 'event'; event: string; when?: Expr; data?: Record<string, DataFieldType> }
  | { kind: 'schedule'; cron: string; timezone: string; audience: SegmentPlan }
  /**
   * On a contact date (birthday, a timestamp field, or a custom attribute declared `date`) moved by
   * `offsetDays` (absent: 0), or on a named holiday, at a local time in each contact's time zone.
   * `repeat`: yearly (anniversaries; birthday and holidays always) or once (renewals); absent means
   * yearly for birthday and holidays, once for other fields. Only non-default keys are stored, so a
   * birthday plan compiles exactly as before.
   */
  | { kind: 'date'; field?: string; holiday?: HolidayName; offsetDays?: number; repeat?: 'yearly' | 'once'; at: LocalTime; when?: Expr }
  | { kind: 'segment'; segment: SegmentPlan; cron: string; timezone: string };

/** Whether a date trigger comes back every year: `repeat` when given, else yearly for birthday and holidays, once for other dates. */
export function dateTriggerRepeat(t: { field?: string; holiday?: string; repeat?: 'yearly' | 'once' }): 'yearly' | 'once' {
  return t.repeat ?? (t.holiday || t.field === 'birthday' ? 'yearly' : 'once');
}

export type EntryPolicy =
  | { kind: 'once' }
  | { kind: 'every'; periodMs: number }
  | { kind: 'restart' };

export interface Settings {
  quietHours?: { from: LocalTime; to: LocalTime };
  /** Marketing emails per contact across all journeys. */
  frequency?: { max: number; perMs: number };
  /** Used when a contact has no time zone. */
  defaultTimezone: string;
}

interface StepBase {
  id: string;
  /** Next step id after this one completes; null ends the run as completed. */
  next: string | null;
  /** file:line:col of the step, for status and errors. */
  at?: string;
}

export interface SendStep extends StepBase { kind: 'send'; template: string; marketing: boolean }
export type WaitStep = StepBase & { kind: 'wait' } & (
  | { mode: 'duration'; ms: number }
  | { mode: 'time_of_day'; at: LocalTime }
  /** Until the next yearly occurrence of a contact date field; 29 Feb falls on 28 Feb in non-leap years. */
  | { mode: 'date_field'; field: 'birthday'; at: LocalTime }
  /**
   * Until a date on the contact (a timestamp field or a custom attribute declared `date`), moved by
   * whole days (`offset: -14d`), at a local time; a date already past does not wait. Additive.
   */
  | { mode: 'until_field'; field: string; offsetDays: number; at: LocalTime }
  /**
   * Until the contact's best hour within `withinMs` (their human opens by hour of the week), never in quiet
   * hours; `at` is the local time used below the minimum of opens (workflows/best-time.ts; default 10:00).
   */
  | { mode: 'best_time'; withinMs: number; at?: LocalTime }
);
export interface WaitForStep extends StepBase {
  kind: 'wait_for';
  event: string;
  /** Evaluated with `event` bound to the arriving event; must be true to match. */
  correlate?: Expr;
  timeoutMs: number;
  /** First step of the on_timeout branch; its end rejoins `next`. null: go straight to `next`. */
  onTimeout: string | null;
}
export interface IfStep extends StepBase { kind: 'if'; cond: Expr; then: string | null; else: string | null }
export interface SplitStep extends StepBase {
  kind: 'split';
  /** Weights sum to 100. A holdout branch ends the run with outcome "holdout". */
  branches: { name: string; weight: number; start: string | null; holdout: boolean }[];
}
export interface UpdateStep extends StepBase {
  kind: 'update';
  /** Field path (as in the contact schema) -> expression or literal JSON value. */
  set?: Record<string, Expr | string | number | boolean | null>;
  addTags?: string[];
  removeTags?: string[];
  consent?: { channel: 'email' | 'sms' | 'phone'; status: 'subscribed' | 'unsubscribed' };
  emailStatus?: EmailStatus;
}
export interface ClassifyStep extends StepBase { kind: 'classify'; ruleSet: string }
/**
 * webhook: POST a JSON body (literals, or expressions evaluated against the contact by the activity, so
 * the values never enter the run's history) to `url`, signed, with an idempotency key stable per run,
 * step and iteration; retried with backoff, a 4xx is final. `setFromResponse` maps contact fields (as
 * an update step sets them) to dotted paths in the JSON answer.
 */
export interface WebhookStep extends StepBase {
  kind: 'webhook';
  url: string;
  body: Record<string, Expr | string | number | boolean | null>;
  setFromResponse?: Record<string, string>;
}
/**
 * task: a task for the contact's owner (what, why, due in `dueMs` from now, the contact's link), created
 * once per run, step and iteration; the owner is told by email (unless `email: false`) and, with
 * `webhook`, by a signed POST to that URL. The run goes on at once (it does not wait for the task).
 */
export interface TaskStep extends StepBase {
  kind: 'task';
  title: string;
  why: string;
  dueMs: number;
  email: boolean;
  webhook?: string;
}
export interface ExitStep extends StepBase { kind: 'exit'; outcome: 'exited' | 'converted'; reason: string }

export type Step = SendStep | WaitStep | WaitForStep | IfStep | SplitStep | UpdateStep | ClassifyStep | WebhookStep | TaskStep | ExitStep;
export type StepKind = Step['kind'];

export type EmailStatus = 'unverified' | 'pending' | 'verified' | 'bounced' | 'complained' | 'invalid' | 'dormant';

export interface TemplateRef {
  id: string;
  marketing: boolean;
  /** Preference-centre topic from the template's front matter (marketing templates must have one). Additive, optional. */
  topic?: string | null;
}

export interface JourneyPlan {
  planFormat: typeof PLAN_FORMAT;
  journeyId: string;
  name: string;
  /** sha256 (hex) of the canonical JSON of this plan without `hash` and `sourceFile`. */
  hash: string;
  sourceFile?: string;
  trigger: Trigger;
  /** More triggers of the same journey (`trigger:` written as a list). Additive, optional: each starts the journey like `trigger`. */
  extraTriggers?: Trigger[];
  entry: EntryPolicy;
  /**
   * Per-entity runs (`entry: { key: event.data.orderId }`): one run per contact per key value, the key
   * evaluated on the trigger event. `byEvent` says, for each event a run listens to, which field of that
   * event's data carries the key (from `wait_for.correlate` on the key), so the dispatcher finds the run
   * by id. Additive, optional.
   */
  entryKey?: { expr: Expr; byEvent: Record<string, string> };
  /** Journey params (`params:` in the file), bound as `journey.params` in expressions. Additive, optional. */
  params?: Record<string, string | number | boolean>;
  exitWhen?: Expr;
  goal?: { event: string; when?: Expr; withinMs?: number };
  settings: Settings;
  /** First step id; null for an empty journey. */
  start: string | null;
  steps: Record<string, Step>;
  /** Resolved references, so a pinned plan needs nothing else at run time. */
  templates: Record<string, TemplateRef>;
  segments: Record<string, SegmentPlan>;
  ruleSets: Record<string, RuleSetPlan>;
}

/** The declared type of a custom attribute (`attributes:` in a rules file). */
export type AttributeType = 'string' | 'number' | 'int' | 'bool' | 'date';
export const ATTRIBUTE_TYPES: readonly AttributeType[] = ['string', 'number', 'int', 'bool', 'date'];

/** A compiled rules file: named segments and classification rule sets. */
export interface RulesPlan {
  segments: Record<string, SegmentPlan>;
  ruleSets: Record<string, RuleSetPlan>;
  /** Declared custom attributes (`contact.attributes.<name>`) and their types. Optional. */
  attributes?: Record<string, AttributeType>;
}
