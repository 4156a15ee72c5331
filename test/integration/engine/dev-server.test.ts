/**
 * On the real dev server (`temporal server start-dev` with the Sojourn search attributes, as `npm start`
 * runs it): runs are found through the visibility API by journey and step, the way ops filter them in
 * the Temporal UI (`SojournJourney = "..." AND SojournStep = "..."`).
 */
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { freePort, startTemporalDev, type RunningServer } from '../../../scripts/servers';
import { SEARCH_ATTRIBUTES } from '../../../worker/search-attributes';
import { buildWorker } from '../../../worker/build-worker';
import { SOJOURN_STEP } from '../../../workflows/search-attributes';
import { journeyWorkflowId, statusQuery } from '../../../workflows/definitions';
import { contact, deploy, eventually, plan, DAY } from '../../workflow/helpers';
import { useTestDatabase } from '../../helpers/db';
import { workflowBundle } from '../../workflow/bundle';

jest.setTimeout(180_000);

describe('finding journey runs on the dev server', () => {
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
    client = new Client({ connection });
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
});
