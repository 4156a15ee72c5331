/**
 * `sojourn deploy`: validate and compile the journey and rules files, store each plan as an immutable
 * version (a no-op when the content hash is already deployed), make it live, and register the schedules
 * its trigger needs. Returns data for the CLI to print; never exits.
 */
import type { Client } from '@temporalio/client';
import { getJourney, saveJourneyVersion } from '../data/journey-versions';
import { loadProject } from './project';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../rules';
import { registerClassifySchedule, registerJourneySchedule, type ScheduleChange } from './schedules';
import { contactRuleSets } from '../data/classify';
import type { RulesPlan } from '../rules/plan';
import { scalePlan } from '../lib/time-scale';
import { ensureContactDateIndex } from '../data/contact-date-index';
import { datePath } from '../activities/date-scan';

export interface DeployedJourney {
  journeyId: string;
  version: number;
  status: 'created' | 'unchanged';
  hash: string;
  schedule: ScheduleChange | 'skipped';
}

export interface DeployResult {
  ok: boolean;
  journeys: DeployedJourney[];
  diagnostics: Diagnostic[];
  /** Pretty-printed diagnostics (file:line:col, line and caret). */
  messages: string[];
  /** The segments and rule sets of the deployed rules files (serve uses them for the API and event-time classification). */
  rules: RulesPlan;
  /** The daily classification schedule (engine/schedules.ts) and the contact rule sets it runs. */
  classification: { ruleSets: string[]; schedule: ScheduleChange | 'skipped' };
}

export async function deployJourneys(paths: string[], opts: { client?: Client; taskQueue: string; templatesDir?: string; timeScale?: number }): Promise<DeployResult> {
  const { sources, result: project } = loadProject(paths.length ? paths : ['journeys'], opts.templatesDir);
  const texts = new Map(sources.map((f) => [f.path, f.text]));
  const messages = project.diagnostics.map((d) => formatDiagnostic(d, texts.get(d.file)));
  const none = { rules: { segments: {}, ruleSets: {} }, classification: { ruleSets: [], schedule: 'skipped' as const } };
  if (hasErrors(project.diagnostics)) return { ok: false, journeys: [], diagnostics: project.diagnostics, messages, ...none };
  const journeys: DeployedJourney[] = [];
  for (const compiled of Object.values(project.plans).sort((a, b) => a.journeyId.localeCompare(b.journeyId))) {
    const plan = scalePlan(compiled, opts.timeScale ?? 1);
    const source = (plan.sourceFile && texts.get(plan.sourceFile)) || JSON.stringify(plan);
    const saved = await saveJourneyVersion(plan, source);
    // A date trigger on a contact date other than birthday scans by ranges of that field: index it.
    if (plan.trigger.kind === 'date' && plan.trigger.field && plan.trigger.field !== 'birthday') await ensureContactDateIndex(datePath(plan.trigger.field));
    let schedule: DeployedJourney['schedule'] = 'skipped';
    if (opts.client) {
      const j = await getJourney(plan.journeyId);
      schedule = await registerJourneySchedule(opts.client, plan, { taskQueue: opts.taskQueue, paused: j?.paused ?? false });
    }
    journeys.push({ journeyId: plan.journeyId, version: saved.version, status: saved.status, hash: plan.hash, schedule });
  }
  const ruleSets = contactRuleSets(Object.values(project.rules.ruleSets));
  const schedule = opts.client ? await registerClassifySchedule(opts.client, ruleSets, { taskQueue: opts.taskQueue }) : 'skipped';
  return { ok: true, journeys, diagnostics: project.diagnostics, messages, rules: project.rules, classification: { ruleSets: ruleSets.map((r) => r.name), schedule } };
}
