/**
 * `sojourn contacts import` through the command line as a person runs it: Ctrl-C in the middle of a
 * file (SIGINT to the whole process group, as a terminal sends it), then the same command again. The
 * second run resumes after the last committed row: every address once, none missing, and counts for the
 * whole file. On a terminal the import shows a progress bar with the rate and the ETA.
 */
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mongoose from 'mongoose';
import { ContactModel } from '../../../data/contact-model';
import { ContactKeyModel } from '../../../data/contact-keys';
import { useContactsDatabase } from './setup';

const run = promisify(execFile);
const bin = path.join(__dirname, '..', '..', '..', 'bin', 'sojourn');
const ROWS = 4000;
const DISTINCT = 3500; // the last 500 rows repeat addresses of the first 500 (in another case)

describe('Ctrl-C in the middle of `sojourn contacts import`, then the same command again', () => {
  const { db } = useContactsDatabase('cli_resume');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-cli-resume-'));
  const file = path.join(dir, 'people.csv');
  const lines = ['email,first_name,consent_email'];
  for (let i = 0; i < ROWS; i++) lines.push(i < DISTINCT ? `person${i}@example.com,P${i},yes` : `PERSON${i - DISTINCT}@Example.com,Again${i},`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  const env = { ...process.env, MONGODB_URI: db.uri };
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stops after the batch being written, and the next run imports the rest: no duplicate, no gap', async () => {
    const child = spawn(bin, ['contacts', 'import', file, '--batch-size', '250', '--format', 'json'], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Ctrl-C once the first batch is committed (its checkpoint is in the database).
    const checkpoints = mongoose.connection.collection('import_checkpoints');
    const deadline = Date.now() + 120_000;
    while (!(await checkpoints.findOne({}))) {
      if (Date.now() > deadline) throw new Error(`no checkpoint within 120 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(-child.pid!, 'SIGINT');
    const code = await exited;
    expect(stderr).toContain('stopping after the current batch');
    expect(code).toBe(130);
    const first = JSON.parse(stdout) as { rows: number; created: number; interrupted?: boolean };
    expect(first.interrupted).toBe(true);
    expect(first.rows).toBeGreaterThanOrEqual(250);
    expect(first.rows).toBeLessThan(ROWS);
    // Nothing is written after the command has returned: the import stopped with it.
    const stored = await ContactModel.countDocuments();
    expect(stored).toBe(Math.min(first.rows, DISTINCT));
    await new Promise((r) => setTimeout(r, 1500));
    expect(await ContactModel.countDocuments()).toBe(stored);
    expect(await checkpoints.findOne({})).toMatchObject({ row: first.rows + 1 });

    const { stdout: out2 } = await run(bin, ['contacts', 'import', file, '--batch-size', '250', '--format', 'json'], { env });
    const second = JSON.parse(out2) as Record<string, unknown>;
    expect(second).toMatchObject({ rows: ROWS, created: DISTINCT, duplicates: ROWS - DISTINCT, updated: 0, unchanged: 0, rejected: 0, resumedAfterRow: first.rows + 1 });
    expect(second.interrupted).toBeUndefined();
    // Every address once, none missing; each with its pointer; the checkpoint is gone.
    expect(await ContactModel.countDocuments()).toBe(DISTINCT);
    expect(await ContactKeyModel.countDocuments()).toBe(DISTINCT);
    const keys = new Set((await ContactModel.find({}, { emailKey: 1 }).lean()).map((c) => c.emailKey));
    for (let i = 0; i < DISTINCT; i++) if (!keys.has(`person${i}@example.com`)) throw new Error(`person${i} is missing`);
    expect((await ContactModel.findOne({ emailKey: 'person3@example.com' }).lean())?.firstName).toBe('Again3503');
    expect(await checkpoints.countDocuments()).toBe(0);
  }, 300_000);

  it('shows a progress bar with rows, rate and ETA on a terminal', async () => {
    // `script` gives the command a pseudo-terminal, as a person's shell does.
    const { stdout } = await run('script', ['-qfec', `${bin} contacts import ${file} --dry-run --batch-size 250`, '/dev/null'], { env, maxBuffer: 1 << 24 });
    expect(stdout).toMatch(/importing \[[█░]+\] +\d+% \| \d+\/4000 rows \| \d+ rows\/s \| ETA \S+/);
    expect(stdout).toContain('| 4000/4000 rows |');
    expect(stdout).toContain('Dry run (nothing written): 4000 rows');
  }, 120_000);
});
