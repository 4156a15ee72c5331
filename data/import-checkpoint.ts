/**
 * Where a CSV import has got to, so an interrupted import (Ctrl-C, a crash, a lost connection) resumes
 * instead of starting over: one document per file in `import_checkpoints`, keyed by `_id` = the
 * SHA-256 of the file's bytes, written after every committed window of rows. It holds the byte offset
 * and row number just past the last committed row, the header, the options that shape the result and
 * the summary so far. Resuming reads the file from that offset: rows before it are never read again
 * (no duplicates in the summary or the report), rows after it were not committed (no gap). A window
 * that was half written when the process died is written again; that is safe because every contact
 * write is idempotent (inserts under the unique emailKey, compare-and-set updates, deterministic
 * consent record ids). A finished import deletes its checkpoint, so importing the same file again is
 * a fresh (and idempotent) run.
 *
 * The summary is stored as JSON text: its counts are keyed by field names such as `consent.email` and
 * `attributes.plan`, and FerretDB (like MongoDB before 5.0) refuses keys with a dot.
 */
import mongoose from 'mongoose';

export interface ImportCheckpoint<S> {
  _id: string;
  /** The run's id: contacts it wrote carry importToken "<runId>:<window>". */
  runId: string;
  /** Number of the last committed window (the next one written gets the next number). */
  window?: number;
  /** Byte offset just past the last committed record. */
  offset: number;
  /** Physical line number of the next line to read. */
  line: number;
  /** Row number of the last committed record (the header is row 1). */
  row: number;
  header: string[];
  /** The options that change what a row does (mapping, strictness, readers); a different value restarts. */
  optionsKey: string;
  summary: S;
  updatedAt: Date;
}

const collection = () => mongoose.connection.collection<{ _id: string }>('import_checkpoints');

/** The checkpoint store; a keyed read and a keyed upsert by `_id`, so its cost does not grow with anything. */
export const importCheckpoints = {
  async load<S>(fileId: string): Promise<ImportCheckpoint<S> | null> {
    const doc = (await collection().findOne({ _id: fileId })) as (Omit<ImportCheckpoint<S>, 'summary'> & { summaryJson?: string }) | null;
    if (!doc || typeof doc.summaryJson !== 'string') return null;
    const { summaryJson, ...rest } = doc;
    return { ...rest, summary: JSON.parse(summaryJson) as S };
  },
  async save<S>(cp: ImportCheckpoint<S>): Promise<void> {
    const { _id, summary, ...rest } = cp;
    await collection().updateOne({ _id }, { $set: { ...rest, summaryJson: JSON.stringify(summary) } }, { upsert: true });
  },
  async clear(fileId: string): Promise<void> {
    await collection().deleteOne({ _id: fileId });
  },
};
