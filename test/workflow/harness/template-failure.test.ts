/**
 * `sojourn test` shows a send-time template failure on the scenario's expectation line, with the
 * template file and line, instead of only "no new email" (the error used to be in the log only).
 * A partial's own variables are not checked by validate (they depend on the caller), so a partial
 * that needs a value its caller does not pass fails at send time: that is the case played here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatOutcome, ScenarioHarness } from '../../../testing/scenario-runner';
import { parseScenarioFile } from '../../../testing/scenarios';
import { uniqueDatabaseUri } from '../../helpers/db';
import { provision } from '../../../scripts/provision';

describe('a template that fails at send time', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-tplfail-'));
  let harness: ScenarioHarness;
  beforeAll(async () => {
    fs.mkdirSync(path.join(dir, 'journeys'));
    fs.mkdirSync(path.join(dir, 'templates', 'partials'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'journeys', 'card_note.yaml'), 'journey: card_note\ntrigger: { event: contact.created }\nsteps:\n  - id: send_note\n    send: card_note\n');
    fs.writeFileSync(path.join(dir, 'templates', 'card_note.hbs'), '---\nsubject: "A note for you"\nkind: transactional\n---\n<p>Hello, here is a card for you.</p>\n{{> card}}\n');
    fs.writeFileSync(path.join(dir, 'templates', 'partials', 'card.hbs'), '<div class="card">\n  <h2>{{title}}</h2>\n</div>\n');
    harness = await ScenarioHarness.open({
      paths: [path.join(dir, 'journeys')],
      templatesDir: path.join(dir, 'templates'),
      mongodbUri: uniqueDatabaseUri('tplfail'),
      testServerBin: process.env.SOJOURN_TEST_SERVER_BIN ?? provision().testServer,
      workflowBundlePath: process.env.SOJOURN_WORKFLOW_BUNDLE,
    });
  }, 180_000);
  afterAll(async () => {
    await harness?.close();
    const mongoose = (await import('mongoose')).default;
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await mongoose.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fails the expect_email line with the template file, line and the missing variable', async () => {
    const file = parseScenarioFile([
      'journey: card_note',
      'scenarios:',
      '  - name: a new contact gets the card note',
      '    contact: { email: ida@example.com, consent: { email: subscribed } }',
      '    do:',
      '      - event: contact.created',
      '      - expect_email: { template: card_note }',
    ].join('\n'), 'card_note.scenarios.yaml');
    const outcome = await harness.run(file, file.scenarios[0]);
    expect(outcome.ok).toBe(false);
    expect(outcome.checks).toHaveLength(1);
    expect(outcome.checks[0]).toMatchObject({ line: 7, ok: false });
    expect(outcome.checks[0].detail).toMatch(/^no new email; the send failed: .*partials\/card\.hbs:2:\d+: missing variable "title"/);
    expect(formatOutcome(outcome)).toMatch(/✗ receives the "card_note" email — no new email; the send failed: .*card\.hbs:2:\d+: missing variable "title".*\(line 7\)/);
  }, 120_000);
});
