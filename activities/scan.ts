/**
 * The pages of audience and birthday scans. Each call reads one bounded page of contacts by `_id`
 * (indexed), decides who enters, and starts their runs with bounded concurrency. Idempotent: a retried
 * page starts the same workflow ids, which Temporal rejects or signals per the entry policy.
 *
 * An audience page asks the database for nothing but an ObjectId range on `_id`, sorted by `_id`,
 * limited (the shape of `GET /v1/contacts`, data/contact-list.ts): the provisioned FerretDB runs exactly
 * that as one index range with ORDER BY and LIMIT in PostgreSQL, while any other condition in the filter
 * (a pushed-down segment) makes it read the whole collection for every page, which makes a scan of N
 * contacts cost N²/page. The segment and erasure are evaluated here, on the page read, so a page costs
 * O(pageSize) on every database and a scan reads each contact once (docs/scaling.md, decision 40).
 */
import { heartbeat } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import mongoose from 'mongoose';
import { getJourneyPlan } from '../data/journey-versions';
import { evaluateBool } from '../rules/evaluate';
import type { JourneyPlan, SegmentPlan } from '../rules/plan';
import { localDate, safeZone } from '../workflows/local-time';
import { toMongoFilter } from '../rules/pushdown';
import { dateScanFilter, dueInstant } from './date-scan';
import { toContactView } from '../data/contact-view';
import type { ContactDoc } from '../data/contact-model';
import { mapBounded, startJourneyRun, type StartOutcome } from './start-run';

export interface ScanPageResult { scanned: number; matched: number; started: number; alreadyEntered: number; nextAfterId: string | null }

export interface ScanActivities {
  scanAudiencePage(input: { journeyId: string; version: number; afterId: string | null; scanAt: string; pageSize: number; concurrency: number }): Promise<ScanPageResult>;
  scanBirthdayPage(input: { journeyId: string; version: number; afterId: string | null; scanAt: string; lookaheadMs: number; pageSize: number; concurrency: number }): Promise<ScanPageResult>;
}

function audienceOf(plan: JourneyPlan): SegmentPlan {
  if (plan.trigger.kind === 'schedule') return plan.trigger.audience;
  if (plan.trigger.kind === 'segment') return plan.trigger.segment;
  throw new Error(`journey ${plan.journeyId} has a ${plan.trigger.kind} trigger, not an audience`);
}

type Doc = Record<string, unknown> & { _id: unknown };

/** The smallest ObjectId: a first page is `_id >= MIN_ID`, so every page query is an ObjectId range. */
const MIN_ID = new mongoose.Types.ObjectId('000000000000000000000000');

/**
 * One page of the audience scan: the contacts after `afterId` in `_id` order, by an `_id` range only
 * (see the file's comment). Exported for the cost test.
 */
export async function audiencePage(afterId: string | null, pageSize: number): Promise<Doc[]> {
  const coll = mongoose.connection.collection('contacts');
  const range = afterId === null ? { $gte: MIN_ID } : { $gt: new mongoose.Types.ObjectId(afterId) };
  return (await coll.find({ _id: range }).sort({ _id: 1 }).limit(pageSize).toArray()) as Doc[];
}

async function page(filter: Record<string, unknown>, afterId: string | null, pageSize: number): Promise<Doc[]> {
  const coll = mongoose.connection.collection('contacts');
  const after = afterId === null ? {} : { _id: { $gt: /^[0-9a-f]{24}$/.test(afterId) ? new mongoose.Types.ObjectId(afterId) : afterId } };
  return (await coll.find({ $and: [filter, after] } as Record<string, unknown>).sort({ _id: 1 }).limit(pageSize).toArray()) as Doc[];
}

function tally(outcomes: StartOutcome[]) {
  return { started: outcomes.filter((o) => o !== 'already_entered').length, alreadyEntered: outcomes.filter((o) => o === 'already_entered').length };
}

export function createScanActivities(deps: { client: Client; taskQueue: string }): ScanActivities {
  const planCache = new Map<string, JourneyPlan>();
  const plan = async (journeyId: string, version: number) => {
    const k = `${journeyId}@${version}`;
    let p = planCache.get(k);
    if (!p) {
      const loaded = await getJourneyPlan(journeyId, version);
      if (!loaded) throw new Error(`journey ${journeyId} has no version ${version}`);
      planCache.set(k, (p = loaded));
    }
    return p;
  };
  return {
    async scanAudiencePage(input) {
      const p = await plan(input.journeyId, input.version);
      const segment = audienceOf(p);
      const now = new Date(input.scanAt);
      const docs = await audiencePage(input.afterId, input.pageSize);
      // The segment is decided here, contact by contact (the pushed-down filter has the same answer, but
      // sent to FerretDB it would make every page a read of the whole collection).
      const matched = docs.filter((d) => d.erasedAt == null
        && evaluateBool(segment.expr, { contact: toContactView(d as unknown as ContactDoc), now, defaultTimezone: p.settings.defaultTimezone }));
      const name = p.trigger.kind === 'segment' ? `segment.${segment.name}` : 'schedule';
      const outcomes = await mapBounded(matched, input.concurrency, async (d) => {
        heartbeat();
        return startJourneyRun(deps.client, deps.taskQueue, {
          journeyId: p.journeyId, version: input.version, entry: p.entry, contactId: String(d._id), via: p.entry.kind === 'restart' ? 'signal' : 'start',
          event: { name, at: input.scanAt, eventId: `${name}:${p.journeyId}:${input.scanAt}` },
        });
      });
      return {
        scanned: docs.length, matched: matched.length, ...tally(outcomes),
        nextAfterId: docs.length < input.pageSize ? null : String(docs[docs.length - 1]._id),
      };
    },

    // The date scan of every date trigger (birthday, any contact date, holidays); named for its first use.
    async scanBirthdayPage(input) {
      const p = await plan(input.journeyId, input.version);
      if (p.trigger.kind !== 'date') throw new Error(`journey ${p.journeyId} has no date trigger`);
      const trigger = p.trigger;
      const now = Date.parse(input.scanAt);
      const dates = dateScanFilter(trigger, now, input.lookaheadMs);
      if (dates === null) return { scanned: 0, matched: 0, started: 0, alreadyEntered: 0, nextAfterId: null };
      // The trigger's condition narrows the query when it can be a database filter; it is checked per contact anyway.
      const when = trigger.when ? toMongoFilter(trigger.when.source, { now: new Date(now) }) : null;
      const filter = when && 'filter' in when ? { $and: [dates, when.filter] } : dates;
      const docs = await page(filter, input.afterId, input.pageSize);
      const due: { id: string; until: number }[] = [];
      for (const d of docs) {
        const contact = toContactView(d as unknown as ContactDoc);
        const zone = safeZone(contact.timezone, p.settings.defaultTimezone);
        const until = dueInstant(trigger, d, zone, now);
        if (until === null || until - now > input.lookaheadMs) continue;
        if (trigger.when && !evaluateBool(trigger.when, { contact, now: new Date(now), defaultTimezone: p.settings.defaultTimezone })) continue;
        due.push({ id: String(d._id), until });
      }
      const what = trigger.holiday ? `holiday.${trigger.holiday}` : trigger.field ?? 'birthday';
      const eventName = `date.${what}`;
      const idPrefix = what === 'birthday' ? 'birthday' : eventName;
      const outcomes = await mapBounded(due, input.concurrency, async ({ id, until }) => {
        heartbeat();
        const year = String(localDate(until, 'UTC').year);
        return startJourneyRun(deps.client, deps.taskQueue, {
          journeyId: p.journeyId, version: input.version, entry: { kind: 'once' }, contactId: id, periodKey: year, via: 'start',
          event: { name: eventName, at: new Date(until).toISOString(), eventId: `${idPrefix}:${p.journeyId}:${id}:${year}` },
          entryWait: { until: new Date(until).toISOString(), reason: `${what}${trigger.offsetDays ? ` ${trigger.offsetDays > 0 ? '+' : ''}${trigger.offsetDays}d` : ''} at ${trigger.at} local time` },
        });
      });
      return {
        scanned: docs.length, matched: due.length, ...tally(outcomes),
        nextAfterId: docs.length < input.pageSize ? null : String(docs[docs.length - 1]._id),
      };
    },
  };
}
