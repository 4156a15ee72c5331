/**
 * The state of one journey run and the primitives every step handler uses: reading the contact,
 * evaluating expressions, waiting (interruptible by events, exit_when and goals), and reporting status
 * through the `status` query and search attributes.
 */
import { condition, patched, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { ContactView, EventView, JourneyView } from '../rules/contact-schema';
import type { Expr, JourneyPlan, Step } from '../rules/plan';
import { data } from './activities';
import { eventSignal, migrateUpdate, statusQuery, type CarriedState, type JourneyEvent, type JourneyInput, type RunOutcome, type RunStatus, type SendRecord } from './definitions';
import { evaluateCondition, evaluateValue, reviveContactView } from './expr';
import { triggerDataTypes, triggerView } from '../rules/trigger-data';
import { SOJOURN_STEP, SOJOURN_STATUS, SOJOURN_VERSION } from './search-attributes';
import { migrationBlocker } from './migrate';

/** A run ends: how and why. */
export interface RunEnd { outcome: RunOutcome; reason: string }

/** What a step handler returns: where to go next, or that the run ends. */
export type StepResult = { next: string | null } | { end: RunEnd };

export type WaitResult = { kind: 'timeout' } | { kind: 'event'; event: JourneyEvent } | { kind: 'ended'; end: RunEnd };

const MAX_SEEN_EVENT_IDS = 200;

/** Patch id: runs wait out the goal window after their last step (and holdout runs at their split). */
export const GOAL_WINDOW_PATCH = 'goal-window';

/**
 * Patch id: a contact read serves every exit check and condition until the run blocks, writes or gets an
 * event (decision 39). Runs recorded before read the contact at each of them and replay so.
 */
export const CONTACT_READ_REUSE_PATCH = 'contact-read-reuse';

/**
 * Patch id: the search attributes of steps the run passes through (no wait, send or call) are written
 * with the next upsert instead of one upsert each (decision 41). Runs recorded before upserted at every
 * step and replay so.
 */
export const SEARCH_ATTRIBUTES_ON_BLOCK_PATCH = 'search-attributes-on-block';

export class Run {
  readonly status: RunStatus;
  readonly splits: Record<string, string>;
  readonly sends: SendRecord[];
  iteration: number;
  readonly startedAt: Date;
  private readonly inbox: JourneyEvent[] = [];
  private readonly seen: string[];
  private contact: ContactView | null = null;
  /**
   * True while `contact` is as fresh as this burst of steps can make it: set by a read, cleared when
   * the run blocks (timer, condition, a step that writes or sends) or an event arrives (decision 39).
   */
  private contactFresh = false;
  /** Search attributes set while passing through, by name; written with the next upsert (decision 41). */
  private readonly pendingAttributes = new Map<string, SearchAttributeUpdatePair>();

  /** Set by `load()`; steps only run after it. */
  plan!: JourneyPlan;

  /** Registers the signal and query handlers at once, so nothing sent before the plan is loaded is lost or refused. */
  constructor(readonly input: JourneyInput) {
    const c: CarriedState | undefined = input.carried;
    this.iteration = c?.iteration ?? 0;
    this.startedAt = new Date(c?.startedAt ?? workflowInfo().startTime.getTime());
    this.splits = { ...(c?.splits ?? {}) };
    this.sends = [...(c?.sends ?? [])];
    this.seen = [...(c?.seenEventIds ?? [])];
    this.status = {
      journeyId: input.journeyId, version: input.version, contactId: input.contactId,
      step: null, waitingFor: null, until: null, reason: null, iteration: this.iteration,
      ...(this.sends.length ? { lastSend: this.sends[this.sends.length - 1] } : {}),
    };
    setHandler(eventSignal, (ev) => {
      if (this.seen.includes(ev.eventId)) return; // at-least-once delivery of events: dedupe by id
      this.seen.push(ev.eventId);
      if (this.seen.length > MAX_SEEN_EVENT_IDS) this.seen.shift();
      this.inbox.push(ev);
      // The event may say the contact changed (preferences, unsubscribe, an update): read it anew.
      this.contactFresh = false;
    });
    setHandler(statusQuery, () => this.status);
    setHandler(migrateUpdate, async (req) => {
      if (this.status.outcome) return { moved: false, reason: 'the run has ended' };
      if (!this.plan) return { moved: false, reason: 'the run is starting; try again' };
      if (req.toVersion === this.input.version) return { moved: false, reason: `already on version ${req.toVersion}` };
      const target = await data().loadJourneyPlan({ journeyId: this.input.journeyId, version: req.toVersion });
      // Decided after the plan is read: the run may have moved on meanwhile.
      const blocker = this.status.outcome ? 'the run has ended' : migrationBlocker(this.plan ?? null, target, this.status.step);
      if (blocker) return { moved: false, reason: blocker };
      const fromVersion = this.input.version;
      this.plan = target;
      this.input.version = req.toVersion;
      this.status.version = req.toVersion;
      this.setSearchAttributes([{ key: SOJOURN_VERSION, value: req.toVersion }], { passingThrough: false });
      return { moved: true, fromVersion, step: this.status.step };
    });
  }

  /** Loads and pins the plan of (journeyId, version). */
  async load(): Promise<JourneyPlan> {
    this.plan = await data().loadJourneyPlan({ journeyId: this.input.journeyId, version: this.input.version });
    return this.plan;
  }

  get workflowId(): string {
    return workflowInfo().workflowId;
  }

  /**
   * The workflow part of send-ledger keys. For "restart" journeys the same workflow id is reused by
   * every entry, so the first run id of this entry (stable across retries and continue-as-new) is added.
   */
  /** One key per entry, stable across retries and continue-as-new (reports count entries by it). */
  get entryKey(): string {
    const info = workflowInfo();
    return `${info.workflowId}@${info.firstExecutionRunId}`;
  }

  /** The split branch the run took last (`step:branch`), or null: sends are counted for it. */
  get variant(): string | null {
    const entries = Object.entries(this.splits);
    return entries.length ? `${entries[entries.length - 1][0]}:${entries[entries.length - 1][1]}` : null;
  }

  get ledgerScope(): string {
    const info = workflowInfo();
    return this.plan.entry.kind === 'restart' ? `${info.workflowId}@${info.firstExecutionRunId}` : info.workflowId;
  }

  get journeyView(): JourneyView & { params: Record<string, unknown> } {
    return { id: this.plan.journeyId, version: this.input.version, startedAt: this.startedAt, params: this.plan.params ?? {} };
  }

  now(): Date {
    return new Date(Date.now());
  }

  /** Reads the contact afresh (an activity). null when the contact no longer exists (erased). */
  private async loadContact(): Promise<ContactView | null> {
    const raw = await data().loadContact({ contactId: this.input.contactId });
    this.contact = raw ? reviveContactView(raw) : null;
    this.contactFresh = true;
    return this.contact;
  }

  /**
   * The contact for an exit check or a condition: the read of this burst of steps when nothing since
   * could have changed it (no wait, no event, no write or send by the run; decision 39), else a fresh read.
   * Runs recorded before the patch read it every time.
   */
  async freshContact(): Promise<ContactView | null> {
    if (this.contactFresh && patched(CONTACT_READ_REUSE_PATCH)) return this.contact;
    return this.loadContact();
  }

  /** The run blocked, wrote the contact or sent: the next exit check or condition reads the contact anew. */
  contactMayHaveChanged(): void {
    this.contactFresh = false;
  }

  /** The contact read last, or a fresh read if none yet. */
  async currentContact(): Promise<ContactView | null> {
    return this.contact ?? this.loadContact();
  }

  /** The event that started the run as `trigger` (declared data only), or undefined for scan-started runs without data. */
  get triggerView(): EventView | undefined {
    const t = this.input.trigger;
    if (!t) return undefined;
    return triggerView(t, triggerDataTypes(this.plan));
  }

  bindings(contact: ContactView, event?: JourneyEvent) {
    return {
      contact, now: this.now(), journey: this.journeyView, defaultTimezone: this.plan.settings.defaultTimezone,
      event: event ? toEventView(event) : undefined, trigger: this.triggerView,
    };
  }

  /** True when the expression holds; evaluation errors count as false and are recorded in the status. */
  test(expr: Expr, contact: ContactView, event?: JourneyEvent): boolean {
    const r = evaluateCondition(expr, this.bindings(contact, event));
    if (r.error) this.status.reason = `expression error: ${r.error}`;
    return r.value;
  }

  value(expr: Expr, contact: ContactView): unknown {
    return evaluateValue(expr, this.bindings(contact));
  }

  /**
   * The `status` query says the new step at once. `SojournStep` is written now for a step the run may be
   * held at (a wait, a send, a call), and with the next upsert for one it passes through (decision 41).
   */
  enterStep(step: Step, passingThrough: boolean): void {
    this.status.step = step.id;
    this.clearWait();
    this.setSearchAttributes([{ key: SOJOURN_STEP, value: step.id }], { passingThrough });
  }

  /**
   * Sets search attributes. Visibility only needs them right while the run waits, sends, calls out or
   * has ended: what is set while passing through steps that do none of these is kept and written with
   * the next upsert (at the next step that may hold the run, before any wait, at the end), one history
   * event and one visibility write instead of one per step. Keeping costs the run the patch (a marker and
   * the SDK's own search-attribute upsert), so it is taken only at the first step passed through: runs
   * that never pass through a step (send, wait, send) upsert exactly as before. Runs recorded before the
   * patch upserted at once and replay so.
   */
  setSearchAttributes(pairs: SearchAttributeUpdatePair[], opts: { passingThrough: boolean }): void {
    for (const pair of pairs) this.pendingAttributes.set(pair.key.name, pair);
    if (opts.passingThrough && patched(SEARCH_ATTRIBUTES_ON_BLOCK_PATCH)) return;
    this.flushSearchAttributes();
  }

  /** Writes the search attributes kept so far, if any, in one upsert. */
  flushSearchAttributes(): void {
    if (this.pendingAttributes.size === 0) return;
    upsertSearchAttributes([...this.pendingAttributes.values()]);
    this.pendingAttributes.clear();
  }

  /**
   * Called before the run blocks: a timer or condition, an activity task (send, webhook, owner task),
   * continue-as-new. Whatever is kept is written (visibility shows the step the run is held at, e.g. the
   * goal window after a last `update`), and the contact read of the burst is dropped (decision 39: the
   * contact may change while the run waits).
   */
  beforeBlocking(): void {
    this.contactFresh = false;
    this.flushSearchAttributes();
  }

  setWaiting(waitingFor: string, until: number | null, reason: string): void {
    this.status.waitingFor = waitingFor;
    this.status.until = until === null ? null : new Date(until).toISOString();
    this.status.reason = reason;
  }

  clearWait(): void {
    this.status.waitingFor = null;
    this.status.until = null;
    this.status.reason = null;
  }

  markEnded(end: RunEnd): void {
    this.clearWait();
    this.status.outcome = end.outcome;
    this.status.reason = end.reason;
    this.setSearchAttributes([{ key: SOJOURN_STATUS, value: end.outcome }], { passingThrough: false });
  }

  /** exit_when against a fresh contact read. A contact that is gone exits the run. */
  async checkExit(): Promise<RunEnd | null> {
    if (!this.plan.exitWhen) return null;
    const contact = await this.freshContact();
    if (!contact) return { outcome: 'exited', reason: 'contact_gone' };
    return this.test(this.plan.exitWhen, contact) ? { outcome: 'exited', reason: 'exit_when' } : null;
  }

  /** A goal event within the goal window that satisfies goal.when converts the run. */
  private async isGoal(ev: JourneyEvent): Promise<boolean> {
    const goal = this.plan.goal;
    if (!goal || ev.name !== goal.event) return false;
    if (goal.withinMs !== undefined && Date.parse(ev.at) - this.startedAt.getTime() > goal.withinMs) return false;
    if (!goal.when) return true;
    const contact = await this.freshContact();
    return contact !== null && this.test(goal.when, contact, ev);
  }

  /** Handles an arrived event: goal first, then exit_when (the event may have changed the contact). */
  private async onEvent(ev: JourneyEvent): Promise<RunEnd | null> {
    if (await this.isGoal(ev)) return { outcome: 'converted', reason: `goal:${ev.name}` };
    return this.checkExit();
  }

  /** Processes events that arrived while the run was busy; called before each step. */
  async drainEvents(): Promise<RunEnd | null> {
    while (this.inbox.length > 0) {
      const end = await this.onEvent(this.inbox.shift()!);
      if (end) return end;
    }
    return null;
  }

  /**
   * Waits until `until` (epoch ms), or until an event satisfying `match` arrives, or until the run ends
   * (goal reached or exit_when true on an arriving event). Status says what we wait for and why.
   */
  async wait(opts: { until: number; waitingFor: string; reason: string; match?: (ev: JourneyEvent) => Promise<boolean> }): Promise<WaitResult> {
    this.setWaiting(opts.waitingFor, opts.until, opts.reason);
    for (;;) {
      while (this.inbox.length > 0) {
        const ev = this.inbox.shift()!;
        const end = await this.onEvent(ev);
        if (end) return { kind: 'ended', end };
        if (opts.match && (await opts.match(ev))) {
          this.clearWait();
          return { kind: 'event', event: ev };
        }
      }
      const remaining = opts.until - Date.now();
      if (remaining <= 0) break;
      this.beforeBlocking();
      const woke = await condition(() => this.inbox.length > 0, remaining);
      if (!woke) break;
    }
    this.clearWait();
    return { kind: 'timeout' };
  }

  /**
   * After the last step (or at a holdout branch) of a journey whose goal has a window: waits, sending
   * nothing, until the window measured from entry closes, so a goal reached after the last step still
   * converts the run and a holdout's conversions are observed. Only the goal ends the wait (nothing is
   * sent any more, so exit_when no longer matters). Runs recorded before this existed end at once (patch).
   */
  async awaitGoalWindow(otherwise: RunEnd): Promise<RunEnd> {
    const goal = this.plan.goal;
    if (!goal || goal.withinMs === undefined || !patched(GOAL_WINDOW_PATCH)) return otherwise;
    const until = this.startedAt.getTime() + goal.withinMs;
    this.setWaiting('goal', until, `goal window: ${goal.event} until ${new Date(until).toISOString()}`);
    for (;;) {
      while (this.inbox.length > 0) {
        const ev = this.inbox.shift()!;
        if (await this.isGoal(ev)) {
          this.clearWait();
          return { outcome: 'converted', reason: `goal:${ev.name}` };
        }
      }
      const remaining = until - Date.now();
      if (remaining > 0) this.beforeBlocking();
      if (remaining <= 0 || !(await condition(() => this.inbox.length > 0, remaining))) break;
    }
    this.clearWait();
    return otherwise;
  }

  carry(stepId: string, iteration: number): CarriedState {
    return {
      stepId, iteration, startedAt: this.startedAt.toISOString(), splits: this.splits,
      seenEventIds: this.seen.slice(-50), sends: this.sends.slice(-20),
    };
  }
}

function toEventView(ev: JourneyEvent): EventView {
  return { name: ev.name, at: new Date(ev.at), data: ev.data ?? {} };
}
