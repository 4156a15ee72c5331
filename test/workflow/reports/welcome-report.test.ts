/**
 * The report through the real doors: ten people sign up for the welcome journey (POST /v1/events
 * contact.created), three click the link of the welcome email they received, a link scanner follows
 * another's, one orders on day 3 and one on day 20 (after the journey's last step, inside its 30-day
 * goal window), one orders on day 32 (too late), one unsubscribes with the List-Unsubscribe one-click
 * POST. Then GET /v1/reports/journeys/welcome shows exactly those numbers.
 */
import path from 'node:path';
import { parseScenarioFile } from '../../../testing/scenarios';
import { formatOutcome, ScenarioHarness } from '../../../testing/scenario-runner';
import { uniqueDatabaseUri } from '../../helpers/db';
import { provision } from '../../../scripts/provision';
import type { JourneyReport } from '../../../engine/journey-report';

const root = path.join(__dirname, '..', '..', '..');
const DAY = 86_400_000;

const person = (name: string, steps: string) => `
  - name: ${name}
    contact: { email: ${name.split(' ')[0].toLowerCase()}@example.com, timezone: Asia/Shanghai, consent: { email: subscribed } }
    do:
      - event: contact.created
      - expect_email: { template: welcome }
${steps}`;

const FILE = parseScenarioFile(`journey: welcome
scenarios:
${person('Ana clicks and orders on day 3', `      - click: welcome
      - advance: 3d
      - event: { name: order.completed, data: { amount: 30 } }
      - expect_run: { ended: converted }`)}
${person('Bo clicks', '      - click: welcome')}
${person('Cai clicks', '      - click: welcome')}
${person('Dan orders on day 20, after the last step', `      - advance: 10d
      - expect_run: { waiting_for: goal }
      - advance: 10d
      - event: { name: order.completed, data: { amount: 12 } }
      - expect_run: { ended: converted }`)}
${person('Eva unsubscribes', `      - unsubscribe: welcome
      - expect_run: { ended: exited, reason: exit_when }`)}
${person('Fu has a link scanner', '      - click: { template: welcome, by: scanner }')}
${person('Gil does nothing', '      - expect_no_email: {}')}
${person('Hu does nothing', '      - expect_no_email: {}')}
${person('Ivy does nothing', '      - expect_no_email: {}')}
${person('Jo orders on day 32, after the goal window', `      - advance: 32d
      - event: { name: order.completed, data: { amount: 5 } }
      - expect_run: { ended: completed }`)}
`, 'welcome-report.scenarios.yaml');

describe('the welcome report', () => {
  let harness: ScenarioHarness;
  beforeAll(async () => {
    harness = await ScenarioHarness.open({
      paths: [path.join(root, 'journeys')], templatesDir: path.join(root, 'templates'), mongodbUri: uniqueDatabaseUri('report'),
      testServerBin: process.env.SOJOURN_TEST_SERVER_BIN ?? provision().testServer, workflowBundlePath: process.env.SOJOURN_WORKFLOW_BUNDLE,
    });
  }, 180_000);
  afterAll(async () => {
    await harness?.close();
    const mongoose = (await import('mongoose')).default;
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await mongoose.disconnect();
  });

  it('shows 10 entered, 10 welcome emails sent, 3 clicks by people and 1 by a machine, 2 conversions within the window, 1 unsubscribe', async () => {
    for (const s of FILE.scenarios) {
      const outcome = await harness.run(FILE, s);
      if (!outcome.ok) throw new Error(formatOutcome(outcome));
    }
    // Every run's goal window closes; then every run has ended. (Simulated time has moved about 100 days.)
    await harness.advance(31 * DAY);
    let report: JourneyReport | undefined;
    for (let i = 0; i < 60; i++) {
      const r = await harness.apiGet('/v1/reports/journeys/welcome?since=400d');
      expect(r.status).toBe(200);
      report = r.body as JourneyReport;
      const e = report.totals.ended;
      if (e.completed + e.exited + e.converted + e.holdout === 10) break;
      await new Promise((done) => setTimeout(done, 500));
    }
    const t = report!.totals;
    expect({ entered: t.entered, converted: t.converted, conversionRate: t.conversionRate, clicked: t.clicked, unsubscribed: t.unsubscribed })
      .toEqual({ entered: 10, converted: 2, conversionRate: 0.2, clicked: 3, unsubscribed: 1 });
    expect(t.ended).toEqual({ completed: 7, exited: 1, converted: 2, holdout: 0 });
    expect(t.exited).toEqual({ exit_when: 1 });
    const v = report!.versions.find((x) => x.live)!;
    const welcome = v.steps.find((s) => s.stepId === 'send_welcome')!;
    expect(welcome.counts).toMatchObject({ sent: 10, delivered: 10, bounced: 0, clicked: 3, machineClicked: 1, unsubscribed: 1, skipped: {} });
    // Eva's run exited at the step it was at when her unsubscribe arrived (mark_new or wait_for_click, by timing).
    expect(v.steps.flatMap((s) => Object.entries(s.counts.exited).map(([reason, n]) => [s.stepId, reason, n]))).toEqual([[expect.stringMatching(/^(send_welcome|mark_new|wait_for_click)$/), 'exit_when', 1]]);
    // Six did not click and were still in: the tips email two days later (Eva had left by then).
    expect(v.steps.find((s) => s.stepId === 'send_tips')!.counts.sent).toBe(6);
    expect(report!.daily.reduce((n, d) => n + d.entered, 0)).toBe(10);
    expect(report!.daily.reduce((n, d) => n + d.converted, 0)).toBe(2);
    expect(report!.experiments).toEqual([]);
  }, 600_000);
});
