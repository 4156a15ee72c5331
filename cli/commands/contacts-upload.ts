/**
 * `sojourn contacts upload <file.csv>`: imports a CSV through a running server's API (the typed client
 * in client/), for when the database is not reachable from where the file is: POST /v1/imports, then
 * polls the job and shows rows done, rate and ETA, and prints the importer's report (the same summary
 * as `sojourn contacts import`; `--format json` prints it as JSON). Exit codes: 0 ok, 1 rows were
 * rejected or the job failed, 2 bad usage or the server refused.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { createSojournClient } from '../../client';

export function registerUpload(contacts: Command): void {
  contacts
    .command('upload <file>')
    .description('Import a CSV through the HTTP API of a running server (POST /v1/imports), with progress')
    .option('--server <url>', 'server base URL', `http://127.0.0.1:${process.env.HTTP_PORT ?? '3000'}`)
    .option('--map <col=field...>', 'map a CSV column to a field (as for `contacts import`)', [])
    .option('--dry-run', 'check and count only; write nothing')
    .option('--format <format>', 'summary format: text or json', 'text')
    .option('--poll-ms <n>', 'how often progress is read', (v) => Number(v), 1000)
    .action(async (file: string, o: { server: string; map: string[]; dryRun?: boolean; format: string; pollMs: number }) => {
      if (!fs.existsSync(file)) {
        console.error(`no such file: ${file}`);
        process.exit(2);
      }
      const apiKey = process.env.SOJOURN_API_KEY ?? (process.env.SOJOURN_ENV === 'development' ? 'dev-api-key' : '');
      if (!apiKey) {
        console.error('SOJOURN_API_KEY must be set');
        process.exit(2);
      }
      const api = createSojournClient(o.server, apiKey);
      const started = await api.POST('/v1/imports', {
        params: { query: { dryRun: Boolean(o.dryRun), ...(o.map.length ? { map: o.map.join(',') } : {}) } },
        body: fs.readFileSync(file, 'utf8'),
        bodySerializer: (csv: string) => csv,
        headers: { 'content-type': 'text/csv' },
      });
      if (!started.data) {
        console.error(`the server refused the upload: ${JSON.stringify(started.error)}`);
        process.exit(2);
      }
      let job = started.data;
      while (job.state === 'queued' || job.state === 'running') {
        await new Promise((r) => setTimeout(r, o.pollMs));
        const r = await api.GET('/v1/imports/{id}', { params: { path: { id: job.id } } });
        if (!r.data) throw new Error(`could not read the import job: ${JSON.stringify(r.error)}`);
        job = r.data;
        const eta = job.etaSeconds === null ? '?' : `${job.etaSeconds} s`;
        process.stderr.write(`imported ${job.rowsDone}/${job.rowsTotal} rows, ${job.ratePerSecond ?? '?'} rows/s, ETA ${eta}\n`);
      }
      if (job.state === 'failed' || !job.summary) {
        console.error(`import ${job.id} failed: ${job.error ?? 'unknown error'}`);
        process.exitCode = 1;
        return;
      }
      const s = job.summary;
      if (o.format === 'json') console.log(JSON.stringify(s, null, 2));
      else {
        console.log(`${s.dryRun ? 'Dry run (nothing written): ' : ''}${s.rows} rows (job ${job.id})`);
        for (const k of ['created', 'updated', 'unchanged', 'duplicates', 'rejected'] as const) console.log(`  ${k.padEnd(18)} ${s[k] ?? 0}`);
        for (const [code, n] of Object.entries(s.rejectedByReason ?? {}).sort((a, b) => b[1] - a[1])) console.log(`    ${code.padEnd(24)} ${n}`);
        for (const e of job.errors.slice(0, 20)) console.log(`  row ${e.row}: ${e.code} (${e.field}) ${e.message}`);
      }
      process.exitCode = (s.rejected ?? 0) > 0 ? 1 : 0;
    });
}
