/**
 * The first-start demo of `npm start`: loads demo/contacts.json, announces the sign-ups (which start
 * welcome runs), and triggers each journey's schedule once now (birthday, re-engagement and
 * verification scans), so a new user sees runs in the Temporal UI and emails in the inbox within a
 * minute; the daily classification runs once too. Runs once per database: a `meta` document with a fixed id claims it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import mongoose from 'mongoose';
import type { Logger } from 'pino';
import { upsertContact } from '../data/contacts';
import { ContactModel } from '../data/contact-model';
import { parseDuration } from '../rules/duration';
import type { JourneyPlan } from '../rules/plan';
import { ScheduleNotFoundError } from '@temporalio/client';
import { CLASSIFY_SCHEDULE_ID, scheduleIdOf } from '../engine/schedules';
import type { Ingest } from '../engine/ingest';
import { isDuplicateKey } from '../data/duplicate-key';

const DEMO_FILE = path.join(__dirname, '..', 'demo', 'contacts.json');
/** Zones tried for each demo contact; the first where it is daytime now wins, so quiet hours don't hide the demo. */
const ZONES = ['Asia/Shanghai', 'Asia/Tokyo', 'Europe/Berlin', 'Europe/London', 'America/Sao_Paulo', 'America/New_York', 'America/Los_Angeles', 'Pacific/Auckland'];

function localHour(zone: string, at: Date): number {
  return Number(new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', hourCycle: 'h23' }).format(at));
}

function relative(v: unknown, now: Date): Date | undefined {
  if (typeof v !== 'string' || !/^[-+]\d/.test(v)) return undefined;
  const ms = parseDuration(v.slice(1));
  return ms === null ? undefined : new Date(now.getTime() + (v[0] === '-' ? -ms : ms));
}

export async function runDemoOnce(deps: { client: Client; plans: JourneyPlan[]; ingest: Ingest; log: Logger }): Promise<boolean> {
  const meta = mongoose.connection.collection<{ _id: string; loadedAt: Date }>('meta');
  try {
    await meta.insertOne({ _id: 'demo', loadedAt: new Date() });
  } catch (err) {
    if (isDuplicateKey(err)) return false; // already loaded once
    throw err;
  }
  const people = await loadDemoContacts({ ingest: deps.ingest });
  deps.log.info({ contacts: people }, 'demo contacts loaded');
  for (const plan of deps.plans) {
    const scheduleId = scheduleIdOf(plan);
    if (!scheduleId) continue;
    await deps.client.schedule.getHandle(scheduleId).trigger();
    deps.log.info({ journey: plan.journeyId, scheduleId }, 'demo: schedule triggered now');
  }
  // The daily classification pass, now: importance, lifecycle, RFM and business type of the demo people.
  try {
    await deps.client.schedule.getHandle(CLASSIFY_SCHEDULE_ID).trigger();
    deps.log.info({ scheduleId: CLASSIFY_SCHEDULE_ID }, 'demo: schedule triggered now');
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
  return true;
}

/**
 * Loads the people of demo/contacts.json (time zones where it is daytime now) and announces the
 * sign-ups through the ingest; imported people get their history (status, dates, order counters) as
 * stored fields, the way an import of existing customers brings them. Returns how many were loaded.
 */
export async function loadDemoContacts(deps: { ingest: Pick<Ingest, 'ingest'>; now?: Date }): Promise<number> {
  const now = deps.now ?? new Date();
  const daytime = ZONES.filter((z) => localHour(z, now) >= 9 && localHour(z, now) < 20);
  const people = JSON.parse(fs.readFileSync(DEMO_FILE, 'utf8')) as Record<string, unknown>[];
  let i = 0;
  for (const p of people) {
    const { source, emailStatus, emailVerifiedAt, lastActivityAt, createdAt, birthday, engagement, ...input } = p;
    const timezone = daytime.length ? daytime[i++ % daytime.length] : 'UTC';
    const bday = relative(birthday, now);
    const r = await upsertContact({ ...input, timezone, birthday: bday ? { month: bday.getUTCMonth() + 1, day: bday.getUTCDate() } : (birthday as string | undefined) } as never, {
      source: String(source ?? 'demo'),
    });
    const set: Record<string, unknown> = {};
    if (emailStatus) set.emailStatus = emailStatus;
    for (const [k, v] of Object.entries({ emailVerifiedAt, lastActivityAt, createdAt })) {
      const d = relative(v, now);
      if (d) set[k] = d;
    }
    // Order history from before Sojourn (what order.completed events count): orders, revenue, last order.
    const e = (engagement ?? {}) as { orders?: number; revenue?: number; lastOrderAt?: string };
    if (typeof e.orders === 'number') set['engagement.orders'] = e.orders;
    if (typeof e.revenue === 'number') set['engagement.revenue'] = e.revenue;
    const lastOrder = relative(e.lastOrderAt, now);
    if (lastOrder) set['engagement.lastOrderAt'] = lastOrder;
    if (Object.keys(set).length) await ContactModel.updateOne({ _id: r.contact._id }, { $set: set }).exec();
    const id = String(r.contact._id);
    // Sign-ups announce themselves (the API does this on create); imported contacts do not.
    if (r.created && source !== 'import') await deps.ingest.ingest({ contactId: id, name: 'contact.created', at: now, eventId: `contact.created:${id}` });
  }
  return people.length;
}
