/**
 * CSV imports started over HTTP (`POST /v1/imports`): the upload is written to a spool file while its
 * lines are counted, a job document (`import_jobs`, `_id` = job id) is created, and the same importer
 * as `sojourn contacts import` (data/import.ts) runs on the file in the background, writing its
 * progress (rows done) to the job. `GET /v1/imports/{id}` derives rate and ETA from it and, when done,
 * returns the importer's summary: the report of `sojourn contacts import --format json`.
 *
 * A server that stops while a job runs (a crash, a deploy, SIGKILL) does not leave it `running`
 * forever. The process running a job owns it (`owner`) and refreshes `heartbeatAt` every few seconds;
 * each process serving the API checks at start-up and then periodically (startImportRecovery) for
 * queued or running jobs whose heartbeat is older than `staleAfterMs`, claims each with a
 * compare-and-set on (owner, heartbeatAt), so exactly one process takes it, and:
 * - resumes it when its spool file is still there: the importer continues after the last committed
 *   window (data/import-checkpoint.ts, keyed by the job id), so no row is written twice or skipped and
 *   the summary covers the whole file (`summary.resumedAfterRow` says where it went on; `restarts`
 *   counts the take-overs);
 * - otherwise (the file lived on another machine, or was lost) marks it `failed` with
 *   `E_IMPORT_INTERRUPTED` and the rows done so far; uploading the file again is safe (rows already
 *   imported merge by address, nobody is duplicated).
 * A job taken over after MAX_RESTARTS is failed too, so a file that kills its server cannot loop.
 * A runner that finds it no longer owns its job (it was paused longer than `staleAfterMs` and another
 * process took over) stops after the window it is writing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import mongoose, { Schema, type Model } from 'mongoose';
import { importContacts, type ImportSummary, type RowError } from './import';
import type { Contacts } from './contacts';
import { importCheckpoints } from './import-checkpoint';

export type ImportState = 'queued' | 'running' | 'done' | 'failed';

export interface ImportJobDoc {
  _id: string;
  state: ImportState;
  dryRun: boolean;
  rowsTotal: number;
  rowsDone: number;
  createdAt: Date;
  startedAt: Date | null;
  /** Refreshed by the running process; a stale one means that process is gone. */
  heartbeatAt: Date;
  finishedAt: Date | null;
  /** The importer's summary as JSON text (its counts are keyed by names such as `consent.email`, and FerretDB refuses keys with a dot). */
  summaryJson: string | null;
  rowErrors: RowError[];
  error: string | null;
  /** The process running the job (a random id per process). */
  owner: string;
  /** Times another process took the job over after its runner stopped. */
  restarts: number;
  /** The uploaded file on the machine that received it (deleted when the job ends). */
  spoolFile: string;
  /** The column mapping as JSON text (column names may hold dots). */
  mapJson: string;
}

const schema = new Schema<ImportJobDoc>(
  {
    _id: { type: String, required: true },
    state: { type: String, required: true },
    dryRun: { type: Boolean, default: false },
    rowsTotal: { type: Number, default: 0 },
    rowsDone: { type: Number, default: 0 },
    createdAt: { type: Date, required: true },
    startedAt: { type: Date, default: null },
    heartbeatAt: { type: Date, required: true },
    finishedAt: { type: Date, default: null },
    summaryJson: { type: String, default: null },
    rowErrors: { type: Schema.Types.Mixed, default: [] },
    error: { type: String, default: null },
    owner: { type: String, required: true },
    restarts: { type: Number, default: 0 },
    spoolFile: { type: String, required: true },
    mapJson: { type: String, default: '{}' },
  },
  { collection: 'import_jobs', strict: true, versionKey: false, minimize: false },
);
export const ImportJobModel: Model<ImportJobDoc> = (mongoose.models.ImportJob as Model<ImportJobDoc> | undefined) ?? mongoose.model<ImportJobDoc>('ImportJob', schema);

/** Rejected rows kept on the job (the rest are counted in the summary). */
export const ERRORS_KEPT = 100;
/** Take-overs after which a job is failed instead of resumed again. */
export const MAX_RESTARTS = 3;

/** This process, as the owner of the jobs it runs. */
const INSTANCE = randomUUID();

/** Timing of job heartbeats and take-overs; the defaults suit production, tests shorten them. */
export interface ImportJobTiming {
  /** How often a running job's heartbeat (and rows done) is written. Default 2 s. */
  heartbeatMs?: number;
  /** A queued or running job whose heartbeat is older than this is taken over. Default 30 s. */
  staleAfterMs?: number;
  /** Rows per committed window (a checkpoint after each). Default 10,000. */
  batchSize?: number;
}

export interface ImportJobOptions extends ImportJobTiming {
  map?: Record<string, string>;
  dryRun?: boolean;
  spoolDir?: string;
}

export interface StartedImport { id: string; done: Promise<void> }

const defaultSpoolDir = () => path.join(os.tmpdir(), 'sojourn-imports');
const checkpointId = (jobId: string) => `job:${jobId}`;

/** Spools the upload, creates the job and starts the import; resolves once the job exists. */
export async function startImportJob(upload: Readable, contacts: Contacts, opts: ImportJobOptions = {}): Promise<StartedImport> {
  const id = `imp_${randomBytes(12).toString('hex')}`;
  const dir = opts.spoolDir ?? defaultSpoolDir();
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${id}.csv`);
  let lines = 0;
  let last = 10;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      for (const b of chunk) if ((last = b) === 10) lines++;
      cb(null, chunk);
    },
  });
  await pipeline(upload, counter, fs.createWriteStream(file, { mode: 0o600 }));
  const rowsTotal = Math.max(0, (last === 10 ? lines : lines + 1) - 1);
  const createdAt = new Date();
  const doc: ImportJobDoc = {
    _id: id, state: 'queued', dryRun: Boolean(opts.dryRun), rowsTotal, rowsDone: 0, createdAt, startedAt: null, heartbeatAt: createdAt,
    finishedAt: null, summaryJson: null, rowErrors: [], error: null, owner: INSTANCE, restarts: 0, spoolFile: file, mapJson: JSON.stringify(opts.map ?? {}),
  };
  await ImportJobModel.collection.insertOne(doc as never);
  return { id, done: runJob(doc, contacts, opts) };
}

/** Jobs this process runs, so closing the server stops them cleanly (and another process resumes them). */
const running = new Map<string, { stop: AbortController; done: Promise<void> }>();

/** Runs (or resumes) a job this process owns, until it is done, failed, or no longer ours. */
function runJob(job: ImportJobDoc, contacts: Contacts, timing: ImportJobTiming): Promise<void> {
  const id = job._id;
  const heartbeatMs = timing.heartbeatMs ?? 2_000;
  const stop = new AbortController();
  const mine = { _id: id, owner: INSTANCE };
  const done = (async () => {
    // Rejected rows by row number: a window redone after a take-over reports its rows again.
    const errors = new Map<number, RowError>((job.rowErrors ?? []).map((e) => [e.row, e]));
    let errorsStored = true;
    const keepError = (e: RowError) => {
      if (errors.size < ERRORS_KEPT || errors.has(e.row)) {
        errors.set(e.row, e);
        errorsStored = false;
      }
    };
    const errorList = () => [...errors.values()].sort((a, b) => a.row - b.row);
    let rowsDone = job.rowsDone;
    let writes: Promise<unknown> = Promise.resolve();
    const beat = () => {
      writes = writes
        .then(() => ImportJobModel.updateOne(mine, { $set: { rowsDone, heartbeatAt: new Date(), rowErrors: errorList() } }))
        .then((r) => {
          // Another process took the job over (this one was paused past staleAfterMs): let it finish.
          if (r.matchedCount === 0) stop.abort();
        })
        .catch(() => undefined);
    };
    const timer = setInterval(beat, heartbeatMs);
    timer.unref();
    try {
      const claimed = await ImportJobModel.updateOne(mine, { $set: { state: 'running', startedAt: job.startedAt ?? new Date(), heartbeatAt: new Date() } });
      if (claimed.matchedCount === 0) return;
      const file = job.spoolFile;
      const summary = await importContacts((start) => fs.createReadStream(file, { start }), contacts, {
        map: JSON.parse(job.mapJson || '{}') as Record<string, string>,
        dryRun: job.dryRun,
        source: 'import:api',
        batchSize: timing.batchSize,
        resume: { fileId: checkpointId(id) },
        signal: stop.signal,
        onProgress: (n) => {
          rowsDone = n;
        },
        onRowError: keepError,
        // The rejected rows of a window are stored before its checkpoint: a server killed between the two
        // would otherwise resume after rows whose errors the heartbeat had not written yet.
        beforeCheckpoint: async () => {
          if (errorsStored) return;
          errorsStored = true;
          await ImportJobModel.updateOne(mine, { $set: { rowErrors: errorList() } });
        },
      });
      clearInterval(timer);
      await writes;
      if (summary.interrupted) {
        // Stopped by a server shutdown (or a take-over): the heartbeat is left stale on purpose, so the
        // next process serving the API resumes it from the checkpoint at once.
        await ImportJobModel.updateOne(mine, { $set: { rowsDone: summary.rows, rowErrors: errorList(), heartbeatAt: new Date(0) } });
        return;
      }
      await ImportJobModel.updateOne(mine, { $set: { state: 'done', rowsDone: summary.rows, summaryJson: JSON.stringify(summary), rowErrors: errorList(), finishedAt: new Date(), heartbeatAt: new Date() } });
      fs.rmSync(file, { force: true });
    } catch (err) {
      clearInterval(timer);
      await writes;
      await ImportJobModel.updateOne(mine, { $set: { state: 'failed', error: err instanceof Error ? err.message : String(err), rowErrors: errorList(), finishedAt: new Date() } }).catch(() => undefined);
      await importCheckpoints.clear(checkpointId(id)).catch(() => undefined);
      fs.rmSync(job.spoolFile, { force: true });
    } finally {
      clearInterval(timer);
      running.delete(id);
    }
  })();
  running.set(id, { stop, done });
  return done;
}

export interface RecoveredImports { resumed: string[]; failed: string[] }

/**
 * Takes over queued and running jobs whose runner stopped (stale heartbeat): resumes those whose spool
 * file is on this machine, fails the others with E_IMPORT_INTERRUPTED. Safe to run in many processes.
 */
export async function recoverImportJobs(contacts: Contacts, timing: ImportJobTiming = {}): Promise<RecoveredImports> {
  const cutoff = new Date(Date.now() - (timing.staleAfterMs ?? 30_000));
  // import_jobs holds one small document per upload; this filter runs every staleAfterMs, not per request.
  // (Jobs written before heartbeats were kept have none: they are taken over too.)
  const stale = await ImportJobModel.find({ state: { $in: ['queued', 'running'] }, $or: [{ heartbeatAt: { $lt: cutoff } }, { heartbeatAt: null }] }).lean<ImportJobDoc[]>().exec();
  const out: RecoveredImports = { resumed: [], failed: [] };
  for (const j of stale) {
    const now = new Date();
    const claim = await ImportJobModel.updateOne({ _id: j._id, owner: j.owner ?? null, heartbeatAt: j.heartbeatAt ?? null, state: j.state }, { $set: { owner: INSTANCE, heartbeatAt: now }, $inc: { restarts: 1 } });
    if (claim.modifiedCount !== 1) continue; // another process took it first
    const restarts = (j.restarts ?? 0) + 1;
    if (restarts <= MAX_RESTARTS && j.spoolFile && fs.existsSync(j.spoolFile)) {
      void runJob({ ...j, owner: INSTANCE, restarts, heartbeatAt: now }, contacts, timing);
      out.resumed.push(j._id);
      continue;
    }
    const why = restarts > MAX_RESTARTS ? `it was interrupted ${restarts} times` : 'its uploaded file is gone (it was received by another machine, or lost)';
    await ImportJobModel.updateOne({ _id: j._id, owner: INSTANCE }, {
      $set: {
        state: 'failed', finishedAt: now,
        error: `E_IMPORT_INTERRUPTED: the server running this import stopped and ${why}; ${j.rowsDone} rows were read. Upload the file again: rows already imported are merged by address, nobody is duplicated.`,
      },
    });
    await importCheckpoints.clear(checkpointId(j._id));
    if (j.spoolFile) fs.rmSync(j.spoolFile, { force: true });
    out.failed.push(j._id);
  }
  return out;
}

/**
 * Runs recoverImportJobs now and then every `staleAfterMs`; `stop` ends the checks and stops this
 * process's running jobs after their current window (their checkpoints let the next process resume them).
 */
export function startImportRecovery(contacts: Contacts, timing: ImportJobTiming & { onError?: (err: unknown) => void; onRecovered?: (r: RecoveredImports) => void } = {}): { stop(): Promise<void> } {
  let stopped = false;
  let current: Promise<void> = Promise.resolve();
  const check = () => {
    if (stopped) return;
    current = recoverImportJobs(contacts, timing).then(
      (r) => {
        if (r.resumed.length || r.failed.length) timing.onRecovered?.(r);
      },
      (err: unknown) => timing.onError?.(err),
    );
  };
  check();
  const timer = setInterval(check, timing.staleAfterMs ?? 30_000);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current;
      const jobs = [...running.values()];
      for (const j of jobs) j.stop.abort();
      await Promise.all(jobs.map((j) => j.done));
    },
  };
}

export interface ImportProgress {
  id: string;
  state: ImportState;
  dryRun: boolean;
  rowsTotal: number;
  rowsDone: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
  restarts: number;
  summary: ImportSummary | null;
  errors: RowError[];
  ratePerSecond: number | null;
  etaSeconds: number | null;
}

/** The job with its rate (rows/s since it started) and ETA; null: no such job. */
export async function importProgress(id: string, now = new Date()): Promise<ImportProgress | null> {
  const j = await ImportJobModel.findById(id).lean<ImportJobDoc>().exec();
  if (!j) return null;
  const end = j.finishedAt ?? now;
  const seconds = j.startedAt ? (end.getTime() - new Date(j.startedAt).getTime()) / 1000 : 0;
  const rate = j.startedAt && seconds > 0 ? j.rowsDone / seconds : null;
  const eta = j.state === 'done' ? 0 : rate && rate > 0 ? Math.max(0, (j.rowsTotal - j.rowsDone) / rate) : null;
  return {
    id: j._id, state: j.state, dryRun: j.dryRun, rowsTotal: j.rowsTotal, rowsDone: j.rowsDone, createdAt: j.createdAt, startedAt: j.startedAt,
    finishedAt: j.finishedAt, error: j.error, restarts: j.restarts ?? 0,
    summary: j.summaryJson ? (JSON.parse(j.summaryJson) as ImportSummary) : null,
    errors: j.rowErrors ?? [],
    ratePerSecond: rate === null ? null : Math.round(rate * 10) / 10,
    etaSeconds: eta === null ? null : Math.round(eta),
  };
}
