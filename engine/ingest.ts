/**
 * The one door for events. The API, the public endpoints (opens, clicks, unsubscribes, preferences,
 * confirm, verify), bounce and complaint reports, the demo and the scenario harness all call
 * `ingest(event)`:
 *
 *   1. store it, idempotently: an insert keyed by `_id` = event id (data/contacts.ts `recordEvent`,
 *      which also applies engagement, consent and email-status effects once);
 *      just before the insert, an outbox entry keyed by the same id (data/event-outbox.ts);
 *   2. dispatch it to the engine (engine/dispatch.ts: start or signal runs);
 *   3. mark it dispatched (the event's `dispatchedAt`) and delete the outbox entry.
 * Between 1 and 2, an email event (open, click, unsubscribe, bounce) is counted for the report against
 * the step that sent the email (data/journey-stat-facts.ts).
 *
 * Delivery guarantee: at least once to the engine, deduplicated there by event id (runs remember the
 * ids they saw; "once" entries are refused by Temporal's workflow-id policy). A crash or an engine
 * outage between 1 and 3 leaves the outbox entry; `sweepOutbox` (run by `sojourn serve`, see
 * engine/outbox-sweeper.ts) retries it with backoff. A duplicate that was never dispatched is
 * dispatched again. Machine opens and clicks (`machine: true`) are stored and never dispatched.
 *
 * What callers may answer: the event is stored once `ingest` returns (whatever `dispatched` says);
 * `dispatched: false` means "accepted, will be dispatched" (the API answers 202). When storing fails,
 * `ingest` throws and nothing was acknowledged.
 */
import { eventsIngested } from '../lib/metrics';
import { isKnownEvent } from '../rules/event-vocabulary';
import type { Logger } from 'pino';
import { createContacts, ContactError, type Contacts } from '../data/contacts';
import type { NewEvent, SojournEvent } from '../data/contact-event-model';
import { enqueueOutbox, outboxEvent, outboxPage, removeFromOutbox, rescheduleOutbox } from '../data/event-outbox';
import { loadConfig } from '../lib/config';
import { recordEventFacts } from '../data/journey-stat-facts';
import type { RuleSetPlan } from '../rules/plan';

/** Events that change what the rule sets read (engagement counters, RFM): the contact is reclassified after them. */
export const RECLASSIFY_ON = ['order.completed', 'email.opened', 'email.clicked', 'contact.created', 'contact.login'] as const;

export type { SojournEvent, NewEvent };

/** What the ingest hands events to: the engine's dispatcher (engine/dispatch.ts) in production. */
export interface EventDispatcher { dispatch(event: SojournEvent): Promise<unknown> }

export interface IngestResult {
  eventId: string;
  /** The id was stored before (nothing was stored or applied twice). */
  duplicate: boolean;
  /** The engine has the event (now or earlier); false: it waits in the outbox. Machine events: true (nothing to dispatch). */
  dispatched: boolean;
  machine: boolean;
}

export interface SweepResult { seen: number; due: number; dispatched: number; failed: number; dropped: number }

export interface Ingest {
  ingest(event: NewEvent): Promise<IngestResult>;
  /** One pass over the outbox: every due entry is stored (if a crash left it unstored) and dispatched. */
  sweepOutbox(opts?: { pageSize?: number }): Promise<SweepResult>;
}

export interface IngestDeps {
  /** null: store only (e.g. a CLI without Temporal); the outbox sweep of `sojourn serve` dispatches later. */
  dispatcher: EventDispatcher | null;
  contacts?: Pick<Contacts, 'recordEvent' | 'markEventDispatched' | 'classifyContact'>;
  /**
   * Contact rule sets (the deployed ones) run on the contact right after a new event named in
   * RECLASSIFY_ON is stored, before it is dispatched (so a journey triggered by an order sees the
   * importance and RFM that order gives): one read and at most one write by `_id`. A failure is logged,
   * never fails the event; the daily pass (workflows/classify-scan.ts) catches up.
   */
  classify?: { ruleSets: RuleSetPlan[] };
  log?: Pick<Logger, 'warn' | 'info'>;
  now?: () => Date;
  /**
   * How long the caller waits for the in-line dispatch before answering "accepted" (the attempt goes
   * on and still marks the event when it succeeds). Default 5 s: an engine outage costs a request
   * no more than that.
   */
  dispatchWaitMs?: number;
  /** When the sweep first looks at a fresh entry (leaves the in-line attempt time to finish). Default 60 s. */
  outboxGraceMs?: number;
  /** Backoff of the sweep after failed attempts: base * 2^attempts, capped. Defaults 5 s and 5 min. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export function createIngest(deps: IngestDeps): Ingest {
  const now = deps.now ?? (() => new Date());
  const contacts = deps.contacts ?? (() => {
    const cfg = loadConfig();
    return createContacts({ secret: cfg.secret, phoneKey: cfg.phoneKey });
  })();
  const waitMs = deps.dispatchWaitMs ?? 5_000;
  const graceMs = deps.outboxGraceMs ?? 60_000;
  const base = deps.backoffBaseMs ?? 5_000;
  const cap = deps.backoffMaxMs ?? 5 * 60_000;

  /** Dispatch, then mark; on failure the outbox entry waits for its next attempt. Never rejects. */
  async function attempt(e: SojournEvent, attempts: number): Promise<boolean> {
    if (!deps.dispatcher) return false;
    try {
      await deps.dispatcher.dispatch(e);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const delay = Math.min(cap, base * 2 ** Math.min(attempts, 20));
      deps.log?.warn({ eventId: e.eventId, name: e.name, contactId: e.contactId, attempts: attempts + 1, retryInMs: delay, err: message }, 'event dispatch failed; kept in the outbox');
      await rescheduleOutbox(e.eventId, new Date(now().getTime() + delay), message).catch(() => undefined);
      return false;
    }
    try {
      await contacts.markEventDispatched(e.eventId);
      await removeFromOutbox(e.eventId);
    } catch {
      // The engine has it; the entry stays and a later sweep dispatches it again (deduplicated by id).
    }
    return true;
  }

  /** Waits for the attempt at most `waitMs`; it keeps going in the background after that. */
  async function attemptWithin(e: SojournEvent): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), waitMs); });
    try {
      return await Promise.race([attempt(e, 0), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function ingest(input: NewEvent): Promise<IngestResult> {
    const machine = input.machine === true || input.data?.machine === true;
    const r = await contacts.recordEvent(
      { ...input, machine },
      machine ? {} : { beforeInsert: (ev) => enqueueOutbox(ev, new Date(now().getTime() + graceMs), now()), onDuplicate: removeFromOutbox },
    );
    const stored = r.event;
    const e: SojournEvent = { eventId: stored._id, contactId: stored.contactId, name: stored.name, at: stored.at, data: stored.data ?? {}, machine: stored.machine === true };
    if (deps.classify?.ruleSets.length && !r.duplicate && !e.machine && (RECLASSIFY_ON as readonly string[]).includes(e.name)) {
      // The contact the event's own update returned, when there was one: no second read.
      await contacts.classifyContact(e.contactId, deps.classify.ruleSets, r.contact ? { contact: r.contact } : {}).catch((err: unknown) =>
        deps.log?.warn({ eventId: e.eventId, name: e.name, contactId: e.contactId, err: err instanceof Error ? err.message : String(err) }, 'contact not reclassified after the event (the daily pass will)'));
    }
    // Reports: an email event counts for the step that sent the email (once per email; machines apart).
    // Statistics never fail an event: a failure is logged and that one fact is missing.
    await recordEventFacts(e).catch((err: unknown) => deps.log?.warn({ eventId: e.eventId, name: e.name, err: err instanceof Error ? err.message : String(err) }, 'report fact of the event not recorded'));
    if (e.machine || stored.dispatchedAt) return { eventId: e.eventId, duplicate: r.duplicate, dispatched: true, machine: e.machine === true };
    // A duplicate never dispatched (engine down the first time): make sure the outbox has it, try again.
    if (r.duplicate) await enqueueOutbox(e, new Date(now().getTime() + graceMs), now());
    const dispatched = await attemptWithin(e);
    return { eventId: e.eventId, duplicate: r.duplicate, dispatched, machine: false };
  }

  async function sweepOutbox(opts: { pageSize?: number } = {}): Promise<SweepResult> {
    const pageSize = opts.pageSize ?? 100;
    const result: SweepResult = { seen: 0, due: 0, dispatched: 0, failed: 0, dropped: 0 };
    if (!deps.dispatcher) return result;
    let after: string | null = null;
    for (;;) {
      const page = await outboxPage(after, pageSize);
      if (page.length === 0) break;
      result.seen += page.length;
      after = page[page.length - 1]._id;
      const at = now().getTime();
      for (const doc of page) {
        if (new Date(doc.nextAttemptAt).getTime() > at) continue;
        result.due++;
        const e = outboxEvent(doc);
        try {
          // Completes a crash between the outbox entry and the event insert (a duplicate otherwise).
          const r = await contacts.recordEvent(e);
          if (r.event.dispatchedAt) {
            await removeFromOutbox(e.eventId);
            continue;
          }
        } catch (err) {
          if (err instanceof ContactError && (err.code === 'E_NOT_FOUND' || err.code === 'E_ERASED' || err.code === 'E_EVENT_ID_REUSED')) {
            deps.log?.warn({ eventId: e.eventId, code: err.code }, 'outbox entry dropped: its contact is gone');
            await removeFromOutbox(e.eventId);
            result.dropped++;
            continue;
          }
          throw err;
        }
        if (await attempt(e, doc.attempts)) result.dispatched++;
        else result.failed++;
      }
      if (page.length < pageSize) break;
    }
    return result;
  }

  return {
    async ingest(input) {
      const r = await ingest(input);
      eventsIngested.inc({
        name: isKnownEvent(input.name) ? input.name : 'custom',
        result: r.machine ? 'machine' : r.duplicate ? 'duplicate' : r.dispatched ? 'dispatched' : 'outbox',
      });
      return r;
    },
    sweepOutbox,
  };
}
