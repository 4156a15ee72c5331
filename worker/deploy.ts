/**
 * `sojourn deploy`: validate and compile the journey and rules files, store each plan as an immutable
 * version (a no-op when the content hash is already deployed), make it live, and register the schedules
 * its trigger needs. Returns data for the CLI to print; never exits.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { getJourney, saveJourneyVersion } from '../data/journey-versions';
import { readTemplateCatalog } from '../mail/template-catalog';
import { compileProject, formatDiagnostic, hasErrors, type Diagnostic } from '../rules';
import { registerJourneySchedule, type ScheduleChange } from './schedules';
import { scalePlan } from '../lib/time-scale';

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
}

/** Journey and rules files under the given paths (files or folders; scenario files are not deployed). */
export function collectSourceFiles(paths: string[]): { path: string; text: string }[] {
  const out: string[] = [];
  const visit = (p: string) => {
    const st = fs.statSync(p);
    if (st.isDirectory()) for (const f of fs.readdirSync(p).sort()) visit(path.join(p, f));
    else if (/\.ya?ml$/.test(p) && !/\.scenarios\.ya?ml$/.test(p)) out.push(p);
  };
  for (const p of paths) visit(p);
  return out.map((p) => ({ path: path.relative(process.cwd(), p) || p, text: fs.readFileSync(p, 'utf8') }));
}

export async function deployJourneys(paths: string[], opts: { client?: Client; taskQueue: string; templatesDir?: string; timeScale?: number }): Promise<DeployResult> {
  const files = collectSourceFiles(paths.length ? paths : ['journeys']);
  const project = compileProject(files, { templates: readTemplateCatalog(opts.templatesDir) });
  const texts = new Map(files.map((f) => [f.path, f.text]));
  const messages = project.diagnostics.map((d) => formatDiagnostic(d, texts.get(d.file)));
  if (hasErrors(project.diagnostics)) return { ok: false, journeys: [], diagnostics: project.diagnostics, messages };
  const journeys: DeployedJourney[] = [];
  for (const compiled of Object.values(project.plans).sort((a, b) => a.journeyId.localeCompare(b.journeyId))) {
    const plan = scalePlan(compiled, opts.timeScale ?? 1);
    const source = (plan.sourceFile && texts.get(plan.sourceFile)) || JSON.stringify(plan);
    const saved = await saveJourneyVersion(plan, source);
    let schedule: DeployedJourney['schedule'] = 'skipped';
    if (opts.client) {
      const j = await getJourney(plan.journeyId);
      schedule = await registerJourneySchedule(opts.client, plan, { taskQueue: opts.taskQueue, paused: j?.paused ?? false });
    }
    journeys.push({ journeyId: plan.journeyId, version: saved.version, status: saved.status, hash: plan.hash, schedule });
  }
  return { ok: true, journeys, diagnostics: project.diagnostics, messages };
}
