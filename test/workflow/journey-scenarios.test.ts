/**
 * Runs every shipped scenario file (journeys/*.scenarios.yaml) as jest tests: one test per scenario,
 * named by the scenario's sentence, with every expectation's outcome in the failure message.
 */
import fs from 'node:fs';
import path from 'node:path';
import { collectScenarioFiles } from '../../cli/commands/test';
import { parseScenarioFile } from '../../testing/scenarios';
import { formatOutcome, ScenarioHarness } from '../../testing/scenario-runner';
import { uniqueDatabaseUri } from '../helpers/db';
import { provision } from '../../scripts/provision';

const root = path.join(__dirname, '..', '..');
const files = collectScenarioFiles([path.join(root, 'journeys')]).map((f) => parseScenarioFile(fs.readFileSync(f, 'utf8'), path.relative(root, f)));

describe('the shipped journey scenarios', () => {
  let harness: ScenarioHarness;
  beforeAll(async () => {
    harness = await ScenarioHarness.open({
      paths: [path.join(root, 'journeys')],
      templatesDir: path.join(root, 'templates'),
      mongodbUri: uniqueDatabaseUri('scenarios'),
      testServerBin: process.env.SOJOURN_TEST_SERVER_BIN ?? provision().testServer,
      workflowBundlePath: process.env.SOJOURN_WORKFLOW_BUNDLE,
    });
  }, 180_000);
  afterAll(async () => {
    await harness?.close();
    const mongoose = (await import('mongoose')).default;
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await mongoose.disconnect();
  });

  it('exist: every shipped journey has at least four scenarios', () => {
    for (const j of ['welcome', 'birthday', 'reengagement', 'verification', 'post_purchase', 'renewal_reminder', 'service_due', 'holiday_greeting', 'newsletter', 'order_survey', 'survey_followup']) {
      const n = files.filter((f) => f.journey === j).reduce((sum, f) => sum + f.scenarios.length, 0);
      expect({ journey: j, scenarios: n >= 4 }).toEqual({ journey: j, scenarios: true });
    }
  });

  for (const f of files) {
    describe(f.file, () => {
      for (const s of f.scenarios) {
        it(s.name, async () => {
          const outcome = await harness.run(f, s);
          if (!outcome.ok) throw new Error(formatOutcome(outcome));
        }, 120_000);
      }
    });
  }
});
