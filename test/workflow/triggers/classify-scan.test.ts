import { changeContact, contact, historyLengthsOfChain, useEngine } from '../helpers';
import { getContact } from '../../../data/contacts';
import { loadProject } from '../../../engine/project';
import { contactRuleSets } from '../../../data/classify';
import type { ClassifyScanTotals } from '../../../workflows/classify-scan';

describe('the daily classification pass', () => {
  const engine = useEngine();

  it('classifies every contact page by page with the shipped rule sets, continuing-as-new between pages, and a second pass writes nothing', async () => {
    const ruleSets = contactRuleSets(Object.values(loadProject(['journeys/crm.rules.yaml']).result.rules.ruleSets));
    const tagged = await contact({ tags: ['vip'] });
    const buyer = await contact();
    await changeContact(buyer, { 'engagement.orders': 3, 'engagement.revenue': 620, 'engagement.lastOrderAt': new Date(Date.now() - 100 * 86_400_000) });
    const others = [await contact(), await contact(), await contact()];
    const pass = (id: string) => engine.client.workflow.start('classifyScan', {
      taskQueue: engine.taskQueue, workflowId: id, args: [{ ruleSets, pageSize: 2, pagesPerRun: 1 }],
    });
    const first = await pass('classify-pass-1');
    const totals = (await first.result()) as ClassifyScanTotals;
    expect(totals).toMatchObject({ scanned: 5, changed: 5, pages: 3 });
    expect(totals.distribution.importance).toEqual({ vip: { 'importance#0': 1 }, potential: { 'importance#1': 1 }, normal: { 'importance#otherwise': 3 } });
    expect(totals.distribution.rfm).toEqual({ loyal: { 'rfm#1': 1 }, prospects: { 'rfm#otherwise': 4 } });
    expect((await getContact(tagged))!.classification.importance).toMatchObject({ value: 'vip', rule: 'importance#0' });
    expect((await getContact(buyer))!).toMatchObject({ rfmScore: { recency: 3, frequency: 3, monetary: 3 }, classification: { rfm: { value: 'loyal' }, businessType: { value: 'after_sales' } } });
    for (const c of others) expect((await getContact(c))!.classification.importance).toMatchObject({ value: 'normal', rule: 'importance#otherwise' });
    // Two contacts per page, one page per run: a chain of runs, each with a small history.
    const runs = await historyLengthsOfChain(engine.client, first.workflowId, first.firstExecutionRunId);
    expect(runs.length).toBe(3);
    for (const n of runs) expect(n).toBeLessThan(40);

    const second = (await (await pass('classify-pass-2')).result()) as ClassifyScanTotals;
    expect(second).toMatchObject({ scanned: 5, changed: 0 });
  });
});
