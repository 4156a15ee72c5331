import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { freePort, startTemporalDev, type RunningServer } from '../../scripts/servers';
import { SEARCH_ATTRIBUTES } from '../../engine/search-attributes';
import { temporalCliBin } from '../helpers/temporal';
import { sleepyWorkflow } from '../fixtures/workflows/sleepy';

describe('the Temporal dev server', () => {
  let server: RunningServer & { address: string; uiUrl: string | null };
  beforeAll(async () => {
    const [port, uiPort] = [await freePort(), await freePort()];
    server = await startTemporalDev({
      bin: temporalCliBin(),
      port,
      uiPort,
      searchAttributes: [...SEARCH_ATTRIBUTES],
      logFile: path.join(os.tmpdir(), `sojourn-e2e-temporal-${port}.log`),
    });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('runs a workflow through a real worker and serves the Web UI over HTTP', async () => {
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    const connection = await Connection.connect({ address: server.address });
    try {
      const worker = await Worker.create({
        connection: nativeConnection,
        taskQueue: 'harness-e2e',
        workflowsPath: require.resolve('../fixtures/workflows/sleepy'),
      });
      const client = new Client({ connection });
      const elapsed = await worker.runUntil(
        client.workflow.execute(sleepyWorkflow, { args: [0.00001], workflowId: `harness-e2e-${Date.now()}`, taskQueue: 'harness-e2e' }),
      );
      expect(elapsed).toBeGreaterThanOrEqual(0.00001 * 86_400_000); // the workflow really slept (0.86 s)

      const res = await fetch(`${server.uiUrl}/namespaces/default/workflows`);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/<html/i);
    } finally {
      await connection.close();
      await nativeConnection.close();
    }
  }, 120_000);
});
