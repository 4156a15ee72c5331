/**
 * Temporal test environments on the real servers provisioned by `npm test`:
 * - the time-skipping test server (SOJOURN_TEST_SERVER_BIN), for workflow tests;
 * - the path of the Temporal CLI (TEMPORAL_CLI_BIN), for tests that need the dev server.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { provision } from '../../scripts/provision';
import { loadConfig } from '../../lib/config';
import { sojournDataConverter } from '../../lib/payload-codec';

/** The payload codec the product uses (development key), so every test exercises encryption. */
export function testDataConverter() {
  return sojournDataConverter(loadConfig().payloadKeys);
}

function provisioned(): { testServer: string; temporal: string } {
  if (process.env.SOJOURN_TEST_SERVER_BIN && process.env.TEMPORAL_CLI_BIN) {
    return { testServer: process.env.SOJOURN_TEST_SERVER_BIN, temporal: process.env.TEMPORAL_CLI_BIN };
  }
  return provision();
}

export function temporalCliBin(): string {
  return provisioned().temporal;
}

/** Starts the time-skipping test server from the provisioned binary (no download). */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: provisioned().testServer } },
    client: { dataConverter: testDataConverter() },
  });
}
