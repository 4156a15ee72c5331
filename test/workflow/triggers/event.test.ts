import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { DAY, changeContact, contact, deploy, eventually, plan, sendsOf, useEngine } from '../helpers';
import { setJourneyPaused } from '../../../data/journey-versions';
import { createEventDispatcher } from '../../../engine/dispatch';
import { journeyWorkflowId, statusQuery, type JourneyResult } from '../../../workflows/definitions';

let seq = 0;
const ev = (contactId: string, name: string, data?: Record<string, unknown>) => ({ contactId, name, at: new Date(), eventId: `ev-${++seq}`, data: data ?? {} });

describe('event triggers', () => {
  const engine = useEngine();
  const dispatcher = () => createEventDispatcher({ client: engine.env.client, taskQueue: engine.taskQueue });
  const handleOf = (journeyId: string, contactId: string, period?: string) => engine.env.client.workflow.getHandle(journeyWorkflowId(journeyId, contactId, period));

  it('starts a run with signal-with-start when the event and its condition match, once per contact', async () => {
    await deploy(plan('trig-once', [{ id: 'hello', kind: 'send', template: 'welcome', marketing: true }], {
      trigger: { kind: 'event', event: 'contact.created', when: { source: 'contact.consent.email == "subscribed"' } },
    }));
    const c = await contact();
    const first = await dispatcher().dispatch(ev(c, 'contact.created'));
    expect(first.started).toEqual([{ journeyId: 'trig-once', outcome: 'delivered' }]);
    const r: JourneyResult = await handleOf('trig-once', c).result();
    expect(r.sends.map((s) => s.outcome)).toEqual(['sent']);
    const again = await dispatcher().dispatch(ev(c, 'contact.created'));
    expect(again.started).toEqual([{ journeyId: 'trig-once', outcome: 'already_entered' }]);
  });

  it('does not start a run, nor use up the entry, when the trigger condition is false', async () => {
    await deploy(plan('trig-when', [{ id: 'hello', kind: 'send', template: 'welcome', marketing: true }], {
      trigger: { kind: 'event', event: 'contact.updated', when: { source: 'contact.consent.email == "subscribed"' } },
    }));
    const c = await contact({ consent: 'pending' });
    const r = await dispatcher().dispatch(ev(c, 'contact.updated'));
    expect(r.started).toEqual([{ journeyId: 'trig-when', outcome: 'not_eligible' }]);
    await expect(handleOf('trig-when', c).describe()).rejects.toThrow();
    // The once-only entry is still there: when the condition holds, the same contact enters.
    await changeContact(c, { 'consent.email.status': 'subscribed' });
    const again = await dispatcher().dispatch(ev(c, 'contact.updated'));
    expect(again.started).toEqual([{ journeyId: 'trig-when', outcome: 'delivered' }]);
    await handleOf('trig-when', c).describe();
  });

  it('replaces the running run on a new entry when the entry policy is restart', async () => {
    await deploy(plan('trig-restart', [
      { id: 'wait', kind: 'wait', mode: 'duration', ms: 3 * DAY },
      { id: 'cart', kind: 'send', template: 'cart', marketing: true },
    ], { trigger: { kind: 'event', event: 'cart.updated' }, entry: { kind: 'restart' } }));
    const c = await contact();
    await dispatcher().dispatch(ev(c, 'cart.updated'));
    const firstRun = (await handleOf('trig-restart', c).describe()).runId;
    // Terminate it while it waits on a timer: the Java test server leaks its time-skipping lock when a
    // run is terminated during an activity, which would stall the rest of this file.
    await eventually(async () => (await handleOf('trig-restart', c).query(statusQuery)).waitingFor === 'timer');
    await dispatcher().dispatch(ev(c, 'cart.updated'));
    const firstDesc = await engine.env.client.workflow.getHandle(journeyWorkflowId('trig-restart', c), firstRun).describe();
    expect(firstDesc.status.name).toBe('TERMINATED');
    const r: JourneyResult = await handleOf('trig-restart', c).result();
    expect(r.sends).toHaveLength(1);
  });

  it('sends again on every new entry of a restart journey, each entry with its own ledger keys', async () => {
    await deploy(plan('trig-restart-again', [{ id: 'cart', kind: 'send', template: 'cart', marketing: false }], {
      trigger: { kind: 'event', event: 'cart.abandoned' }, entry: { kind: 'restart' },
    }));
    const c = await contact();
    await dispatcher().dispatch(ev(c, 'cart.abandoned'));
    await engine.client.workflow.getHandle(journeyWorkflowId('trig-restart-again', c)).result();
    await dispatcher().dispatch(ev(c, 'cart.abandoned'));
    await engine.client.workflow.getHandle(journeyWorkflowId('trig-restart-again', c)).result();
    const keys = (await sendsOf(c)).map((s) => s.key);
    expect(keys).toHaveLength(2);
    expect(new Set(keys).size).toBe(2);
    for (const k of keys) expect(k).toMatch(new RegExp(`^journey/trig-restart-again/${c}@.+:cart:0$`));
  });

  it('enters once per period with the period in the workflow id when the entry policy is every', async () => {
    const periodMs = 30 * DAY;
    await deploy(plan('trig-every', [{ id: 'hello', kind: 'send', template: 'monthly', marketing: true }], {
      trigger: { kind: 'event', event: 'visit' }, entry: { kind: 'every', periodMs },
    }));
    const c = await contact();
    const e = ev(c, 'visit');
    await dispatcher().dispatch(e);
    const period = String(Math.floor(e.at.getTime() / periodMs));
    await handleOf('trig-every', c, period).result();
    expect((await dispatcher().dispatch(ev(c, 'visit'))).started[0].outcome).toBe('already_entered');
  });

  it('delivers events to running runs of the contact in other journeys that wait for them', async () => {
    await deploy(plan('trig-listener', [
      { id: 'wait_for_click', kind: 'wait_for', event: 'email.clicked', timeoutMs: 5 * DAY, onTimeout: null },
      { id: 'thanks', kind: 'send', template: 'thanks', marketing: true },
    ], { trigger: { kind: 'event', event: 'signup' } }));
    const c = await contact();
    await dispatcher().dispatch(ev(c, 'signup'));
    const h = handleOf('trig-listener', c);
    await eventually(async () => (await h.query(statusQuery)).waitingFor === 'event:email.clicked');
    const r = await dispatcher().dispatch(ev(c, 'email.clicked'));
    expect(r.signalled).toEqual([journeyWorkflowId('trig-listener', c)]);
    const result: JourneyResult = await h.result();
    expect(result.sends.map((s) => s.templateId)).toEqual(['thanks']);
  });

  it('tells a waiting run about an event only when it can change what exit_when reads', async () => {
    await deploy(plan('trig-exit', [
      { id: 'hello', kind: 'send', template: 'welcome', marketing: true },
      { id: 'wait', kind: 'wait', mode: 'duration', ms: 5 * DAY },
      { id: 'tips', kind: 'send', template: 'tips', marketing: true },
    ], { trigger: { kind: 'event', event: 'signup' }, exitWhen: { source: 'contact.consent.email == "unsubscribed"' } }));
    const [c, other] = [await contact(), await contact()];
    for (const x of [c, other]) await dispatcher().dispatch(ev(x, 'signup'));
    const h = handleOf('trig-exit', c);
    for (const x of [c, other]) await eventually(async () => (await handleOf('trig-exit', x).query(statusQuery)).waitingFor === 'timer');
    // A login changes the last activity and the classification, never consent: the run is not told.
    expect((await dispatcher().dispatch(ev(c, 'contact.login'))).signalled).toEqual([]);
    // An event whose effects are not known (a custom one) still goes to the run, as every event did before
    // (another contact's run, so its wake-up cannot race the unsubscribe below).
    expect((await dispatcher().dispatch(ev(other, 'cart.viewed'))).signalled).toEqual([journeyWorkflowId('trig-exit', other)]);
    // An unsubscribe changes consent: the run is told and exits at once.
    await changeContact(c, { 'consent.email.status': 'unsubscribed' });
    expect((await dispatcher().dispatch(ev(c, 'email.unsubscribed'))).signalled).toEqual([journeyWorkflowId('trig-exit', c)]);
    const r: JourneyResult = await h.result();
    expect(r).toMatchObject({ outcome: 'exited', reason: 'exit_when' });
    expect(r.sends.map((s) => s.templateId)).toEqual(['welcome']);
  });

  it('refuses new entries to a paused journey', async () => {
    await deploy(plan('trig-paused', [{ id: 'hello', kind: 'send', template: 'welcome', marketing: true }], { trigger: { kind: 'event', event: 'ping' } }));
    await setJourneyPaused('trig-paused', true);
    const c = await contact();
    expect((await dispatcher().dispatch(ev(c, 'ping'))).started).toEqual([{ journeyId: 'trig-paused', outcome: 'paused' }]);
  });

  it('rejects a second start of a once journey at the server, not by reading first', async () => {
    const p = await deploy(plan('trig-policy', [{ id: 'hello', kind: 'send', template: 'welcome', marketing: true }]));
    const c = await contact();
    const opts = { taskQueue: engine.taskQueue, workflowId: journeyWorkflowId(p.journeyId, c), workflowIdReusePolicy: 'REJECT_DUPLICATE' as const, args: [{ journeyId: p.journeyId, version: p.version, contactId: c }] };
    await (await engine.env.client.workflow.start('journey', opts)).result();
    await expect(engine.env.client.workflow.start('journey', opts)).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
  });
});
