/**
 * `sojourn test [paths...]`: runs journey scenario files (*.scenarios.yaml) under Temporal's
 * time-skipping server with the real interpreter, activities, database and an in-process SMTP server,
 * and prints pass/fail per expectation. Exit 1 when any scenario fails, 2 on bad usage.
 * Uses MONGODB_URI when set; otherwise starts a throw-away FerretDB from the provisioned cache.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import mongoose from 'mongoose';
import { provision } from '../../scripts/provision';
import { freePort, startFerretDB, type RunningServer } from '../../scripts/servers';
import { parseScenarioFile, type ScenarioFile } from '../../testing/scenarios';
import { formatOutcome, ScenarioHarness } from '../../testing/scenario-runner';

/** Scenario files among files and folders (recursively), sorted. */
export function collectScenarioFiles(paths: string[]): string[] {
  const out = new Set<string>();
  const walk = (p: string) => {
    if (fs.statSync(p).isDirectory()) {
      for (const e of fs.readdirSync(p)) if (!e.startsWith('.') && e !== 'node_modules') walk(path.join(p, e));
    } else if (/\.scenarios\.ya?ml$/.test(p)) out.add(p);
  };
  for (const p of paths) {
    if (!fs.existsSync(p)) throw new Error(`No such file or folder: ${p}`);
    walk(p);
  }
  return [...out].sort();
}

export function register(program: Command): void {
  program
    .command('test')
    .description('run journey scenario files (*.scenarios.yaml) under simulated time; exit 1 on any failure')
    .argument('[paths...]', 'scenario files or folders (default: journeys/)')
    .option('--journeys <paths...>', 'journey and rules files or folders to deploy', ['journeys'])
    .option('--templates <dir>', 'templates folder', 'templates')
    .action(async (paths: string[], opts: { journeys: string[]; templates: string }) => {
      let files: ScenarioFile[];
      try {
        files = collectScenarioFiles(paths.length ? paths : ['journeys']).map((f) => parseScenarioFile(fs.readFileSync(f, 'utf8'), f));
      } catch (err) {
        console.error((err as Error).message);
        process.exit(2);
      }
      if (files.length === 0) {
        console.error('No scenario files (*.scenarios.yaml) found.');
        process.exit(2);
      }
      process.env.LOG_LEVEL ??= 'warn';
      const { DefaultLogger, Runtime } = await import('@temporalio/worker');
      Runtime.install({ logger: new DefaultLogger('WARN') });
      const p = provision();
      let db: RunningServer | null = null;
      let uri = process.env.MONGODB_URI;
      if (!uri) {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-scenarios-'));
        const started = await startFerretDB({ bin: p.ferretdb, port: await freePort(), dataDir, logFile: path.join(dataDir, 'ferretdb.log') });
        db = started;
        uri = started.uri;
      }
      let failed = 0;
      let passed = 0;
      const harness = await ScenarioHarness.open({ paths: opts.journeys, templatesDir: opts.templates, mongodbUri: uri, testServerBin: p.testServer });
      try {
        for (const f of files) {
          for (const s of f.scenarios) {
            const o = await harness.run(f, s);
            console.log(formatOutcome(o));
            if (o.ok) passed++;
            else failed++;
          }
        }
      } finally {
        await harness.close();
        await mongoose.disconnect();
        await db?.stop();
      }
      console.log(`\n${passed} passed, ${failed} failed`);
      process.exitCode = failed ? 1 : 0;
    });
}
