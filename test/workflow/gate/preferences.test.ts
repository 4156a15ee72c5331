/**
 * Preferences in a running journey: a contact who turned a topic off in the preference centre gets no
 * email of that topic, a paused contact gets nothing until the pause ends, and `sojourn status` says why.
 * Preferences change only through the real preference form.
 */
import { formatRunStatus } from '../../../cli/commands/status';
import { eventSignal, statusQuery, type JourneyResult } from '../../../workflows/definitions';
import { usePreferenceForm } from '../../helpers/preference-form';
import { DAY, contact, deploy, eventually, plan, sendsOf, useEngine } from '../helpers';

const templates = {
  welcome_offer: { id: 'welcome_offer', marketing: true, topic: 'offers' },
  welcome: { id: 'welcome', marketing: true, topic: 'news' },
};

describe('preferences from the preference centre', () => {
  const engine = useEngine();
  const form = usePreferenceForm();
  const now = async () => new Date(await engine.env.currentTimeMs());

  it('skips the email of a topic the contact turned off (topic_opt_out), sends the topic they kept, and status shows the reason', async () => {
    const p = await deploy(plan('prefs-topic', [
      { id: 'offer', kind: 'send', template: 'welcome_offer', marketing: true },
      { id: 'later', kind: 'wait', mode: 'duration', ms: DAY },
      { id: 'news', kind: 'send', template: 'welcome', marketing: true },
    ], { templates }));
    const c = await contact();
    expect(await form.submit(c, { keep: ['news'] }, await now())).toBe(200);
    const handle = await engine.start(p, c);
    const status = await eventually(async () => {
      const s = await handle.query(statusQuery);
      return s.step === 'later' && s.lastSend ? s : null;
    });
    expect(status.lastSend).toMatchObject({ stepId: 'offer', templateId: 'welcome_offer', outcome: 'skip', reason: 'topic_opt_out' });
    expect(formatRunStatus(handle.workflowId, status)).toMatch(/last send: welcome_offer at step offer: skipped \(topic_opt_out\)/);
    const result: JourneyResult = await handle.result();
    expect(result.sends.map((s) => [s.templateId, s.outcome, s.reason])).toEqual([['welcome_offer', 'skip', 'topic_opt_out'], ['welcome', 'sent', undefined]]);
    expect((await sendsOf(c)).map((s) => s.templateId)).toEqual(['welcome']);
  });

  it('holds every marketing email of a paused contact until the pause ends (paused), visible in status, then sends it once', async () => {
    const p = await deploy(plan('prefs-pause', [{ id: 'news', kind: 'send', template: 'welcome', marketing: true }], { templates }));
    const c = await contact();
    const pausedAt = await now();
    expect(await form.submit(c, { keep: ['news', 'offers'], pauseDays: 30 }, pausedAt)).toBe(200);
    const end = new Date(pausedAt.getTime() + 30 * DAY).toISOString();
    const handle = await engine.start(p, c);
    const status = await eventually(async () => {
      const s = await handle.query(statusQuery);
      return s.waitingFor === 'paused' ? s : null;
    });
    expect(status.until).toBe(end);
    expect(formatRunStatus(handle.workflowId, status)).toContain(`waiting for: paused until ${end}`);
    expect(await sendsOf(c)).toHaveLength(0);
    const result: JourneyResult = await handle.result();
    expect(result.sends).toEqual([expect.objectContaining({ templateId: 'welcome', outcome: 'sent', deferrals: 1 })]);
    expect(Date.parse(result.sends[0].at)).toBeGreaterThanOrEqual(Date.parse(end));
    expect(await sendsOf(c)).toHaveLength(1);
  });

  it('asks again as soon as the contact lifts the pause in the form', async () => {
    const p = await deploy(plan('prefs-unpause', [{ id: 'news', kind: 'send', template: 'welcome', marketing: true }], { templates }));
    const c = await contact();
    const pausedAt = await now();
    await form.submit(c, { keep: ['news', 'offers'], pauseDays: 90 }, pausedAt);
    const handle = await engine.start(p, c);
    await eventually(async () => (await handle.query(statusQuery)).waitingFor === 'paused');
    const liftedAt = await now();
    await form.submit(c, { keep: ['news', 'offers'] }, liftedAt);
    // What the dispatcher does with the event the form emits.
    await handle.signal(eventSignal, { name: 'email.preferences_updated', at: liftedAt.toISOString(), eventId: `prefs-${c}` });
    const result: JourneyResult = await handle.result();
    expect(result.sends).toEqual([expect.objectContaining({ outcome: 'sent', deferrals: 1 })]);
    expect(Date.parse(result.sends[0].at)).toBeLessThan(pausedAt.getTime() + 90 * DAY);
  });
});
