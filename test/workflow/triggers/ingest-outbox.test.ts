/**
 * The one door for events against the real Temporal test server and the real database: an event is
 * stored once by id whatever happens to its dispatch; with Temporal unreachable the API-level answer
 * is "accepted" (dispatched: false) and the event waits in the outbox; the sweep then dispatches it,
 * marks it and empties the outbox; a crash between the outbox entry and the event insert is repaired.
 */
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { contact, deploy, eventually, plan, sendsOf, useEngine } from '../helpers';
import { createIngest } from '../../../engine/ingest';
import { createEventDispatcher } from '../../../engine/dispatch';
import { ContactEventModel } from '../../../data/contact-event-model';
import { enqueueOutbox, OutboxModel } from '../../../data/event-outbox';
import { journeyWorkflowId, type JourneyResult } from '../../../workflows/definitions';

describe('the event ingest and its outbox', () => {
  const engine = useEngine();
  // Temporal "down": a client of a port nobody listens on, without the client's retries (fails in < 1 s).
  let down: Connection;
  beforeAll(() => { down = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500, interceptors: [] }); });
  afterAll(async () => { await down.close().catch(() => undefined); });

  const ingestVia = (client: Client) => createIngest({
    dispatcher: createEventDispatcher({ client, taskQueue: engine.taskQueue }),
    outboxGraceMs: 0, backoffBaseMs: 0, dispatchWaitMs: 10_000,
  });
  const notStarted = async (id: string) => engine.client.workflow.getHandle(id).describe().then(() => false, (e) => e instanceof WorkflowNotFoundError);

  it('stores an event once, keeps it in the outbox while Temporal is down, and the sweep dispatches it when it is back', async () => {
    await deploy(plan('ingest_once', [{ id: 'hello', kind: 'send', template: 'welcome', marketing: true }], { trigger: { kind: 'event', event: 'contact.created' } }));
    const c = await contact();
    const ev = { eventId: `contact.created:${c}`, contactId: c, name: 'contact.created' };
    const whileDown = ingestVia(new Client({ connection: down }));

    const first = await whileDown.ingest(ev);
    expect(first).toEqual({ eventId: ev.eventId, duplicate: false, dispatched: false, machine: false });
    const again = await whileDown.ingest(ev);
    expect(again).toMatchObject({ duplicate: true, dispatched: false });
    expect(await ContactEventModel.countDocuments({ contactId: c })).toBe(1);
    expect(await ContactEventModel.findById(ev.eventId).lean()).toMatchObject({ dispatchedAt: null });
    const entry = await OutboxModel.findById(ev.eventId).lean();
    expect(entry?.attempts).toBe(2);
    expect(entry?.lastError).toMatch(/./);
    expect(await notStarted(journeyWorkflowId('ingest_once', c))).toBe(true);
    // A sweep while still down fails again and keeps the entry.
    expect(await whileDown.sweepOutbox()).toMatchObject({ due: 1, dispatched: 0, failed: 1 });

    const back = ingestVia(engine.env.client);
    expect(await back.sweepOutbox()).toMatchObject({ due: 1, dispatched: 1, failed: 0 });
    expect(await OutboxModel.countDocuments({})).toBe(0);
    expect((await ContactEventModel.findById(ev.eventId).lean())?.dispatchedAt).toBeInstanceOf(Date);
    const result: JourneyResult = await engine.env.client.workflow.getHandle(journeyWorkflowId('ingest_once', c)).result();
    expect(result.sends.map((s) => s.outcome)).toEqual(['sent']);
    expect(await sendsOf(c)).toHaveLength(1);
    // Delivered again later: stored once, not dispatched again.
    expect(await back.ingest(ev)).toEqual({ eventId: ev.eventId, duplicate: true, dispatched: true, machine: false });
    expect(await back.sweepOutbox()).toMatchObject({ seen: 0 });
  });

  it('refuses an event id already used for another contact and leaves nothing of it behind', async () => {
    const [a, b] = [await contact(), await contact()];
    const ingest = ingestVia(engine.env.client);
    const eventId = `reused-${a}`;
    expect(await ingest.ingest({ eventId, contactId: a, name: 'contact.login' })).toMatchObject({ duplicate: false, dispatched: true });
    await expect(ingest.ingest({ eventId, contactId: b, name: 'order.completed', data: { amount: 5 } })).rejects.toMatchObject({ code: 'E_EVENT_ID_REUSED' });
    expect(await OutboxModel.countDocuments({ _id: eventId })).toBe(0);
    expect(await ContactEventModel.findById(eventId).lean()).toMatchObject({ contactId: a, name: 'contact.login' });
    expect(await ContactEventModel.countDocuments({ contactId: b })).toBe(0);
  });

  it('completes a crash between the outbox entry and the event insert: the sweep stores and dispatches it', async () => {
    await deploy(plan('ingest_crash', [{ id: 'hello', kind: 'send', template: 'welcome', marketing: true }], { trigger: { kind: 'event', event: 'order.completed' } }));
    const c = await contact();
    const event = { eventId: `crash-${c}`, contactId: c, name: 'order.completed', at: new Date(), data: { amount: 7 } };
    await enqueueOutbox(event, new Date(0), new Date());
    expect(await ContactEventModel.countDocuments({ _id: event.eventId })).toBe(0);
    expect(await ingestVia(engine.env.client).sweepOutbox()).toMatchObject({ due: 1, dispatched: 1 });
    expect(await ContactEventModel.findById(event.eventId).lean()).toMatchObject({ name: 'order.completed', data: { amount: 7 } });
    await eventually(async () => (await sendsOf(c)).length === 1 || null);
  });

  it('answers "accepted" within the wait even when the dispatch hangs, and marks the event once it went through', async () => {
    const c = await contact();
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const slow = createIngest({ dispatcher: { dispatch: async () => { await gate; } }, dispatchWaitMs: 100 });
    const r = await slow.ingest({ eventId: `slow-${c}`, contactId: c, name: 'contact.login' });
    expect(r).toMatchObject({ duplicate: false, dispatched: false });
    release();
    await eventually(async () => (await ContactEventModel.findById(`slow-${c}`).lean())?.dispatchedAt ?? null);
    expect(await OutboxModel.countDocuments({ _id: `slow-${c}` })).toBe(0);
  });
});
