/**
 * The marks that make each report fact count once expire 30 days after their fold (the background pass of
 * engine/stat-mark-expiry.ts): facts folded longer ago lose their marks and nothing else (the counters
 * stay), younger ones keep theirs, a pass is bounded and the next one resumes; an email event of an email
 * sent longer ago than the retention is not counted, so a second click after its mark expired cannot
 * count twice.
 */
import { useTestDatabase } from '../../helpers/db';
import {
  expireStatMarks, foldFacts, JourneyStatModel, recordFact, STAT_MARK_RETENTION_MS,
  StatFactModel, StatMarkBatchModel, StatMarkDayModel, StatMarkModel, type StatFact,
} from '../../../data/journey-stats';
import { recordEventFacts } from '../../../data/journey-stat-facts';
import { insertLedgerRow } from '../../../data/send-ledger';
import { startStatMarkExpiry } from '../../../engine/stat-mark-expiry';

jest.setTimeout(120_000);

const DAY = 86_400_000;

describe('expiry of report fact marks', () => {
  useTestDatabase('markexp');
  const fact = (key: string, at: Date): StatFact => ({ key, journeyId: 'exp', version: 1, stepId: 'send_a', metric: 'sent', at });
  /** Records facts `${prefix}0..n-1`, ten at a time. */
  async function recordMany(prefix: string, n: number, at: Date): Promise<void> {
    for (let i = 0; i < n; i += 10) await Promise.all(Array.from({ length: Math.min(10, n - i) }, (_, k) => recordFact(fact(`${prefix}${i + k}`, at))));
  }

  it('removes the marks folded more than 30 days ago, by batch, keeps younger ones and the counters', async () => {
    const day0 = new Date('2026-03-01T10:00:00Z');
    const day20 = new Date(day0.getTime() + 20 * DAY);
    // 620 facts folded on day 0 (two fold pages: two batches), 30 on day 20.
    await recordMany('sent|old', 620, day0);
    expect((await foldFacts({ now: () => day0 })).folded).toBe(620);
    await recordMany('sent|new', 30, day20);
    expect((await foldFacts({ now: () => day20 })).folded).toBe(30);
    expect(await StatMarkModel.countDocuments()).toBe(650);
    expect((await StatMarkDayModel.find().lean()).map((d) => [d._id, d.batches]).sort()).toEqual([['2026-03-01', 2], ['2026-03-21', 1]]);
    const counters = await JourneyStatModel.find().sort({ _id: 1 }).lean();

    // Day 30: nothing is old enough yet (the retention counts whole days from the fold's day).
    expect(await expireStatMarks({ now: new Date(day0.getTime() + 30 * DAY) })).toEqual({ removed: 0, days: 0, more: false });
    // A re-recorded old fact still counts once.
    expect(await recordFact(fact('sent|old7', day0))).toBe(false);

    // Day 31, through the background pass (engine/stat-mark-expiry.ts): the day-0 marks go.
    const pass = startStatMarkExpiry({ intervalMs: 3_600_000, now: () => new Date(day0.getTime() + 31 * DAY) });
    try {
      expect(await pass.runOnce()).toEqual({ removed: 620, days: 1, more: false });
    } finally {
      await pass.stop();
    }
    expect(await StatMarkModel.countDocuments()).toBe(30);
    expect(await StatMarkModel.countDocuments({ _id: /^sent\|new/ })).toBe(30);
    expect(await StatMarkBatchModel.countDocuments()).toBe(1);
    expect((await StatMarkDayModel.find().lean()).map((d) => d._id)).toEqual(['2026-03-21']);
    // The counters are untouched; a day-20 fact still counts once, a day-0 fact (its mark gone) is recordable again.
    expect(await JourneyStatModel.find().sort({ _id: 1 }).lean()).toEqual(counters);
    expect(await recordFact(fact('sent|new3', day20))).toBe(false);
    expect(await recordFact(fact('sent|old7', day0))).toBe(true);
    await StatFactModel.deleteMany({});
  });

  it('works off a backlog in bounded slices and resumes an interrupted one', async () => {
    for (const m of [StatMarkModel.collection, StatMarkBatchModel.collection, StatMarkDayModel.collection]) await m.deleteMany({});
    const day0 = new Date('2026-04-01T10:00:00Z');
    await recordMany('sent|b', 1200, day0);
    await foldFacts({ now: () => day0 });
    const later = new Date(day0.getTime() + 40 * DAY);
    // Batches of 500, 500 and 200: a slice of at most 600 marks takes one batch, then the next slice the rest.
    expect(await expireStatMarks({ now: later, maxMarks: 600 })).toEqual({ removed: 500, days: 0, more: true });
    expect(await StatMarkModel.countDocuments({ _id: /^sent\|b/ })).toBe(700);
    expect(await expireStatMarks({ now: later, maxMarks: 600 })).toEqual({ removed: 500, days: 0, more: true });
    expect(await expireStatMarks({ now: later, maxMarks: 600 })).toEqual({ removed: 200, days: 1, more: false });
    expect(await StatMarkModel.countDocuments({ _id: /^sent\|b/ })).toBe(0);
    expect(await StatMarkBatchModel.countDocuments({ _id: /^2026-04-01/ })).toBe(0);
  });

  it('does not count an open or click of an email sent longer ago than the retention', async () => {
    const row = (key: string, sentAt: Date) => ({
      key, workflowId: 'journey/exp/c1', contactId: 'c1', journeyId: 'exp', stepId: 'send_a', templateId: 'welcome', templateVersion: null,
      marketing: true, status: 'sent' as const, messageId: `<${key}@test>`, createdAt: sentAt, smtpStartedAt: sentAt, sentAt, attempt: 1,
      smtpCode: 250, error: null, note: null, version: 1, variant: null,
    });
    const now = Date.now();
    await insertLedgerRow(row('k-young', new Date(now - STAT_MARK_RETENTION_MS + DAY)));
    await insertLedgerRow(row('k-old', new Date(now - STAT_MARK_RETENTION_MS - DAY)));
    const click = (sendKey: string) => recordEventFacts({ name: 'email.clicked', at: new Date(now), data: { sendKey }, machine: false });
    await click('k-young');
    await click('k-old');
    expect((await StatFactModel.find().lean()).map((f) => f._id)).toEqual(['clicked|k-young']);
  });
});
