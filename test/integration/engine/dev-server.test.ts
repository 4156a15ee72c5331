/**
 * On the real dev server (`temporal server start-dev` with the Sojourn search attributes, as `npm start`
 * runs it): runs are found through the visibility API by journey and step, the way ops filter them in
 * the Temporal UI (`SojournJourney = "..." AND SojournStep = "..."`); deploy registers schedules
 * idempotently and pausing a journey pauses its schedule.
 */
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { freePort, startTemporalDev, type RunningServer } from '../../../scripts/servers';
import { SEARCH_ATTRIBUTES } from '../../../engine/search-attributes';
import { buildWorker } from '../../../worker/build-worker';
import { SOJOURN_STEP } from '../../../workflows/search-attributes';
import { journeyWorkflowId, statusQuery } from '../../../workflows/definitions';
import { contact, deploy, eventually, plan, DAY } from '../../workflow/helpers';
import { useTestDatabase } from '../../helpers/db';
import { testDataConverter } from '../../helpers/temporal';
import { workflowBundle } from '../../workflow/bundle';
import { deployJourneys } from '../../../engine/deploy';
import { setScheduleState } from '../../../engine/schedules';
import { getJourney, getJourneyPlan, listJourneys, setJourneyPaused } from '../../../data/journey-versions';
import { ContactModel } from '../../../data/contact-model';

jest.setTimeout(180_000);

describe('the engine on the dev server', () => {
  useTestDatabase('engine_vis');
  let server: (RunningServer & { address: string }) | undefined;
  let client: Client;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = 'engine-visibility';

  beforeAll(async () => {
    const port = await freePort();
    server = await startTemporalDev({
      bin: process.env.TEMPORAL_CLI_BIN ?? '/tmp/prov/tb/bin/temporal', port, searchAttributes: [...SEARCH_ATTRIBUTES],
      logFile: path.join(os.tmpdir(), `sojourn-engine-visibility-${port}.log`),
    });
    connection = await Connection.connect({ address: server.address });
    nativeConnection = await NativeConnection.connect({ address: server.address });
    client = new Client({ connection, dataConverter: testDataConverter() });
    worker = await buildWorker({ connection: nativeConnection, client, taskQueue, workflowBundle: await workflowBundle() });
    running = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running?.catch(() => undefined);
    await connection?.close();
    await nativeConnection?.close();
    await server?.stop();
  });

  it('lists the runs of a journey waiting at a given step by the Sojourn search attributes', async () => {
    const p = await deploy(plan('vis-birthday', [
      { id: 'send_wish', kind: 'send', template: 'birthday', marketing: false },
      { id: 'wait_for_click', kind: 'wait_for', event: 'email.clicked', timeoutMs: 30 * DAY, onTimeout: null },
    ]));
    const other = await deploy(plan('vis-other', [{ id: 'wait_for_click', kind: 'wait_for', event: 'email.clicked', timeoutMs: 30 * DAY, onTimeout: null }]));
    const ids: string[] = [];
    for (const c of [await contact(), await contact()]) {
      const h = await client.workflow.start('journey', { taskQueue, workflowId: journeyWorkflowId('vis-birthday', c), args: [{ journeyId: 'vis-birthday', version: p.version, contactId: c }] });
      ids.push(h.workflowId);
    }
    const o = await contact();
    await client.workflow.start('journey', { taskQueue, workflowId: journeyWorkflowId('vis-other', o), args: [{ journeyId: 'vis-other', version: other.version, contactId: o }] });
    for (const id of ids) await eventually(async () => (await client.workflow.getHandle(id).query(statusQuery)).step === 'wait_for_click', 30_000);

    const query = 'SojournJourney = "vis-birthday" AND SojournStep = "wait_for_click" AND SojournStatus = "running"';
    const found = await eventually(async () => {
      const rows: { id: string; step: unknown; version: unknown }[] = [];
      for await (const w of client.workflow.list({ query })) rows.push({ id: w.workflowId, step: w.typedSearchAttributes.get(SOJOURN_STEP), version: w.searchAttributes.SojournVersion });
      return rows.length === 2 ? rows : null;
    }, 30_000);
    expect(found.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(found.every((r) => r.step === 'wait_for_click')).toBe(true);
    expect(await client.workflow.count(`SojournContact = "${o}"`)).toMatchObject({ count: 1 });
    for (const id of [...ids, journeyWorkflowId('vis-other', o)]) await client.workflow.getHandle(id).terminate('test done');
  });

  it('deploys the shipped journeys once, registers their schedules, and treats an unchanged deploy as a no-op', async () => {
    const first = await deployJourneys(['journeys'], { client, taskQueue });
    expect(first.ok).toBe(true);
    // service_due's date trigger scans by ranges of its field: deploy indexes it.
    const mongoose = (await import('mongoose')).default;
    expect((await mongoose.connection.collection('contacts').indexes()).map((i) => i.name)).toContain('date_attributes.serviceDueDate');
    expect(first.journeys.map((j) => [j.journeyId, j.status, j.version, j.schedule])).toEqual([
      ['birthday', 'created', 1, 'created'],
      ['holiday_greeting', 'created', 1, 'created'],
      ['newsletter', 'created', 1, 'none'],
      ['order_survey', 'created', 1, 'none'],
      ['post_purchase', 'created', 1, 'none'],
      ['reengagement', 'created', 1, 'created'],
      ['renewal_reminder', 'created', 1, 'none'],
      ['service_due', 'created', 1, 'created'],
      ['survey_followup', 'created', 1, 'none'],
      ['verification', 'created', 1, 'created'],
      ['welcome', 'created', 1, 'none'],
    ]);
    const again = await deployJourneys(['journeys'], { client, taskQueue });
    expect(again.journeys.map((j) => [j.journeyId, j.status, j.version])).toEqual([
      ['birthday', 'unchanged', 1], ['holiday_greeting', 'unchanged', 1], ['newsletter', 'unchanged', 1], ['order_survey', 'unchanged', 1], ['post_purchase', 'unchanged', 1], ['reengagement', 'unchanged', 1], ['renewal_reminder', 'unchanged', 1], ['service_due', 'unchanged', 1], ['survey_followup', 'unchanged', 1], ['verification', 'unchanged', 1], ['welcome', 'unchanged', 1],
    ]);
    expect((await listJourneys()).find((j) => j._id === 'birthday')?.versions).toHaveLength(1);
    const schedule = await client.schedule.getHandle('sojourn/reengagement/audience').describe();
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'audienceScan', taskQueue });
    expect(schedule.spec.timezone).toBe('UTC');
  });

  it('pauses the schedule of a paused journey and resumes it', async () => {
    await setJourneyPaused('reengagement', true);
    const j = await getJourney('reengagement');
    const plan = (await getJourneyPlan('reengagement', j!.liveVersion))!;
    await setScheduleState(client, plan, true);
    expect((await client.schedule.getHandle('sojourn/reengagement/audience').describe()).state.paused).toBe(true);
    await setJourneyPaused('reengagement', false);
    await setScheduleState(client, plan, false);
    expect((await client.schedule.getHandle('sojourn/reengagement/audience').describe()).state.paused).toBe(false);
  });

  it('runs the audience scan when the journey schedule fires', async () => {
    const schedule = client.schedule.getHandle('sojourn/reengagement/audience');
    await schedule.trigger();
    // The schedule appends the fire time to the action's workflow id (scan/reengagement-<time>).
    const action = await eventually(async () => (await schedule.describe()).info.recentActions[0]?.action, 30_000);
    expect(action.workflow.workflowId).toMatch(/^scan\/reengagement/);
    const totals = await client.workflow.getHandle(action.workflow.workflowId).result();
    // Every stored contact is read once (the segment is decided on the page read, decision 40); none of
    // this file's contacts is in re-engagement's audience, so no run starts.
    expect(totals).toMatchObject({ scanned: await ContactModel.countDocuments({ erasedAt: null }), started: 0 });
  });
});
