/**
 * An A/B test with a holdout over many simulated contacts, through the real doors on the time-skipping
 * test server: each person signs up through POST /v1/contacts (the contact.created event starts the run
 * of test/workflow/reports/fixtures/lift_test.yaml), the split sends variant a the offer and b the tips and
 * the holdout nothing; which variant each person is in is read from the emails the SMTP server received
 * (no email: holdout). Then a fixed share of each variant orders (POST /v1/events order.completed, the
 * journey's goal): 30 % of a, 20 % of b, 10 % of the holdout. GET /v1/reports/journeys/lift_test must show
 * each variant's entries, sends and conversions, and the lift against the holdout with its 95 % interval and
 * p-value, as computed here from those counts (own normal distribution, not lib/lift.ts).
 *
 * SOJOURN_EXPERIMENT_CONTACTS sets the number of people: 200 in `npm test` (the suite's time budget),
 * `SOJOURN_EXPERIMENT_CONTACTS=1000 npm test -- test/workflow/reports/experiment-report` for the thousand of
 * the issue (about 13 minutes at a load average of 15 on 2 cores: sign-ups and goal events slow down as
 * the time-skipping server holds more waiting runs).
 */
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { ScenarioHarness } from '../../../testing/scenario-runner';
import { daytimeZone } from '../../../testing/daytime-zone';
import { uniqueDatabaseUri } from '../../helpers/db';
import { provision } from '../../../scripts/provision';
import type { JourneyReport, ReportVariant } from '../../../engine/journey-report';

const root = path.join(__dirname, '..', '..', '..');
const N = Number(process.env.SOJOURN_EXPERIMENT_CONTACTS ?? 200);
/** Of every ten people of a variant (in sign-up order), how many order. */
const ORDERS_PER_TEN: Record<string, number> = { a: 3, b: 2, holdout: 1 };
const SUBJECTS: [RegExp, string][] = [[/welcome gift/i, 'a'], [/three tips/i, 'b']];

/** Standard normal CDF by Simpson's rule on the density (independent of the product's error function). */
function phi(z: number): number {
  const steps = 20_000;
  const h = Math.abs(z) / steps;
  const f = (t: number) => Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI);
  let s = f(0) + f(Math.abs(z));
  for (let i = 1; i < steps; i++) s += f(i * h) * (i % 2 ? 4 : 2);
  const half = (s * h) / 3;
  return z >= 0 ? 0.5 + half : 0.5 - half;
}
/** The 97.5 % quantile of the standard normal distribution. */
const Z975 = 1.959963984540054;

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

describe('an A/B test with a holdout', () => {
  let harness: ScenarioHarness;
  beforeAll(async () => {
    harness = await ScenarioHarness.open({
      paths: [path.join(__dirname, 'fixtures', 'lift_test.yaml')], templatesDir: path.join(root, 'templates'), mongodbUri: uniqueDatabaseUri('lift'),
      testServerBin: process.env.SOJOURN_TEST_SERVER_BIN ?? provision().testServer, workflowBundlePath: process.env.SOJOURN_WORKFLOW_BUNDLE,
    });
  }, 180_000);
  afterAll(async () => {
    await harness?.close();
    const mongoose = (await import('mongoose')).default;
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await mongoose.disconnect();
  });

  async function report(): Promise<JourneyReport> {
    const r = await harness.apiGet('/v1/reports/journeys/lift_test?since=7d');
    expect(r.status).toBe(200);
    return r.body as JourneyReport;
  }
  async function reportWhen(ok: (r: JourneyReport) => boolean, what: string, timeoutMs: number): Promise<JourneyReport> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await report();
      if (ok(r)) return r;
      if (Date.now() > deadline) throw new Error(`the report never showed ${what}: ${JSON.stringify(r.experiments[0]?.variants.map((v) => [v.name, v.entered, v.sent, v.converted]))}, ${harness.received().length} emails`);
      await new Promise((done) => setTimeout(done, 1_000));
    }
  }
  const sum = (r: JourneyReport, k: 'entered' | 'converted') => r.experiments[0]?.variants.reduce((n, v) => n + v[k], 0) ?? 0;

  it(`shows per-variant conversions and the lift against the holdout with its interval for ${N} people`, async () => {
    const t0 = Date.now();
    const zone = daytimeZone();
    const people = Array.from({ length: N }, (_, i) => ({ i, email: `lift.${i}@example.com`, id: '' }));
    await pool(people, 8, async (p) => {
      const r = await harness.apiPost('/v1/contacts', { email: p.email, timezone: zone, consent: { email: 'subscribed' } });
      expect(r.status).toBe(201);
      p.id = (r.body as { id: string }).id;
    });
    const tSignedUp = Date.now();

    // Everyone has passed the split and every a and b person has their email.
    const split = await reportWhen((r) => sum(r, 'entered') === N && harness.received().length >= r.experiments[0].variants.filter((v) => !v.holdout).reduce((n, v) => n + v.entered, 0), `${N} in the variants and their emails`, 300_000);
    const tSent = Date.now();

    // Who is in which variant, from what each person received.
    const variantOf = new Map<string, string>();
    for (const raw of harness.received()) {
      const m = await simpleParser(raw);
      const to = m.to && !Array.isArray(m.to) ? m.to.value[0]?.address : undefined;
      const variant = SUBJECTS.find(([re]) => re.test(m.subject ?? ''))?.[1];
      expect(variant).toBeDefined();
      expect(variantOf.has(to!)).toBe(false);
      variantOf.set(to!, variant!);
    }
    const groups: Record<string, typeof people> = { a: [], b: [], holdout: [] };
    for (const p of people) groups[variantOf.get(p.email) ?? 'holdout'].push(p);
    expect(split.experiments[0].variants.map((v) => [v.name, v.entered])).toEqual(Object.entries(groups).map(([name, g]) => [name, g.length]));

    // A fixed share of each variant orders: the journey's goal, through the event API.
    const buyers = Object.entries(groups).flatMap(([name, g]) => g.filter((_, k) => k % 10 < ORDERS_PER_TEN[name]));
    await pool(buyers, 8, async (p) => {
      const r = await harness.apiPost('/v1/events', { eventId: `order-${p.id}`, contactId: p.id, name: 'order.completed', data: { amount: 20 } });
      expect(r.status).toBe(202);
    });
    const final = await reportWhen((r) => sum(r, 'converted') === buyers.length, `${buyers.length} conversions`, 300_000);
    const tConverted = Date.now();

    // Expected figures, from the groups alone.
    const expected = Object.fromEntries(Object.entries(groups).map(([name, g]) => {
      const converted = g.filter((_, k) => k % 10 < ORDERS_PER_TEN[name]).length;
      return [name, { entered: g.length, sent: name === 'holdout' ? 0 : g.length, converted, rate: converted / g.length }];
    }));
    const h = expected.holdout;
    const variants = final.experiments[0].variants;
    expect(final.experiments.map((e) => e.stepId)).toEqual(['pick']);
    expect(variants.map((v) => ({ name: v.name, holdout: v.holdout, entered: v.entered, sent: v.sent, converted: v.converted })))
      .toEqual(['a', 'b', 'holdout'].map((name) => ({ name, holdout: name === 'holdout', entered: expected[name].entered, sent: expected[name].sent, converted: expected[name].converted })));
    for (const v of variants) expect(v.conversionRate).toBeCloseTo(expected[v.name].rate, 12);
    expect(variants.find((v) => v.holdout)!.lift).toBeNull();
    const lines: string[] = [];
    for (const name of ['a', 'b']) {
      const e = expected[name];
      const v = variants.find((x) => x.name === name) as ReportVariant;
      const diff = e.rate - h.rate;
      const se = Math.sqrt((e.rate * (1 - e.rate)) / e.entered + (h.rate * (1 - h.rate)) / h.entered);
      const pooled = (e.converted + h.converted) / (e.entered + h.entered);
      const z = Math.abs(diff) / Math.sqrt(pooled * (1 - pooled) * (1 / e.entered + 1 / h.entered));
      const p = 2 * (1 - phi(z));
      expect(v.lift).not.toBeNull();
      expect(v.lift!.absolute).toBeCloseTo(diff, 12);
      expect(v.lift!.relative!).toBeCloseTo(diff / h.rate, 12);
      expect(v.lift!.confidence).toBe(0.95);
      // lib/lift.ts's normal quantile is within 1e-5 of 1.959964 (its comment): the interval to 1e-5 x se.
      expect(Math.abs(v.lift!.interval[0] - (diff - Z975 * se))).toBeLessThan(2e-5 * se);
      expect(Math.abs(v.lift!.interval[1] - (diff + Z975 * se))).toBeLessThan(2e-5 * se);
      expect(Math.abs(v.lift!.pValue! - p)).toBeLessThan(Math.max(1e-6, p * 1e-4));
      lines.push(`${name} ${e.converted}/${e.entered} (${(100 * e.rate).toFixed(1)} %), lift ${(100 * diff).toFixed(2)} pp [${(100 * v.lift!.interval[0]).toFixed(2)}, ${(100 * v.lift!.interval[1]).toFixed(2)}] p=${v.lift!.pValue!.toPrecision(3)}`);
    }
    expect(final.totals.entered).toBe(N);
    expect(final.totals.converted).toBe(buyers.length);
    expect(final.totals.ended.converted).toBe(buyers.length);
    console.log(`${N} people: ${lines.join('; ')}; holdout ${h.converted}/${h.entered} (${(100 * h.rate).toFixed(1)} %). `
      + `Sign-ups ${((tSignedUp - t0) / 1000).toFixed(1)} s, split and sends ${((tSent - tSignedUp) / 1000).toFixed(1)} s, orders to report ${((tConverted - tSent) / 1000).toFixed(1)} s.`);
  }, 900_000);
});
