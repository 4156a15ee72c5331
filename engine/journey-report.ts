/**
 * The journey report (`GET /v1/reports/journeys/{id}`, `sojourn report`): the funnel per version and
 * step, daily figures and experiment results, built from the daily counters of data/journey-stats.ts
 * (pending facts are folded first). It reads (versions x days) counter documents by `_id` and the
 * journey's plans; never the ledger or the event log. The shape is documented in docs/reports.md.
 */
import { getJourney, JourneyVersionModel } from '../data/journey-versions';
import { foldFacts, readStats, type StatDoc } from '../data/journey-stats';
import { SURVEY_METRIC_RE } from '../data/journey-stat-facts';
import type { JourneyPlan } from '../rules/plan';
import { liftAgainstHoldout, type Lift } from '../lib/lift';

/** What happened at one step (zero when it did not happen or the step does not send). */
export interface StepCounts {
  /** Accepted by the SMTP relay. */
  sent: number;
  /** sent minus bounced: there are no delivery receipts, so "delivered" is "not bounced". */
  delivered: number;
  /** Hard or soft bounces of this step's emails (SMTP 5xx at send time, DSN reports later). */
  bounced: number;
  complained: number;
  /** The crash window: may or may not have gone out (never resent). */
  unknown: number;
  /** Contacts who opened / clicked this step's email (once per email), by a person. */
  opened: number;
  clicked: number;
  /** Opens and clicks by machines (link scanners, privacy proxies): never counted above. */
  machineOpened: number;
  machineClicked: number;
  /** Unsubscribes through this step's email (its link or its List-Unsubscribe header). */
  unsubscribed: number;
  /** Sends the gate skipped, by reason (no_consent, frequency_cap, topic_opt_out, ...). */
  skipped: Record<string, number>;
  /** Sends the gate deferred (each send once per reason): quiet_hours, paused. */
  deferred: Record<string, number>;
  /** Runs that ended at this step, by reason (exit_when, an exit step's reason, ...). */
  exited: Record<string, number>;
}

export interface ReportStep { stepId: string; kind: string; template: string | null; counts: StepCounts }

export interface RunTotals {
  entered: number;
  converted: number;
  /** converted / entered (0 when nobody entered). */
  conversionRate: number;
  /** Runs ended, by outcome. */
  ended: { completed: number; exited: number; converted: number; holdout: number };
  /** Runs that exited, by reason. */
  exited: Record<string, number>;
}

export interface ReportVersion extends RunTotals { version: number; live: boolean; steps: ReportStep[] }

export interface ReportDay { day: string; entered: number; sent: number; opened: number; clicked: number; converted: number; unsubscribed: number; bounced: number }

export interface ReportVariant {
  name: string;
  holdout: boolean;
  /** Runs that took this branch. */
  entered: number;
  sent: number;
  clicked: number;
  converted: number;
  conversionRate: number;
  /** Against the holdout branch of the same split; null for the holdout itself or when either is empty. */
  lift: Lift | null;
}

/**
 * One survey's answers over the report's window and versions (first answer per email). CSAT: the share of
 * 4 and 5 stars among the answers; NPS: promoters (9-10) minus detractors (0-6), in points (-100..100).
 */
export interface ReportSurvey {
  surveyId: string;
  scale: 'csat' | 'nps';
  /** The steps whose emails carried it. */
  stepIds: string[];
  answers: number;
  /** Answers by score ("1".."5" or "0".."10"). */
  scores: Record<string, number>;
  /** Mean score (null without answers). */
  average: number | null;
  csat: number | null;
  nps: number | null;
}

export interface ReportExperiment { version: number; stepId: string; variants: ReportVariant[] }

export interface JourneyReport {
  journeyId: string;
  name: string;
  liveVersion: number;
  paused: boolean;
  /** First and last UTC day counted (inclusive). */
  from: string;
  to: string;
  generatedAt: string;
  /** Over the versions reported. */
  totals: RunTotals & { sent: number; opened: number; clicked: number; unsubscribed: number; bounced: number };
  versions: ReportVersion[];
  daily: ReportDay[];
  experiments: ReportExperiment[];
  surveys: ReportSurvey[];
}

export type ReportResult = { found: true; report: JourneyReport } | { found: false };

export interface ReportOptions {
  /** Days back including today (default 30, at most 400). */
  sinceDays?: number;
  /** Only this version. */
  version?: number;
  now?: Date;
}

export const MAX_REPORT_DAYS = 400;
const DAY_MS = 86_400_000;

/** The UTC days of the report window, oldest first. */
export function reportDays(now: Date, sinceDays: number): string[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Array.from({ length: sinceDays }, (_, i) => new Date(today - (sinceDays - 1 - i) * DAY_MS).toISOString().slice(0, 10));
}

/** Parses `7d` / `30d` (whole days, 1..400). */
export function parseSince(text: string): number | null {
  const m = /^(\d{1,3})d$/.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  return n >= 1 && n <= MAX_REPORT_DAYS ? n : null;
}

type Bag = Record<string, number>;
const add = (into: Bag, from: Bag | undefined) => { for (const [k, n] of Object.entries(from ?? {})) into[k] = (into[k] ?? 0) + n; };
const byPrefix = (bag: Bag, prefix: string): Record<string, number> => Object.fromEntries(Object.entries(bag).filter(([k]) => k.startsWith(prefix)).map(([k, n]) => [k.slice(prefix.length), n]));

function stepCounts(bag: Bag): StepCounts {
  const n = (k: string) => bag[k] ?? 0;
  const bounced = n('bounced');
  return {
    sent: n('sent'), delivered: Math.max(0, n('sent') - bounced), bounced, complained: n('complained'), unknown: n('unknown'),
    opened: n('opened'), clicked: n('clicked'), machineOpened: n('opened_machine'), machineClicked: n('clicked_machine'),
    unsubscribed: n('unsubscribed'), skipped: byPrefix(bag, 'skip_'), deferred: byPrefix(bag, 'defer_'), exited: byPrefix(bag, 'exited_'),
  };
}

function runTotals(j: Bag): RunTotals {
  const n = (k: string) => j[k] ?? 0;
  const entered = n('entered');
  const converted = n('end_converted');
  return {
    entered, converted, conversionRate: entered > 0 ? converted / entered : 0,
    ended: { completed: n('end_completed'), exited: n('end_exited'), converted, holdout: n('end_holdout') },
    exited: byPrefix(j, 'exit_'),
  };
}

/** Steps in plan order (the order of the file, branches after their step). */
function orderedSteps(plan: JourneyPlan): JourneyPlan['steps'][string][] {
  return Object.values(plan.steps);
}

async function loadPlans(journeyId: string): Promise<Map<number, JourneyPlan>> {
  const docs = await JourneyVersionModel.find({ journeyId }, { version: 1, plan: 1 }).lean();
  return new Map(docs.map((d) => [d.version, JSON.parse(d.plan) as JourneyPlan]));
}

/** Builds the report of one journey. `found: false` when no such journey is deployed. */
export async function journeyReport(journeyId: string, opts: ReportOptions = {}): Promise<ReportResult> {
  const journey = await getJourney(journeyId);
  if (!journey) return { found: false };
  const now = opts.now ?? new Date();
  const days = reportDays(now, Math.min(MAX_REPORT_DAYS, Math.max(1, opts.sinceDays ?? 30)));
  await foldFacts();
  const plans = await loadPlans(journeyId);
  const versions = [...plans.keys()].filter((v) => opts.version === undefined || v === opts.version).sort((a, b) => a - b);
  const stats = await readStats(journeyId, versions, days);

  const byVersion = new Map<number, StatDoc[]>();
  for (const s of stats) byVersion.set(s.version, [...(byVersion.get(s.version) ?? []), s]);

  const reportVersions: ReportVersion[] = [];
  const experiments: ReportExperiment[] = [];
  const all = { j: {} as Bag, s: {} as Bag };
  for (const version of versions) {
    const docs = byVersion.get(version) ?? [];
    const j: Bag = {};
    const steps = new Map<string, Bag>();
    const variants = new Map<string, Bag>();
    for (const d of docs) {
      add(j, d.j);
      for (const [stepId, bag] of Object.entries(d.s ?? {})) add(steps.get(stepId) ?? steps.set(stepId, {}).get(stepId)!, bag);
      for (const [v, bag] of Object.entries(d.x ?? {})) add(variants.get(v) ?? variants.set(v, {}).get(v)!, bag);
    }
    add(all.j, j);
    for (const bag of steps.values()) add(all.s, bag);
    const plan = plans.get(version)!;
    reportVersions.push({
      version, live: version === journey.liveVersion, ...runTotals(j),
      steps: orderedSteps(plan).map((st) => ({ stepId: st.id, kind: st.kind, template: st.kind === 'send' ? st.template : null, counts: stepCounts(steps.get(st.id) ?? {}) })),
    });
    for (const st of orderedSteps(plan)) {
      if (st.kind !== 'split') continue;
      const bagOf = (name: string) => variants.get(`${st.id}:${name}`) ?? {};
      const holdout = st.branches.find((b) => b.holdout);
      const base = holdout ? { entered: bagOf(holdout.name).assigned ?? 0, converted: bagOf(holdout.name).end_converted ?? 0 } : null;
      experiments.push({
        version, stepId: st.id,
        variants: st.branches.map((b) => {
          const bag = bagOf(b.name);
          const entered = bag.assigned ?? 0;
          const converted = bag.end_converted ?? 0;
          return {
            name: b.name, holdout: b.holdout, entered, sent: bag.sent ?? 0, clicked: bag.clicked ?? 0, converted,
            conversionRate: entered > 0 ? converted / entered : 0,
            lift: b.holdout || !base ? null : liftAgainstHoldout({ entered, converted }, base),
          };
        }),
      });
    }
  }

  const surveys = new Map<string, ReportSurvey>();
  for (const d of stats) {
    for (const [stepId, bag] of Object.entries(d.s ?? {})) {
      for (const [metric, n] of Object.entries(bag)) {
        const m = SURVEY_METRIC_RE.exec(metric);
        if (!m || !n) continue;
        const [, surveyId, scale] = m;
        const key = `${surveyId}:${scale}`;
        const sv = surveys.get(key) ?? surveys.set(key, { surveyId, scale: scale as 'csat' | 'nps', stepIds: [], answers: 0, scores: {}, average: null, csat: null, nps: null }).get(key)!;
        if (!sv.stepIds.includes(stepId)) sv.stepIds.push(stepId);
        sv.answers += n;
        sv.scores[m[3]] = (sv.scores[m[3]] ?? 0) + n;
      }
    }
  }
  for (const sv of surveys.values()) {
    const entries = Object.entries(sv.scores).map(([k, n]) => [Number(k), n] as const);
    const count = (f: (score: number) => boolean) => entries.filter(([k]) => f(k)).reduce((a, [, n]) => a + n, 0);
    sv.average = sv.answers ? entries.reduce((a, [k, n]) => a + k * n, 0) / sv.answers : null;
    if (sv.scale === 'csat') sv.csat = sv.answers ? count((k) => k >= 4) / sv.answers : null;
    else sv.nps = sv.answers ? Math.round(((count((k) => k >= 9) - count((k) => k <= 6)) / sv.answers) * 1000) / 10 : null;
  }

  const daily: ReportDay[] = days.map((day) => {
    const j: Bag = {};
    const s: Bag = {};
    for (const d of stats) {
      if (d.day !== day) continue;
      add(j, d.j);
      for (const bag of Object.values(d.s ?? {})) add(s, bag);
    }
    return { day, entered: j.entered ?? 0, sent: s.sent ?? 0, opened: s.opened ?? 0, clicked: s.clicked ?? 0, converted: j.end_converted ?? 0, unsubscribed: s.unsubscribed ?? 0, bounced: s.bounced ?? 0 };
  });

  const report: JourneyReport = {
    journeyId, name: plans.get(journey.liveVersion)?.name ?? journeyId, liveVersion: journey.liveVersion, paused: journey.paused,
    from: days[0], to: days[days.length - 1], generatedAt: now.toISOString(),
    totals: { ...runTotals(all.j), sent: all.s.sent ?? 0, opened: all.s.opened ?? 0, clicked: all.s.clicked ?? 0, unsubscribed: all.s.unsubscribed ?? 0, bounced: all.s.bounced ?? 0 },
    versions: reportVersions, daily, experiments, surveys: [...surveys.values()],
  };
  return { found: true, report };
}
