import { contact, deploy, historyLengthsOfChain, plan, sendsOf, useEngine } from '../helpers';
import { journeyWorkflowId } from '../../../workflows/definitions';
import type { SegmentPlan } from '../../../rules/plan';
import { eraseContact } from '../../../data/contacts';
import { scanProgressQuery } from '../../../workflows/scan-progress';

const vips = (filter: SegmentPlan['filter']): SegmentPlan => ({ name: 'vips', expr: { source: '"vip" in contact.tags' }, filter });

describe('audience scans', () => {
  const engine = useEngine();

  it('pages through the contacts by id, starts one run per matching contact, and continues-as-new between pages', async () => {
    await deploy(plan('scan-pushdown', [{ id: 'offer', kind: 'send', template: 'offer', marketing: true }], {
      trigger: { kind: 'schedule', cron: '0 9 * * 1', timezone: 'UTC', audience: vips({ tags: 'vip' }) },
    }));
    const members = [await contact({ tags: ['vip'] }), await contact({ tags: ['vip'] }), await contact({ tags: ['vip', 'x'] })];
    await contact({ tags: ['regular'] });
    const handle = await engine.env.client.workflow.start('audienceScan', {
      taskQueue: engine.taskQueue, workflowId: 'scan-pushdown-test', args: [{ journeyId: 'scan-pushdown', pageSize: 2, pagesPerRun: 1 }],
    });
    // Every contact is read (the segment is evaluated on the page, not sent to the database), members start;
    // pages of 2 over 4 contacts: two full pages and an empty one that ends the scan.
    expect(await handle.result()).toEqual({ scanned: 4, matched: 3, started: 3, alreadyEntered: 0 });
    expect(await handle.query(scanProgressQuery)).toMatchObject({ journeyId: 'scan-pushdown', pages: 3, scanned: 4, matched: 3, started: 3, done: true });
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

  it('skips erased contacts even when the segment is true for their tombstone', async () => {
    // Not "regular": true for an erased contact too (its tags are emptied), so only the erasure check keeps it out.
    const notRegular: SegmentPlan = { name: 'not_regular', expr: { source: '!("regular" in contact.tags)' }, filter: { tags: { $ne: 'regular' } } };
    await deploy(plan('scan-erased', [{ id: 'offer', kind: 'send', template: 'offer', marketing: true }], {
      trigger: { kind: 'segment', cron: '0 * * * *', timezone: 'UTC', segment: notRegular },
    }));
    const kept = await contact({ tags: ['vip'] });
    const erased = await contact({ tags: ['vip'] });
    expect(await eraseContact(erased)).toMatchObject({ erased: true });
    const totals = await engine.env.client.workflow.execute('audienceScan', {
      taskQueue: engine.taskQueue, workflowId: 'scan-erased-1', args: [{ journeyId: 'scan-erased', pageSize: 3 }],
    });
    // The earlier tests' 4 contacts + 2: the 3 earlier members and `kept` match; the regular one and the erased one do not.
    expect(totals).toMatchObject({ scanned: 6, matched: 4, started: 4 });
    await engine.env.client.workflow.getHandle(journeyWorkflowId('scan-erased', kept)).result();
    await expect(engine.env.client.workflow.getHandle(journeyWorkflowId('scan-erased', erased)).describe()).rejects.toThrow(/not found/i);
  });
});
