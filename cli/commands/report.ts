/**
 * `sojourn report <journey> [--since 7d] [--version N] [--format table|json|csv]`: the journey's funnel
 * per version and step, daily figures and experiments (engine/journey-report.ts; the same report as
 * GET /v1/reports/journeys/{id}, whose JSON `--format json` prints). Reads the database only.
 * Exit codes: 0 ok, 1 no such journey, 2 bad usage or a crash.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../lib/config';
import { connectDatabase, disconnectDatabase } from '../../data/db';
import { journeyReport, parseSince } from '../../engine/journey-report';
import { formatReportCsv, formatReportTable } from '../../engine/report-format';

export function register(program: Command): void {
  program
    .command('report')
    .description('Funnel per version and step, daily figures and experiment results of a journey')
    .argument('<journey>', 'journey id')
    .option('--since <days>', 'days back including today, 1d to 400d', '30d')
    .option('--version <n>', 'only this version')
    .option('--format <format>', 'table, json or csv', 'table')
    .action(async (journeyId: string, opts: { since: string; version?: string; format: string }) => {
      const sinceDays = parseSince(opts.since);
      const version = opts.version === undefined ? undefined : Number(opts.version);
      if (sinceDays === null || (version !== undefined && !(Number.isInteger(version) && version >= 1)) || !['table', 'json', 'csv'].includes(opts.format)) {
        console.error('usage: sojourn report <journey> [--since 1d..400d] [--version N] [--format table|json|csv]');
        process.exitCode = 2;
        return;
      }
      await connectDatabase(loadConfig().mongodbUri);
      try {
        const r = await journeyReport(journeyId, { sinceDays, version });
        if (!r.found) {
          console.error(`no journey "${journeyId}" is deployed`);
          process.exitCode = 1;
          return;
        }
        console.log(opts.format === 'json' ? JSON.stringify(r.report, null, 2) : opts.format === 'csv' ? formatReportCsv(r.report) : formatReportTable(r.report));
      } finally {
        await disconnectDatabase();
      }
    });
}
