/**
 * `sojourn journeys list|pause|resume|migrate|rollback`: deployed journeys, their versions and which one
 * is live. Pausing refuses new entries (the dispatcher and scans check it) and pauses the journey's
 * schedule; runs already in flight continue. `migrate` moves running runs to another version (engine/
 * migrate.ts; `--dry-run` only lists them by step and says which can move); `rollback` makes the version
 * before the live one live again. Exit codes: 0 ok, 1 unknown journey or version, or runs that could
 * not move, 2 bad usage or a crash.
 */
import type { Command } from 'commander';
import { connectTemporal } from '../../lib/temporal-connection';
import { loadConfig } from '../../lib/config';
import { connectDatabase, disconnectDatabase } from '../../data/db';
import { journeySummaries, setJourneyPause } from '../../engine/journey-control';
import { getJourney, getJourneyPlan, rollbackJourney } from '../../data/journey-versions';
import { registerJourneySchedule } from '../../engine/schedules';
import { executeMigration, formatMigrationPlan, listRunningRuns, planMigration } from '../../engine/migrate';

async function withDb<T>(fn: () => Promise<T>): Promise<T> {
  await connectDatabase(loadConfig().mongodbUri);
  try {
    return await fn();
  } finally {
    await disconnectDatabase();
  }
}

async function setPaused(journeyId: string, paused: boolean): Promise<void> {
  await withDb(async () => {
    const cfg = loadConfig();
    // Temporal is needed only for the schedule; the pause flag is decided without it.
    const temporal = await connectTemporal(cfg).catch((err: Error) => err);
    try {
      const r = await setJourneyPause(temporal instanceof Error ? null : temporal.client, journeyId, paused);
      if (!r.found) {
        console.error(`unknown journey "${journeyId}"`);
        process.exitCode = 1;
        return;
      }
      let scheduleNote = '';
      if (r.schedule === 'changed') scheduleNote = `; schedule ${paused ? 'paused' : 'resumed'}`;
      if (r.schedule === 'failed') scheduleNote = `; schedule not changed (${r.scheduleError})`;
      if (temporal instanceof Error) scheduleNote = `; schedule not changed (${temporal.message})`;
      console.log(`${journeyId}: ${paused ? 'paused (new entries refused)' : 'resumed'}${scheduleNote}`);
    } finally {
      if (!(temporal instanceof Error)) await temporal.connection.close();
    }
  });
}

export function register(program: Command): void {
  const journeys = program.command('journeys').description('List, pause, resume, migrate and roll back deployed journeys');
  journeys
    .command('list')
    .description('Deployed journeys, their versions and the live one')
    .option('--format <format>', 'text or json', 'text')
    .action(async (opts: { format: string }) => {
      await withDb(async () => {
        const all = await journeySummaries();
        if (opts.format === 'json') return console.log(JSON.stringify(all, null, 2));
        if (!all.length) return console.log('no journeys deployed (run `sojourn deploy`)');
        for (const j of all) {
          console.log(`${j.journeyId}  live v${j.liveVersion}${j.paused ? '  PAUSED' : ''}  trigger ${j.triggerKind}${j.triggerEvent ? ` ${j.triggerEvent}` : ''}`);
          for (const v of j.versions) console.log(`  ${v.live ? '*' : ' '} v${v.version}  ${v.hash.slice(0, 12)}  ${v.deployedAt.toISOString()}`);
        }
      });
    });
  journeys.command('pause').argument('<journey>').description('Refuse new entries and pause the schedule').action((id: string) => setPaused(id, true));
  journeys.command('resume').argument('<journey>').description('Accept new entries and resume the schedule').action((id: string) => setPaused(id, false));
  journeys
    .command('migrate')
    .argument('<journey>')
    .requiredOption('--to <version>', 'target version')
    .option('--dry-run', 'only list the running runs by step and say which can move')
    .option('--format <format>', 'text or json', 'text')
    .description('Move running runs to another version (same step id and kind); recorded in journey_migrations')
    .action(async (journeyId: string, opts: { to: string; dryRun?: boolean; format: string }) => {
      const toVersion = Number(opts.to.replace(/^v/, ''));
      if (!Number.isInteger(toVersion) || toVersion < 1) {
        console.error(`--to must be a version number, got "${opts.to}"`);
        process.exitCode = 2;
        return;
      }
      await withDb(async () => {
        if (!(await getJourneyPlan(journeyId, toVersion))) {
          console.error(`journey "${journeyId}" has no version ${toVersion} (see \`sojourn journeys list\`)`);
          process.exitCode = 1;
          return;
        }
        const { connection, client } = await connectTemporal(loadConfig());
        try {
          const plan = await planMigration(journeyId, toVersion, await listRunningRuns(client, journeyId));
          if (opts.dryRun) {
            console.log(opts.format === 'json' ? JSON.stringify(plan, null, 2) : `${formatMigrationPlan(plan)}\n(dry run: nothing moved)`);
            return;
          }
          const out = await executeMigration(client, plan);
          if (opts.format === 'json') console.log(JSON.stringify(out, null, 2));
          else {
            console.log(`${journeyId}: moved ${out.moved.length} run(s) to version ${toVersion}; ${out.notMoved.length} stayed (recorded as ${out.migrationId})`);
            const reasons = new Map<string, number>();
            for (const n of out.notMoved) reasons.set(`v${n.fromVersion} at ${n.step ?? '(entry)'}: ${n.reason}`, (reasons.get(`v${n.fromVersion} at ${n.step ?? '(entry)'}: ${n.reason}`) ?? 0) + 1);
            for (const [r, n] of reasons) console.log(`  stayed: ${n} x ${r}`);
          }
          if (out.notMoved.some((n) => !n.reason.startsWith('already on version'))) process.exitCode = 1;
        } finally {
          await connection.close();
        }
      });
    });
  journeys
    .command('rollback')
    .argument('<journey>')
    .description('Make the version before the live one live again (runs keep their version; migrate moves them)')
    .action(async (journeyId: string) => {
      await withDb(async () => {
        const r = await rollbackJourney(journeyId);
        if (r.status === 'unknown_journey') {
          console.error(`unknown journey "${journeyId}"`);
          process.exitCode = 1;
          return;
        }
        if (r.status === 'no_previous_version') {
          console.error(`${journeyId}: version ${r.live} is the first; nothing to roll back to`);
          process.exitCode = 1;
          return;
        }
        let note = '';
        try {
          const cfg = loadConfig();
          const { connection, client } = await connectTemporal(cfg);
          try {
            const j = await getJourney(journeyId);
            const change = await registerJourneySchedule(client, r.plan, { taskQueue: cfg.taskQueue, paused: j?.paused ?? false });
            if (change !== 'none') note = `; schedule ${change}`;
          } finally {
            await connection.close();
          }
        } catch (err) {
          note = `; schedule not changed (${(err as Error).message.split('\n')[0]})`;
        }
        console.log(`${journeyId}: version ${r.to} is live again (was ${r.from})${note}. Running runs keep their version: \`sojourn journeys migrate ${journeyId} --to ${r.to}\` moves them.`);
      });
    });
}
