import { contact, deploy, historyLengthsOfChain, plan, sendsOf, useEngine } from '../helpers';
import { journeyWorkflowId } from '../../../workflows/definitions';
import type { SegmentPlan } from '../../../rules/plan';

const vips = (filter: SegmentPlan['filter']): SegmentPlan => ({ name: 'vips', expr: { source: '"vip" in contact.tags' }, filter });

describe('audience scans', () => {
  const engine = useEngine();

  it('pages through the segment by id, starts one run per matching contact, and continues-as-new between pages', async () => {
    await deploy(plan('scan-pushdown', [{ id: 'offer', kind: 'send', template: 'offer', marketing: true }], {
      trigger: { kind: 'schedule', cron: '0 9 * * 1', timezone: 'UTC', audience: vips({ tags: 'vip' }) },
    }));
    const members = [await contact({ tags: ['vip'] }), await contact({ tags: ['vip'] }), await contact({ tags: ['vip', 'x'] })];
    await contact({ tags: ['regular'] });
    const handle = await engine.env.client.workflow.start('audienceScan', {
      taskQueue: engine.taskQueue, workflowId: 'scan-pushdown-test', args: [{ journeyId: 'scan-pushdown', pageSize: 2, pagesPerRun: 1 }],
    });
    expect(await handle.result()).toEqual({ scanned: 3, matched: 3, started: 3, alreadyEntered: 0 });
    for (const c of members) await engine.env.client.workflow.getHandle(journeyWorkflowId('scan-pushdown', c)).result();
    for (const c of members) expect((await sendsOf(c)).map((s) => s.templateId)).toEqual(['offer']);
    // Follow the chain of runs from the first: pageSize 2 and one page per run over 4 contacts (3 matching)
    // must continue-as-new, and every run's history stays small.
    const runs = await historyLengthsOfChain(engine.env.client, handle.workflowId, handle.firstExecutionRunId);
    expect(runs.length).toBeGreaterThan(1);
    for (const n of runs) expect(n).toBeLessThan(40);
  });

  it('evaluates the segment contact by contact when it has no pushed-down filter, and never enters a contact twice', async () => {
    await deploy(plan('scan-fallback', [{ id: 'offer', kind: 'send', template: 'offer', marketing: true }], {
      trigger: { kind: 'segment', cron: '0 * * * *', timezone: 'UTC', segment: vips(null) },
    }));
    const scan = (id: string) => engine.env.client.workflow.execute('audienceScan', {
      taskQueue: engine.taskQueue, workflowId: id, args: [{ journeyId: 'scan-fallback', pageSize: 50 }],
    });
    const first = await scan('scan-fallback-1');
    expect(first).toMatchObject({ matched: 3, started: 3 });
    const second = await scan('scan-fallback-2');
    expect(second).toMatchObject({ matched: 3, started: 0, alreadyEntered: 3 });
  });
});
