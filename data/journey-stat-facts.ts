/**
 * Which facts the report counts, derived where each is known (data/journey-stats.ts records and folds
 * them). Every key is natural, so the same fact recorded twice (a retried activity, a sink called again
 * after a workflow task retry, a re-dispatched event) counts once:
 *
 *   entered|<entry>               a run started (entry = workflow id @ first run id)
 *   split|<entry>|<step>          the branch a run took at a split ("assigned" of the variant)
 *   end|<entry>, endx|<entry>|<v> how it ended (journey level; per variant); exit|…, exits|… why it exited
 *   gate|<ledger key>             the gate skipped the send; defer|<key>|<reason> deferred it
 *   sent|<ledger key>             the relay took it (or the crash window: "unknown")
 *   <metric>|<ledger key>         opened, clicked (and _machine), unsubscribed, bounced, complained
 *   answered|<ledger key>         the first answer to the survey in that email: answer:<surveyId>:<scale>:<score>
 */
import type { SojournEvent } from './contact-event-model';
import { recordFacts, STAT_MARK_RETENTION_MS, type StatFact } from './journey-stats';
import { findLedgerRow } from './send-ledger';

/** What a run reports about itself (through the workflow sink; no PII: ids only). */
export interface RunFactBase { journeyId: string; version: number; entryKey: string; at: string }

export function runEnteredFacts(r: RunFactBase): StatFact[] {
  return [{ key: `entered|${r.entryKey}`, journeyId: r.journeyId, version: r.version, metric: 'entered', at: new Date(r.at) }];
}

export function splitFacts(r: RunFactBase & { stepId: string; branch: string }): StatFact[] {
  return [{ key: `split|${r.entryKey}|${r.stepId}`, journeyId: r.journeyId, version: r.version, stepId: r.stepId, variant: `${r.stepId}:${r.branch}`, metric: 'assigned', at: new Date(r.at) }];
}

export interface RunEndFact extends RunFactBase { outcome: string; reason: string; stepId: string | null; variants: string[] }

export function runEndedFacts(r: RunEndFact): StatFact[] {
  const base = { journeyId: r.journeyId, version: r.version, at: new Date(r.at) };
  const facts: StatFact[] = [{ ...base, key: `end|${r.entryKey}`, metric: `end_${r.outcome}` }];
  for (const v of r.variants) facts.push({ ...base, key: `endx|${r.entryKey}|${v}`, variant: v, metric: `end_${r.outcome}` });
  if (r.outcome === 'exited') {
    facts.push({ ...base, key: `exit|${r.entryKey}`, metric: `exit_${r.reason}` });
    if (r.stepId) facts.push({ ...base, key: `exits|${r.entryKey}`, stepId: r.stepId, metric: `exited_${r.reason}` });
  }
  return facts;
}

/** What the workflow passes to the gate and the sender so their facts name version and variant. */
export interface SendFactBase { key: string; journeyId: string; stepId: string; version?: number; variant?: string | null; at?: string }

export function gateFacts(input: SendFactBase, decision: { outcome: string; reason?: string }, now: Date): StatFact[] {
  if (input.version === undefined || decision.outcome === 'send') return [];
  const base = { journeyId: input.journeyId, version: input.version, stepId: input.stepId, variant: input.variant ?? null, at: input.at ? new Date(input.at) : now };
  const reason = decision.reason ?? 'unknown';
  return decision.outcome === 'skip'
    ? [{ ...base, key: `gate|${input.key}`, metric: `skip_${reason}` }]
    : [{ ...base, key: `defer|${input.key}|${reason}`, metric: `defer_${reason}` }];
}

export function sendFacts(input: SendFactBase, result: { status: string }, now: Date): StatFact[] {
  if (input.version === undefined) return [];
  const metric = result.status === 'sent' || result.status === 'duplicate' ? 'sent' : result.status === 'unknown' ? 'unknown' : null;
  if (!metric) return []; // failed: refused by the relay, counted as bounced through its email.bounced event
  return [{ key: `sent|${input.key}`, journeyId: input.journeyId, version: input.version, stepId: input.stepId, variant: input.variant ?? null, metric, at: input.at ? new Date(input.at) : now }];
}

const EMAIL_EVENT_METRICS: Record<string, string> = {
  'email.opened': 'opened', 'email.clicked': 'clicked', 'email.unsubscribed': 'unsubscribed',
  'email.bounced': 'bounced', 'email.complained': 'complained',
};

/**
 * Records the fact of an email event (open, click, unsubscribe, bounce, complaint) against the step that
 * sent the email, found by the ledger key the event carries (one `_id` read). Opens and clicks count once
 * per email; machine ones apart. Events without a ledger key (an unsubscribe through the API) count nowhere,
 * nor do events of an email sent more than STAT_MARK_RETENTION_MS ago (its open's or click's mark may have
 * expired, so a second one would count again).
 */
export async function recordEventFacts(e: Pick<SojournEvent, 'name' | 'at' | 'data' | 'machine'>): Promise<void> {
  if (e.name === 'survey.answered') return recordSurveyFact(e);
  const base = EMAIL_EVENT_METRICS[e.name];
  const sendKey = e.data?.sendKey;
  if (!base || typeof sendKey !== 'string') return;
  const row = await findLedgerRow(sendKey);
  if (!row || typeof row.version !== 'number') return;
  const sent = (row.sentAt ?? row.createdAt).getTime();
  if (Math.max(new Date(e.at).getTime(), Date.now()) - sent > STAT_MARK_RETENTION_MS) return;
  const metric = e.machine && (base === 'opened' || base === 'clicked') ? `${base}_machine` : base;
  await recordFacts([{ key: `${metric}|${sendKey}`, journeyId: row.journeyId, version: row.version, stepId: row.stepId, variant: row.variant ?? null, metric, at: new Date(e.at) }]);
}

/** The metric of a survey answer: `answer:<surveyId>:<scale>:<score>` (engine/journey-report.ts reads it back). */
export function surveyMetric(surveyId: string, scale: string, score: number): string {
  return `answer:${surveyId}:${scale}:${score}`;
}

/** Scores each scale allows (the survey page refuses others; a hand-made event with one counts nowhere). */
const SURVEY_RANGES: Record<string, [number, number]> = { csat: [1, 5], nps: [0, 10] };

export const SURVEY_METRIC_RE = /^answer:([a-z][a-z0-9_]{0,39}):(csat|nps):(\d{1,2})$/;

/**
 * A survey answer counts for the step whose email carried the rating link, once per email: the first
 * answer (a person who changes their score later changes the contact's answer, not the report's count).
 */
async function recordSurveyFact(e: Pick<SojournEvent, 'at' | 'data'>): Promise<void> {
  const { sendKey, surveyId, scale, score } = e.data ?? {};
  if (typeof sendKey !== 'string' || typeof surveyId !== 'string' || typeof scale !== 'string' || typeof score !== 'number') return;
  const range = SURVEY_RANGES[scale];
  if (!range || !Number.isInteger(score) || score < range[0] || score > range[1]) return;
  const metric = surveyMetric(surveyId, scale, score);
  if (!SURVEY_METRIC_RE.test(metric)) return;
  const row = await findLedgerRow(sendKey);
  if (!row || typeof row.version !== 'number') return;
  await recordFacts([{ key: `answered|${sendKey}`, journeyId: row.journeyId, version: row.version, stepId: row.stepId, variant: row.variant ?? null, metric, at: new Date(e.at) }]);
}
