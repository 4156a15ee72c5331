/**
 * The daily counters under the report: facts recorded concurrently are all counted (no lost update on
 * FerretDB, where concurrent $inc of one document loses increments), a fact recorded twice counts once,
 * before and after its fold, and the report reads them per version, step, day and variant.
 */
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { useTestDatabase } from '../../helpers/db';
import { foldFacts, JourneyStatModel, recordFact, recordFacts, StatFactModel, type StatFact } from '../../../data/journey-stats';
import { runEndedFacts } from '../../../data/journey-stat-facts';
import { saveJourneyVersion } from '../../../data/journey-versions';
import { journeyReport } from '../../../engine/journey-report';
import { formatReportTable } from '../../../engine/report-format';
import { PLAN_FORMAT, type JourneyPlan } from '../../../rules/plan';

jest.setTimeout(60_000);

/** A plan with a split: branch a sends, the holdout branch sends nothing. */
function experimentPlan(): JourneyPlan {
  const steps: JourneyPlan['steps'] = {
    pick: { id: 'pick', kind: 'split', next: null, branches: [{ name: 'a', weight: 50, start: 'send_a', holdout: false }, { name: 'holdout', weight: 50, start: null, holdout: true }] },
    send_a: { id: 'send_a', kind: 'send', template: 'welcome', marketing: true, next: null },
  } as JourneyPlan['steps'];
  return {
    planFormat: PLAN_FORMAT, journeyId: 'exp', name: 'Experiment', hash: 'h1', trigger: { kind: 'event', event: 'contact.created' },
    entry: { kind: 'once' }, goal: { event: 'order.completed', withinMs: 14 * 86_400_000 }, settings: { defaultTimezone: 'UTC' },
    start: 'pick', steps, templates: { welcome: { id: 'welcome', marketing: true } }, segments: {}, ruleSets: {},
  };
}

describe('journey statistics', () => {
  const db = useTestDatabase('stats');
  const now = new Date('2026-03-10T12:00:00Z');
  const fact = (key: string, metric: string, extra: Partial<StatFact> = {}): StatFact => ({ key, journeyId: 'exp', version: 1, metric, at: now, ...extra });

  it('counts 200 concurrent facts of one counter exactly, and a repeated fact once, before and after the fold', async () => {
    const p = experimentPlan();
    await saveJourneyVersion(p, JSON.stringify(p));
    await Promise.all(Array.from({ length: 200 }, (_, i) => recordFact(fact(`sent|k${i}`, 'sent', { stepId: 'send_a', variant: 'pick:a' }))));
    expect(await recordFact(fact('sent|k0', 'sent', { stepId: 'send_a', variant: 'pick:a' }))).toBe(false);
    const r = await foldFacts();
    expect(r.folded).toBe(200);
    expect(await recordFact(fact('sent|k1', 'sent', { stepId: 'send_a', variant: 'pick:a' }))).toBe(false);
    expect(await StatFactModel.countDocuments()).toBe(0);
    const doc = await JourneyStatModel.findById('exp|1|2026-03-10').lean();
    expect(doc?.s?.send_a?.sent).toBe(200);
    expect(doc?.x?.['pick:a']?.sent).toBe(200);
  });

  it('reports entries, variants, conversions and lift against the holdout from the counters', async () => {
    for (let i = 0; i < 40; i++) await recordFact(fact(`entered|a${i}`, 'entered'));
    for (let i = 0; i < 20; i++) await recordFact(fact(`split|a${i}`, 'assigned', { stepId: 'pick', variant: 'pick:a' }));
    for (let i = 0; i < 20; i++) await recordFact(fact(`split|h${i}`, 'assigned', { stepId: 'pick', variant: 'pick:holdout' }));
    const end = (entryKey: string, outcome: string, reason: string, variant: string) =>
      recordFacts(runEndedFacts({ journeyId: 'exp', version: 1, entryKey, at: now.toISOString(), outcome, reason, stepId: 'send_a', variants: [variant] }));
    for (let i = 0; i < 8; i++) await end(`a${i}`, 'converted', 'goal:order.completed', 'pick:a');
    for (let i = 0; i < 2; i++) await end(`h${i}`, 'converted', 'goal:order.completed', 'pick:holdout');
    await end('x1', 'exited', 'exit_when', 'pick:a');
    await recordFact(fact('skip|x2', 'skip_no_consent', { stepId: 'send_a', variant: 'pick:a', at: new Date('2026-03-09T08:00:00Z') }));
    const r = await journeyReport('exp', { sinceDays: 7, now });
    if (!r.found) throw new Error('not found');
    const v1 = r.report.versions[0];
    expect([v1.entered, v1.converted, v1.ended.exited]).toEqual([40, 10, 1]);
    const send = v1.steps.find((s) => s.stepId === 'send_a')!;
    expect(send.counts).toMatchObject({ sent: 200, delivered: 200, skipped: { no_consent: 1 }, exited: { exit_when: 1 } });
    const [a, h] = r.report.experiments[0].variants;
    expect([a.name, a.entered, a.converted, a.conversionRate]).toEqual(['a', 20, 8, 0.4]);
    expect([h.name, h.holdout, h.entered, h.converted, h.lift]).toEqual(['holdout', true, 20, 2, null]);
    expect(a.lift!.absolute).toBeCloseTo(0.3, 10);
    expect(a.lift!.interval[0]).toBeLessThan(0.3);
    expect(a.lift!.interval[1]).toBeGreaterThan(0.3);
    expect(r.report.daily.map((d) => d.day)).toEqual(['2026-03-04', '2026-03-05', '2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09', '2026-03-10']);
    expect(r.report.daily.at(-1)).toMatchObject({ entered: 40, sent: 200, converted: 10 });
    const none = await journeyReport('exp', { sinceDays: 7, now, version: 2 });
    expect(none.found && none.report.versions).toEqual([]);
    expect((await journeyReport('nope', { now })).found).toBe(false);
  });

  // Each CLI start takes seconds (tsx) and far more on a loaded machine.
  it('prints the report with sojourn report as JSON and CSV (and a table), and refuses a bad --since', async () => {
    const today = new Date();
    for (let i = 0; i < 3; i++) await recordFact(fact(`entered|cli${i}`, 'entered', { at: today }));
    await recordFact(fact('sent|cli0', 'sent', { at: today, stepId: 'send_a', variant: 'pick:a' }));
    const run = (args: string[]) => promisify(execFile)(process.execPath, [path.join(__dirname, '..', '..', '..', 'bin', 'sojourn'), 'report', ...args], { env: { ...process.env, MONGODB_URI: db.uri } });
    const json = JSON.parse((await run(['exp', '--since', '1d', '--format', 'json'])).stdout) as { totals: { entered: number; sent: number } };
    expect([json.totals.entered, json.totals.sent]).toEqual([3, 1]);
    const csv = (await run(['exp', '--since', '1d', '--format', 'csv'])).stdout.trim().split('\n');
    expect(csv[0]).toMatch(/^journey,version,row,step_or_variant,kind,entered,converted,sent,/);
    expect(csv).toContain('exp,1,step,send_a,send,,,1,1,0,0,0,0,0,0,,,,,,,');
    const r = await journeyReport('exp', { sinceDays: 1 });
    expect(r.found && formatReportTable(r.report)).toMatch(/entered 3, converted 0 \(0\.0%\), sent 1/);
    await expect(run(['exp', '--since', 'week'])).rejects.toMatchObject({ code: 2 });
  }, 240_000);

  it('counts a fact that reached the facts again after its fold (a record racing the fold) once, beside new ones in the same page', async () => {
    // Another day than the tests above, so its counter document is its own.
    const day2 = new Date('2026-03-11T12:00:00Z');
    const f2 = (key: string) => ({ ...fact(key, 'sent', { stepId: 'send_a' }), at: day2 });
    await foldFacts(); // whatever the tests above left
    await recordFacts([f2('sent|r1'), f2('sent|r2')]);
    expect((await foldFacts()).folded).toBe(2);
    // recordFact checked for a mark before the fold wrote it, then inserted: the fact is back once more.
    // r3 and r4 count for steps of their own, so a wrong position (r1 counted, r3 or r4 dropped) shows.
    await recordFacts([{ ...f2('sent|r3'), stepId: 's3' }]);
    await StatFactModel.collection.insertOne({ _id: 'sent|r1', j: 'exp', v: 1, s: 'send_a', x: null, m: 'sent', d: '2026-03-11', at: day2 } as never);
    await recordFacts([{ ...f2('sent|r4'), stepId: 's4' }]);
    const r = await foldFacts();
    expect(r).toMatchObject({ folded: 2, duplicates: 1 });
    expect(await StatFactModel.countDocuments()).toBe(0);
    expect((await JourneyStatModel.findById('exp|1|2026-03-11').lean())?.s).toEqual({ send_a: { sent: 2 }, s3: { sent: 1 }, s4: { sent: 1 } });
  });
});
