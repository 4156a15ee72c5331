/**
 * CSV imports started over HTTP (`POST /v1/imports`): the upload is written to a spool file while its
 * lines are counted, a job document (`import_jobs`, `_id` = job id) is created, and the same importer
 * as `sojourn contacts import` (data/import.ts) runs on the file in the background, writing its
 * progress (rows done) to the job. `GET /v1/imports/{id}` derives rate and ETA from it and, when done,
 * returns the importer's summary: the report of `sojourn contacts import --format json`.
 *
 * A job is run by the process that received it; one interrupted by a restart stays `running` with a
 * stale `heartbeatAt` (the answer says so) and is uploaded again by the client.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import mongoose, { Schema, type Model } from 'mongoose';
import { importContacts, type ImportSummary, type RowError } from './import';
import type { Contacts } from './contacts';

export type ImportState = 'queued' | 'running' | 'done' | 'failed';

export interface ImportJobDoc {
  _id: string;
  state: ImportState;
  dryRun: boolean;
  rowsTotal: number;
  rowsDone: number;
  createdAt: Date;
  startedAt: Date | null;
  heartbeatAt: Date | null;
  finishedAt: Date | null;
  /** The importer's summary as JSON text (its counts are keyed by names such as `consent.email`, and FerretDB refuses keys with a dot). */
  summaryJson: string | null;
  rowErrors: RowError[];
  error: string | null;
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
    heartbeatAt: { type: Date, default: null },
    finishedAt: { type: Date, default: null },
    summaryJson: { type: String, default: null },
    rowErrors: { type: Schema.Types.Mixed, default: [] },
    error: { type: String, default: null },
  },
  { collection: 'import_jobs', strict: true, versionKey: false, minimize: false },
);
export const ImportJobModel: Model<ImportJobDoc> = (mongoose.models.ImportJob as Model<ImportJobDoc> | undefined) ?? mongoose.model<ImportJobDoc>('ImportJob', schema);

/** Rejected rows kept on the job (the rest are counted in the summary). */
export const ERRORS_KEPT = 100;

export interface StartedImport { id: string; done: Promise<void> }

/** Spools the upload, creates the job and starts the import; resolves once the job exists. */
export async function startImportJob(upload: Readable, contacts: Contacts, opts: { map?: Record<string, string>; dryRun?: boolean; spoolDir?: string; progressEveryMs?: number } = {}): Promise<StartedImport> {
  const id = `imp_${randomBytes(12).toString('hex')}`;
  const dir = opts.spoolDir ?? path.join(os.tmpdir(), 'sojourn-imports');
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
  await ImportJobModel.collection.insertOne({ _id: id, state: 'queued', dryRun: Boolean(opts.dryRun), rowsTotal, rowsDone: 0, createdAt, startedAt: null, heartbeatAt: null, finishedAt: null, summaryJson: null, rowErrors: [], error: null } as never);

  const every = opts.progressEveryMs ?? 500;
  const done = (async () => {
    const errors: RowError[] = [];
    let lastWrite = 0;
    let pending: Promise<unknown> = Promise.resolve();
    try {
      await ImportJobModel.updateOne({ _id: id }, { $set: { state: 'running', startedAt: new Date(), heartbeatAt: new Date() } });
      const summary = await importContacts(fs.createReadStream(file), contacts, {
        map: opts.map,
        dryRun: opts.dryRun,
        source: 'import:api',
        onProgress: (rowsDone) => {
          if (Date.now() - lastWrite < every) return;
          lastWrite = Date.now();
          pending = pending.then(() => ImportJobModel.updateOne({ _id: id }, { $set: { rowsDone, heartbeatAt: new Date() } })).catch(() => undefined);
        },
        onRowError: (e) => {
          if (errors.length < ERRORS_KEPT) errors.push(e);
        },
      });
      await pending;
      await ImportJobModel.updateOne({ _id: id }, { $set: { state: 'done', rowsDone: summary.rows, summaryJson: JSON.stringify(summary), rowErrors: errors, finishedAt: new Date(), heartbeatAt: new Date() } });
    } catch (err) {
      await pending;
      await ImportJobModel.updateOne({ _id: id }, { $set: { state: 'failed', error: err instanceof Error ? err.message : String(err), rowErrors: errors, finishedAt: new Date() } }).catch(() => undefined);
    } finally {
      fs.rmSync(file, { force: true });
    }
  })();
  return { id, done };
}

export interface ImportProgress extends Omit<ImportJobDoc, '_id' | 'heartbeatAt' | 'rowErrors' | 'summaryJson'> {
  id: string;
  summary: ImportSummary | null;
  errors: RowError[];
  ratePerSecond: number | null;
  etaSeconds: number | null;
}

/** The job with its rate (rows/s since it started) and ETA; null: no such job. */
export async function importProgress(id: string, now = new Date()): Promise<ImportProgress | null> {
  const j = await ImportJobModel.findById(id).lean<ImportJobDoc>().exec();
  if (!j) return null;
  const { _id, heartbeatAt: _h, rowErrors, summaryJson, ...rest } = j;
  const end = j.finishedAt ?? now;
  const seconds = j.startedAt ? (end.getTime() - new Date(j.startedAt).getTime()) / 1000 : 0;
  const rate = j.startedAt && seconds > 0 ? j.rowsDone / seconds : null;
  const eta = j.state === 'done' ? 0 : rate && rate > 0 ? Math.max(0, (j.rowsTotal - j.rowsDone) / rate) : null;
  return { ...rest, id: _id, summary: summaryJson ? (JSON.parse(summaryJson) as ImportSummary) : null, errors: rowErrors ?? [], ratePerSecond: rate === null ? null : Math.round(rate * 10) / 10, etaSeconds: eta === null ? null : Math.round(eta) };
}
