/**
 * `sojourn journeys list|pause|resume`: deployed journeys, their versions and which one is live.
 * Pausing refuses new entries (the dispatcher and scans check it) and pauses the journey's schedule;
 * runs already in flight continue. Exit codes: 0 ok, 1 unknown journey, 2 bad usage or a crash.
 */
import type { Command } from 'commander';
import { connectTemporal } from '../../lib/temporal-connection';
import { loadConfig } from '../../lib/config';
import { connectDatabase, disconnectDatabase } from '../../data/db';
import { journeySummaries, setJourneyPause } from '../../engine/journey-control';

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
  const journeys = program.command('journeys').description('List, pause and resume deployed journeys');
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
}
