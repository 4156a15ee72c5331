/**
 * An import job whose server dies (SIGKILL, mid-file) is not left `running`: the next process serving
 * the API takes it over, resumes it from its last committed window and finishes it with the counts of
 * the whole file, no contact twice; a job whose uploaded file is gone is failed with
 * E_IMPORT_INTERRUPTED. The API runs as real processes (api-process.ts) on the test's database.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { useContactsDatabase } from '../contacts/setup';
import { ContactModel } from '../../../data/contact-model';
import { API_KEY } from './api-server';

jest.setTimeout(150_000);

interface ApiProcess { child: ChildProcess; url: string }

describe('an import job when its server stops', () => {
  const { db } = useContactsDatabase('import_restart');
  const spool = fs.mkdtempSync(path.join(os.tmpdir(), 'import-restart-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    fs.rmSync(spool, { recursive: true, force: true });
  });

  const startApi = (): Promise<ApiProcess> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'api-process.ts')], {
        env: { ...process.env, MONGODB_URI: db.uri, IMPORT_SPOOL_DIR: spool, IMPORT_HEARTBEAT_MS: '200', IMPORT_STALE_AFTER_MS: '1500', IMPORT_BATCH_SIZE: '250', LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let out = '';
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (process.env.DEBUG_IMPORT_RESTART) process.stderr.write(d);
      });
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening (\S+)/.exec(out);
        if (m) resolve({ child, url: m[1] });
      });
      child.on('exit', (code) => reject(new Error(`API process exited (${code}) before listening: ${err}`)));
    });
  const call = async (api: ApiProcess, method: string, url: string, body?: string) => {
    const res = await fetch(api.url + url, { method, headers: { authorization: `Bearer ${API_KEY}`, ...(body ? { 'content-type': 'text/csv' } : {}) }, body });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> & { state: string; rowsDone: number } };
  };
  const poll = async (api: ApiProcess, id: string, until: (j: { state: string; rowsDone: number }) => boolean, ms = 60_000) => {
    const end = Date.now() + ms;
    for (;;) {
      const j = (await call(api, 'GET', `/v1/imports/${id}`)).json;
      if (process.env.DEBUG_IMPORT_RESTART) console.log(new Date().toISOString(), JSON.stringify({ ...j, errors: undefined }));
      if (until(j) || Date.now() > end) return j;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const killed = (c: ChildProcess) => new Promise<void>((r) => {
    c.once('exit', () => r());
    c.kill('SIGKILL');
  });

  // 3,000 rows: 2,500 distinct addresses, 497 repeats, and a bad address every 1,000th row.
  const rows = ['email,first_name,consent_email'];
  const bad: number[] = [];
  const distinct = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    if (i % 1000 === 999) {
      rows.push(`not-an-address-${i},Bad,yes`);
      bad.push(i + 2);
    } else {
      const email = `restart${i % 2500}@example.com`;
      distinct.add(email);
      rows.push(`${email},N${i},yes`);
    }
  }
  const csv = `${rows.join('\n')}\n`;

  it('is resumed by the next server from its last committed window: whole-file counts, nobody twice', async () => {
    const a = await startApi();
    const started = await call(a, 'POST', '/v1/imports', csv);
    expect(started.status).toBe(202);
    const id = started.json.id as string;
    const midway = await poll(a, id, (j) => j.rowsDone >= 750 || j.state !== 'running' && j.state !== 'queued');
    expect(midway.state).toBe('running');
    await killed(a.child);
    const before = await ContactModel.countDocuments();
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(distinct.size); // it really stopped mid-file

    const b = await startApi();
    const job = await poll(b, id, (j) => j.state === 'done' || j.state === 'failed');
    expect(job).toMatchObject({ state: 'done', restarts: 1, error: null, rowsDone: 3000 });
    const summary = job.summary as Record<string, number>;
    expect(summary).toMatchObject({ rows: 3000, created: distinct.size, duplicates: 3000 - bad.length - distinct.size, rejected: bad.length, rejectedByReason: { E_EMAIL_SYNTAX: bad.length } });
    expect(summary.resumedAfterRow).toBeGreaterThan(250);
    expect((job.errors as { row: number }[]).map((e) => e.row)).toEqual(bad);
    expect(await ContactModel.countDocuments()).toBe(distinct.size);
    expect(fs.readdirSync(spool)).toEqual([]); // the spool file is removed when the job ends
    await killed(b.child);
  });

  it('is failed with E_IMPORT_INTERRUPTED when its uploaded file is gone, naming the rows read', async () => {
    const a = await startApi();
    const id = (await call(a, 'POST', '/v1/imports', csv.replaceAll('restart', 'gone'))).json.id as string;
    expect((await poll(a, id, (j) => j.rowsDone >= 500 || j.state !== 'running' && j.state !== 'queued')).state).toBe('running');
    await killed(a.child);
    // The file was on a machine that is gone (here: deleted).
    for (const f of fs.readdirSync(spool)) fs.rmSync(path.join(spool, f));

    const b = await startApi();
    const job = await poll(b, id, (j) => j.state === 'done' || j.state === 'failed');
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(/^E_IMPORT_INTERRUPTED: .*its uploaded file is gone.* \d+ rows were read\. Upload the file again/);
    expect(job.finishedAt).not.toBeNull();
    await killed(b.child);
  });
});
