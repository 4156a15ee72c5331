import { DAY, contact, deploy, plan, sendsOf, useEngine } from '../helpers';
import type { JourneyResult } from '../../../workflows/definitions';

describe('the send step', () => {
  const engine = useEngine();

  it('sends each email once through the ledger, keyed by workflow, step and iteration', async () => {
    const p = await deploy(plan('send-basic', [
      { id: 'hello', kind: 'send', template: 'welcome', marketing: true },
      { id: 'pause', kind: 'wait', mode: 'duration', ms: 2 * DAY },
      { id: 'tips', kind: 'send', template: 'welcome_tips', marketing: true },
    ]));
    const c = await contact();
    const handle = await engine.start(p, c);
    const result: JourneyResult = await handle.result();
    expect(result.outcome).toBe('completed');
    const sends = await sendsOf(c);
    expect(sends.map((s) => s.templateId)).toEqual(['welcome', 'welcome_tips']);
    expect(sends[0].key).toBe(`${handle.workflowId}:hello:0`);
  });

  it('skips a marketing email for a contact without consent and records why', async () => {
    const p = await deploy(plan('send-consent', [{ id: 'promo', kind: 'send', template: 'promo', marketing: true }]));
    const c = await contact({ consent: 'unsubscribed' });
    const result: JourneyResult = await (await engine.start(p, c)).result();
    expect(result.sends).toEqual([expect.objectContaining({ stepId: 'promo', outcome: 'skip', reason: 'no_consent' })]);
    expect(await sendsOf(c)).toHaveLength(0);
  });

  it('sends a transactional email without marketing consent but never to a hard-bounced address', async () => {
    const p = await deploy(plan('send-transactional', [{ id: 'receipt', kind: 'send', template: 'receipt', marketing: false }]));
    const unsubscribed = await contact({ consent: 'unsubscribed' });
    const bounced = await contact({ emailStatus: 'bounced' });
    await (await engine.start(p, unsubscribed)).result();
    const r: JourneyResult = await (await engine.start(p, bounced)).result();
    expect(await sendsOf(unsubscribed)).toHaveLength(1);
    expect(r.sends[0]).toMatchObject({ outcome: 'skip', reason: 'email_bounced' });
  });
});
