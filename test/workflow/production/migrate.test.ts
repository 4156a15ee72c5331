/**
 * Migrating running runs to a new journey version under simulated time: runs waiting at a step that the
 * new version keeps move and continue on the new version's path; a run at a step the new version
 * dropped stays on its version and finishes there. The plan (what `migrate --dry-run` prints) and the
 * execution use the product's functions; the runs are listed through their `status` query because
 * the time-skipping server has no visibility list (the CLI lists them through visibility).
 */
import { JourneyMigrationModel } from '../../../data/journey-versions';
import { executeMigration, formatMigrationPlan, planMigration, type RunRef } from '../../../engine/migrate';
import { migrateUpdate, statusQuery, type JourneyResult } from '../../../workflows/definitions';
import { DAY, HOUR, contact, contactDoc, deploy, eventually, plan, useEngine } from '../helpers';

describe('journey migration', () => {
  const engine = useEngine();

  it('moves runs waiting at a step the new version keeps, leaves the others, and records it', async () => {
    const v1 = await deploy(plan('mig', [
      { id: 'pause', kind: 'wait', mode: 'duration', ms: DAY },
      { id: 'await_click', kind: 'wait_for', event: 'email.clicked', timeoutMs: 10 * DAY, onTimeout: 'tag_v1' },
      { id: 'tag_v1', kind: 'update', addTags: ['v1_path'], next: null },
    ]));
    const v2 = await deploy(plan('mig', [
      { id: 'pause', kind: 'wait', mode: 'duration', ms: DAY },
      { id: 'tag_v2', kind: 'update', addTags: ['v2_path'], next: null },
    ]));
    expect([v1.version, v2.version]).toEqual([1, 2]);

    const early = await engine.start(v1, await contact());
    await eventually(async () => (await early.query(statusQuery)).step === 'pause');
    await engine.advanceTo(new Date((await engine.env.currentTimeMs()) + DAY + HOUR).toISOString());
    await eventually(async () => (await early.query(statusQuery)).step === 'await_click');
    const [c1, c2] = [await contact(), await contact()];
    const late = [await engine.start(v1, c1), await engine.start(v1, c2)];
    for (const h of late) await eventually(async () => (await h.query(statusQuery)).step === 'pause');

    const runs: RunRef[] = await Promise.all([early, ...late].map(async (h) => {
      const s = await h.query(statusQuery);
      return { workflowId: h.workflowId, version: s.version, step: s.step };
    }));
    const p = await planMigration('mig', 2, runs);
    expect(formatMigrationPlan(p).split('\n')).toEqual([
      'mig: 3 running run(s); 2 can move to version 2, 1 cannot',
      '  v1 at await_click [wait_for email.clicked]: 1 run(s): cannot move: step "await_click" does not exist in the target version',
      '  v1 at pause [wait]: 2 run(s): CAN move: step "pause" exists in version 2 as the same wait',
    ]);

    const out = await executeMigration(engine.client, p);
    expect(out.moved.map((m) => m.workflowId).sort()).toEqual(late.map((h) => h.workflowId).sort());
    expect(out.notMoved).toEqual([expect.objectContaining({ workflowId: early.workflowId, step: 'await_click' })]);
    const record = await JourneyMigrationModel.findById(out.migrationId).lean();
    expect(record?.moved).toHaveLength(2);
    expect(record?.notMoved).toHaveLength(1);
    expect((await late[0].query(statusQuery)).version).toBe(2);
    // The run itself refuses what it cannot do, whatever the caller believed.
    expect(await early.executeUpdate(migrateUpdate, { args: [{ toVersion: 2, migrationId: 'direct' }] })).toEqual({ moved: false, reason: 'step "await_click" does not exist in the target version' });

    // The moved runs finish their wait (the deadline they began with) and take version 2's path.
    await engine.advanceTo(new Date((await engine.env.currentTimeMs()) + DAY + HOUR).toISOString());
    for (const [h, c] of [[late[0], c1], [late[1], c2]] as const) {
      // A client that does not let the server skip time while it waits (the early run's timeout must not fire yet).
      const r: JourneyResult = await engine.client.workflow.getHandle(h.workflowId).result();
      expect(r.step).toBe('tag_v2');
      expect((await contactDoc(c)).tags).toEqual(['v2_path']);
    }
    expect((await early.query(statusQuery)).step).toBe('await_click');
    await engine.advanceTo(new Date((await engine.env.currentTimeMs()) + 10 * DAY).toISOString());
    expect(((await early.result()) as JourneyResult).step).toBe('tag_v1');
  });
});
