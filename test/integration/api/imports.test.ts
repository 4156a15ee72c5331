/**
 * CSV imports over HTTP, driven the way a user does: `sojourn contacts upload` (the typed client)
 * against the real API, compared with `sojourn contacts import` on the same file: the same importer
 * gives the same report.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { useApiServer, API_KEY } from './api-server';
import { ContactModel } from '../../../data/contact-model';

jest.setTimeout(180_000);
const run = promisify(execFile);
const bin = path.join(process.cwd(), 'bin', 'sojourn');

describe('imports over HTTP', () => {
  const api = useApiServer('api_imports');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-imports-'));
  const file = path.join(dir, 'people.csv');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  beforeAll(() => {
    const rows = ['email,first_name,tags,consent_email'];
    for (let i = 0; i < 300; i++) rows.push(`up${i}@example.com,Up${i},imported,yes`);
    rows.push('up1@example.com,Again,,', 'not-an-address,Bad,,', 'bad-consent@example.com,X,,maybe');
    fs.writeFileSync(file, `${rows.join('\n')}\n`);
  });

  const env = () => ({ ...process.env, SOJOURN_ENV: 'development', SOJOURN_API_KEY: API_KEY, MONGODB_URI: api.db.uri });

  it('reports the same as the CLI import for the same file, with progress, then imports it', async () => {
    const viaCli = await run(bin, ['contacts', 'import', file, '--dry-run', '--format', 'json'], { env: env() }).catch((e: { stdout: string }) => e);
    const viaApi = await run(bin, ['contacts', 'upload', file, '--dry-run', '--format', 'json', '--server', api.base(), '--poll-ms', '200'], { env: env() }).catch((e: { stdout: string; stderr: string }) => e);
    const cliSummary = JSON.parse(viaCli.stdout);
    const apiSummary = JSON.parse(viaApi.stdout);
    expect(apiSummary).toEqual(cliSummary);
    expect(apiSummary).toMatchObject({ rows: 303, created: 300, duplicates: 1, rejected: 2, dryRun: true });
    expect(await ContactModel.countDocuments()).toBe(0);

    const real = await run(bin, ['contacts', 'upload', file, '--format', 'json', '--server', api.base(), '--poll-ms', '200'], { env: env() }).catch((e: { stdout: string; stderr: string }) => e);
    expect(JSON.parse(real.stdout)).toMatchObject({ rows: 303, created: 300, rejected: 2, dryRun: false });
    expect(await ContactModel.countDocuments()).toBe(300);
  });

  it('answers a job with rows done, rate and ETA, and the first rejected rows with their row numbers', async () => {
    const started = await api.call('POST', '/v1/imports?dryRun=true', fs.readFileSync(file, 'utf8'));
    expect(started.status).toBe(202);
    const id = started.json().id;
    expect(started.json()).toMatchObject({ rowsTotal: 303, dryRun: true });
    let job = started.json();
    for (let i = 0; i < 300 && job.state !== 'done' && job.state !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      job = (await api.call('GET', `/v1/imports/${id}`)).json();
    }
    expect(job.error ?? null).toBeNull();
    expect(job.state).toBe('done');
    expect(job.rowsDone).toBe(303);
    expect(job.ratePerSecond).toBeGreaterThan(0);
    expect(job.etaSeconds).toBe(0);
    expect(job.errors.map((e: { row: number; code: string }) => e.row)).toEqual([303, 304]);
    const noCsv = await api.call('POST', '/v1/imports', { not: 'csv' });
    expect(noCsv.status).toBe(415);
    const badMap = await api.call('POST', '/v1/imports?map=email%3Dnope', 'email\na@example.com\n');
    expect(badMap.json().error).toMatchObject({ code: 'E_MAP', pointer: '/query/map' });
  });
});
