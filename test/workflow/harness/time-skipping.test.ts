import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTimeSkippingEnv, testDataConverter } from '../../helpers/temporal';
import { sleepyWorkflow } from '../../fixtures/workflows/sleepy';

describe('the time-skipping test server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  }, 120_000);
  afterAll(async () => {
    await env?.teardown();
  });

  it('runs a workflow that sleeps 30 days in seconds of wall time', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'harness',
      dataConverter: testDataConverter(),
      workflowsPath: require.resolve('../../fixtures/workflows/sleepy'),
    });
    const wallStart = Date.now();
    const elapsed = await worker.runUntil(
      env.client.workflow.execute(sleepyWorkflow, { args: [30], workflowId: 'harness-sleepy', taskQueue: 'harness' }),
    );
    expect(elapsed).toBeGreaterThanOrEqual(30 * 24 * 3600 * 1000);
    expect(Date.now() - wallStart).toBeLessThan(60_000);
  }, 120_000);
});
