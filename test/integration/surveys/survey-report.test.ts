/**
 * CSAT and NPS in the journey report: survey answers are counted on the step whose email carried the
 * rating links, once per email (the first answer; a changed answer or a re-posted one does not count
 * again), and the report computes the share of 4-5 stars (CSAT) and promoters minus detractors (NPS).
 */
import { useTestDatabase } from '../../helpers/db';
import { recordEventFacts } from '../../../data/journey-stat-facts';
import { insertLedgerRow } from '../../../data/send-ledger';
import { saveJourneyVersion } from '../../../data/journey-versions';
import { journeyReport } from '../../../engine/journey-report';
import { formatReportTable } from '../../../engine/report-format';
import { PLAN_FORMAT, type JourneyPlan } from '../../../rules/plan';

jest.setTimeout(60_000);

function surveyPlan(): JourneyPlan {
  const steps = {
    send_csat: { id: 'send_csat', kind: 'send', template: 'order_csat', marketing: true, next: 'send_nps' },
    send_nps: { id: 'send_nps', kind: 'send', template: 'nps', marketing: true, next: null },
  } as JourneyPlan['steps'];
  return {
    planFormat: PLAN_FORMAT, journeyId: 'surveys', name: 'Surveys', hash: 's1', trigger: { kind: 'event', event: 'order.completed' },
    entry: { kind: 'once' }, settings: { defaultTimezone: 'UTC' }, start: 'send_csat', steps,
    templates: { order_csat: { id: 'order_csat', marketing: true }, nps: { id: 'nps', marketing: true } }, segments: {}, ruleSets: {},
  };
}

describe('survey scores in the journey report', () => {
  useTestDatabase('survey_report');
  const now = new Date('2026-04-02T12:00:00Z');

  async function sent(key: string, stepId: string, templateId: string): Promise<void> {
    await insertLedgerRow({
      key, workflowId: key.split(':')[0], contactId: key, journeyId: 'surveys', stepId, templateId, templateVersion: null, marketing: true,
      status: 'sent', messageId: `<${key}@test>`, createdAt: now, sentAt: now, attempt: 1, smtpStartedAt: null, smtpCode: 250, error: null, note: null, version: 1, variant: null,
    } as never);
  }
  const answered = (sendKey: string, surveyId: string, scale: string, score: number) =>
    recordEventFacts({ name: 'survey.answered', at: now, data: { sendKey, surveyId, scale, score, commented: false }, machine: false } as never);

  it('counts the first answer of each email and reports CSAT and NPS per survey', async () => {
    const p = surveyPlan();
    await saveJourneyVersion(p, JSON.stringify(p));
    const stars = [2, 4, 5, 5];
    for (const [i, s] of stars.entries()) {
      await sent(`journey/surveys/c${i}:send_csat:0`, 'send_csat', 'order_csat');
      await answered(`journey/surveys/c${i}:send_csat:0`, 'order_csat', 'csat', s);
    }
    // c0 changes their mind to 5 and posts again: the report keeps the first answer.
    await answered('journey/surveys/c0:send_csat:0', 'order_csat', 'csat', 5);
    const nps = [10, 9, 8, 6, 0];
    for (const [i, s] of nps.entries()) {
      await sent(`journey/surveys/n${i}:send_nps:0`, 'send_nps', 'nps');
      await answered(`journey/surveys/n${i}:send_nps:0`, 'nps_2026', 'nps', s);
    }
    // An answer without a send it came from (no ledger row) counts nowhere; an off-scale score neither.
    await answered('journey/surveys/ghost:send_csat:0', 'order_csat', 'csat', 1);
    await sent('journey/surveys/bad:send_csat:0', 'send_csat', 'order_csat');
    await answered('journey/surveys/bad:send_csat:0', 'order_csat', 'csat', 99);

    const r = await journeyReport('surveys', { now, sinceDays: 7 });
    if (!r.found) throw new Error('no report');
    const bySurvey = Object.fromEntries(r.report.surveys.map((s) => [s.surveyId, s]));
    expect(bySurvey.order_csat).toEqual({ surveyId: 'order_csat', scale: 'csat', stepIds: ['send_csat'], answers: 4, scores: { 2: 1, 4: 1, 5: 2 }, average: 4, csat: 0.75, nps: null });
    // Promoters 2 of 5, detractors 2 of 5: NPS 0; the average of 10, 9, 8, 6, 0 is 6.6.
    expect(bySurvey.nps_2026).toMatchObject({ scale: 'nps', stepIds: ['send_nps'], answers: 5, nps: 0, csat: null });
    expect(bySurvey.nps_2026.average).toBeCloseTo(6.6, 5);
    const table = formatReportTable(r.report);
    expect(table).toContain('survey order_csat (csat, steps send_csat): 4 answers, CSAT 75.0%, average 4.00');
    expect(table).toContain('survey nps_2026 (nps, steps send_nps): 5 answers, NPS 0');
  });
});
