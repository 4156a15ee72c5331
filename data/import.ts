/**
 * CSV import of contacts: streaming (csv-parse), in batches, deduplicated within the file and against
 * the database by the email dedupe key. Used by `sojourn contacts import` and the benchmark.
 *
 * Per window of rows (default 10,000): check every row (bad rows are reported with their row number
 * and reason), group rows that share a key and merge them in memory (same rules as the API:
 * data/contact-merge.ts), fetch only the contacts whose key is known to exist (a key set read once at
 * the start), then write consent evidence and unordered bulkWrites of 1,000 ops: new contacts as
 * insertOne under the unique emailKey index (a re-run or a concurrent create fails with E11000 instead
 * of duplicating), existing ones as compare-and-set updates on `rev` carrying a write token. Writes that
 * lost (E11000, token missing afterwards) are redone one row at a time through upsertContact, which
 * merges, so nothing is lost or overwritten. (Inserts rather than upserts keyed by emailKey: on
 * FerretDB/SQLite every filtered update scans the collection; see docs/data-model.md.)
 *
 * Each row lands in exactly one bucket: created, updated, unchanged, duplicate (a later row with a key
 * already seen in this file, merged into that contact) or rejected (by reason code).
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { Types } from 'mongoose';
import { ContactModel, type ContactDoc, type Channel } from './contact-model';
import { ConsentRecordModel } from './consent-model';
import { SuppressionModel, suppressionEntry } from './suppression-model';
import { prepareContact, type ContactInput, type PreparedContact, type InputConsentStatus } from './contact-input';
import { applyPlan, combinePlans, emptyContact, isEmptyPlan, planMerge, type MergePlan } from './contact-merge';
import { isDuplicateKeyError, type Contacts, ContactError } from './contacts';

/** Fields a CSV column can be mapped to (plus `attributes.<name>` and `ignore`). */
export const IMPORT_FIELDS = [
  'email', 'externalId', 'phone', 'phoneCountry', 'firstName', 'lastName', 'locale', 'timezone', 'birthday',
  'tags', 'channel', 'consent.email', 'consent.sms', 'consent.phone',
] as const;

const ALIASES: Record<string, string> = {
  email: 'email', e_mail: 'email', emailaddress: 'email', mail: 'email', 邮箱: 'email',
  externalid: 'externalId', external_id: 'externalId', id: 'externalId', customerid: 'externalId',
  phone: 'phone', mobile: 'phone', phonenumber: 'phone', 手机: 'phone', 电话: 'phone',
  phonecountry: 'phoneCountry', phone_country: 'phoneCountry', country: 'phoneCountry',
  firstname: 'firstName', first_name: 'firstName', givenname: 'firstName',
  lastname: 'lastName', last_name: 'lastName', surname: 'lastName', familyname: 'lastName',
  locale: 'locale', language: 'locale', timezone: 'timezone', time_zone: 'timezone', tz: 'timezone',
  birthday: 'birthday', birthdate: 'birthday', dob: 'birthday', 生日: 'birthday',
  tags: 'tags', channel: 'channel',
  consent_email: 'consent.email', 'consent.email': 'consent.email', email_consent: 'consent.email',
  consent_sms: 'consent.sms', 'consent.sms': 'consent.sms', consent_phone: 'consent.phone', 'consent.phone': 'consent.phone',
};

export interface ImportOptions {
  /** CSV column -> field (IMPORT_FIELDS, "attributes.<name>" or "ignore"); overrides the header guesses. */
  map?: Record<string, string>;
  dryRun?: boolean;
  /**
   * Rows read, grouped by key and looked up together (default 10,000). Duplicates inside one window are
   * merged in memory, so each contact is written once per window; writes go in chunks of 1,000.
   */
  batchSize?: number;
  source?: string;
  onProgress?: (rowsDone: number) => void;
  /** Called for every rejected row; `row` counts like a spreadsheet (the header is row 1). */
  onRowError?: (e: RowError) => void;
}

export interface RowError { row: number; code: string; message: string; field: string }

export interface ImportSummary {
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  duplicates: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  /** Input parts deliberately not applied (e.g. E_CONSENT_LOCKED), counted by code. */
  ignoredByReason: Record<string, number>;
  unmappedColumns: string[];
  dryRun: boolean;
}

function fieldForColumn(column: string, map: Record<string, string>): string | null {
  if (map[column] !== undefined) return map[column] === 'ignore' ? null : map[column];
  const k = column.trim().toLowerCase().replace(/[\s-]+/g, '_');
  if (ALIASES[k]) return ALIASES[k];
  if (ALIASES[k.replace(/_/g, '')]) return ALIASES[k.replace(/_/g, '')];
  const m = /^(?:attributes?|attr)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(column.trim());
  return m ? `attributes.${m[1]}` : null;
}

/** Checks a --map value: "column=field". */
export function checkMapping(map: Record<string, string>): string | null {
  for (const [col, f] of Object.entries(map)) {
    if (f !== 'ignore' && !(IMPORT_FIELDS as readonly string[]).includes(f) && !/^attributes\.[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(f)) {
      return `--map ${col}=${f}: unknown field "${f}" (one of ${IMPORT_FIELDS.join(', ')}, attributes.<name>, ignore)`;
    }
  }
  return null;
}

function consentValue(v: string): InputConsentStatus | undefined | 'bad' {
  const s = v.trim().toLowerCase();
  if (s === '') return undefined;
  if (['subscribed', 'yes', 'y', 'true', '1', 'opt-in', 'optin'].includes(s)) return 'subscribed';
  if (['unsubscribed', 'no', 'n', 'false', '0', 'opt-out', 'optout'].includes(s)) return 'unsubscribed';
  if (s === 'pending') return 'pending';
  return 'bad';
}

/** One CSV record (column -> text) to a ContactInput, or the reason it can't be one. */
export function recordToInput(record: Record<string, string>, fields: Map<string, string>): { input: ContactInput } | { code: string; message: string; field: string } {
  const input: ContactInput = {};
  const attributes: Record<string, unknown> = {};
  for (const [column, raw] of Object.entries(record)) {
    const field = fields.get(column);
    if (!field || raw === undefined || raw === null) continue;
    const v = String(raw).trim();
    if (v === '') continue;
    if (field.startsWith('attributes.')) attributes[field.slice(11)] = v;
    else if (field === 'tags') input.tags = v.split(/[;|,]/).map((t) => t.trim()).filter(Boolean);
    else if (field.startsWith('consent.')) {
      const st = consentValue(v);
      if (st === 'bad') return { code: 'E_CONSENT_STATUS', message: 'consent is subscribed, unsubscribed or pending (or yes/no)', field: column };
      if (st) (input.consent ??= {})[field.slice(8) as Channel] = st;
    } else (input as Record<string, unknown>)[field] = v;
  }
  if (Object.keys(attributes).length) input.attributes = attributes;
  return { input };
}

type Bucket = 'created' | 'updated' | 'unchanged' | 'duplicates';
/** Operations per bulkWrite call. */
const WRITE_CHUNK = 1000;

interface Row { row: number; input: ContactInput; prepared: PreparedContact; bucket?: Bucket }

/** Imports a CSV stream. Rows are counted in exactly one bucket of the summary. */
export async function importContacts(stream: Readable, contacts: Contacts, opts: ImportOptions = {}): Promise<ImportSummary> {
  const batchSize = opts.batchSize ?? 10_000;
  const source = opts.source ?? 'import';
  const summary: ImportSummary = {
    rows: 0, created: 0, updated: 0, unchanged: 0, duplicates: 0, rejected: 0,
    rejectedByReason: {}, ignoredByReason: {}, unmappedColumns: [], dryRun: Boolean(opts.dryRun),
  };
  const seen = new Set<string>();
  /**
   * Dedupe keys that exist in the database, read once with a projection cursor at the start and kept up to date.
   * On FerretDB/SQLite an `$in` lookup costs (collection size x list length), so looking up every key of every
   * window grew quadratically; this costs one scan and O(existing contacts) memory (~50 bytes each).
   */
  const known = new Set<string>();
  for await (const d of ContactModel.collection.find({ emailKey: { $exists: true } }, { projection: { _id: 0, emailKey: 1 } })) known.add(d.emailKey as string);
  let fields: Map<string, string> | null = null;
  let batch: Row[] = [];

  const reject = (row: number, code: string, message: string, field: string) => {
    summary.rejected++;
    summary.rejectedByReason[code] = (summary.rejectedByReason[code] ?? 0) + 1;
    opts.onRowError?.({ row, code, message, field });
  };
  const countIgnored = (plan: MergePlan) => {
    for (const i of plan.ignored) summary.ignoredByReason[i.code] = (summary.ignoredByReason[i.code] ?? 0) + 1;
  };

  const flush = async () => {
    if (!batch.length) return;
    const rows = batch;
    batch = [];
    // Group by dedupe key, in file order.
    const groups = new Map<string, Row[]>();
    for (const r of rows) {
      const key = r.prepared.email!.key;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key)!.push(r);
    }
    const keys = [...groups.keys()];
    const existing = new Map<string, ContactDoc>();
    // Only keys known to exist are fetched (see `known` below); a fresh import of new contacts reads nothing.
    const lookup = keys.filter((k) => known.has(k));
    if (lookup.length) for (const doc of await ContactModel.find({ emailKey: { $in: lookup } }).lean<ContactDoc[]>().exec()) existing.set(doc.emailKey!, doc);
    const erasedKeys = new Set<string>();
    const byHash = new Map(keys.map((k) => [contacts.suppressionKey(k), k]));
    for (const s of await SuppressionModel.find({ key: { $in: [...byHash.keys()] }, reason: 'erased' }, { key: 1 }).lean().exec()) erasedKeys.add(byHash.get(s.key)!);

    const now = new Date();
    const ctx = { keys: contacts.keys, now, source };
    const token = randomUUID();
    const ops: ({ insertOne: object } | { updateOne: object })[] = [];
    const consentDocs: object[] = [];
    const pendingUpdates: { id: Types.ObjectId; rows: Row[] }[] = [];
    const opRows: Row[][] = [];
    const suppressAfter: string[] = [];

    for (const [key, groupRows] of groups) {
      const firstInFile = !seen.has(key);
      seen.add(key);
      const base = existing.get(key);
      if (!base && erasedKeys.has(key)) {
        for (const r of groupRows) reject(r.row, 'E_ERASED', 'this address belongs to an erased contact and is not re-created', 'email');
        continue;
      }
      const working: ContactDoc = base ? structuredClone(base) : emptyContact(new Types.ObjectId(), now, source);
      let plan: MergePlan = { set: {}, consent: [], ignored: [], suppress: false };
      let firstRowChanges = false;
      for (const [i, r] of groupRows.entries()) {
        const p = planMerge(working, r.prepared, ctx);
        if (i === 0) firstRowChanges = !isEmptyPlan(p);
        applyPlan(working, p);
        plan = combinePlans(plan, p);
      }
      countIgnored(plan);
      const first = firstInFile ? 1 : 0;
      // A row's bucket is what that row did: the first row of a key created, updated or left unchanged
      // the contact; later rows with the same key are duplicates merged into it.
      const firstBucket: Bucket = !base ? 'created' : firstRowChanges ? 'updated' : 'unchanged';
      groupRows.forEach((r, i) => (r.bucket = i === 0 && firstInFile ? firstBucket : 'duplicates'));
      summary.duplicates += groupRows.length - first;
      const contactId = String(working._id);
      for (const c of plan.consent) {
        const r = groupRows[0].prepared.consentContext;
        consentDocs.push({ ...c, contactId, source, at: now, wording: r.wording, ip: r.ip, userAgent: r.userAgent });
      }
      if (plan.suppress) suppressAfter.push(key);
      if (first) summary[firstBucket]++;
      if (!base) {
        // Insert under the unique emailKey index: a concurrent or earlier create of the key fails this op
        // (E11000) and the rows are redone through upsertContact, which merges instead.
        ops.push({ insertOne: { document: working } });
        known.add(key);
        opRows.push(groupRows);
      } else if (!isEmptyPlan(plan)) {
        ops.push({ updateOne: { filter: { _id: base._id, rev: base.rev }, update: { $set: { ...plan.set, updatedAt: now, importToken: token }, $inc: { rev: 1 } } } });
        opRows.push(groupRows);
        pendingUpdates.push({ id: base._id, rows: groupRows });
      }
    }
    if (opts.dryRun) return;
    if (consentDocs.length) {
      await ConsentRecordModel.collection.insertMany(consentDocs as never[], { ordered: false }).catch((err: unknown) => {
        const we = (err as { writeErrors?: { code?: number }[] }).writeErrors;
        if (!(we?.length && we.every((e) => e.code === 11000)) && !isDuplicateKeyError(err)) throw err;
      });
    }
    let redo: Row[] = [];
    const failedInserts = new Set<number>();
    let updatesMatched = 0;
    let updatesSent = 0;
    for (let i = 0; i < ops.length; i += WRITE_CHUNK) {
      const chunk = ops.slice(i, i + WRITE_CHUNK);
      try {
        const res = await ContactModel.collection.bulkWrite(chunk as never[], { ordered: false });
        updatesMatched += res.matchedCount;
      } catch (err) {
        // Per-op failures (a key created concurrently, an externalId already taken) are redone singly below.
        const e = err as { writeErrors?: { index: number; code?: number }[]; result?: { matchedCount?: number } };
        if (!e.writeErrors) throw err;
        for (const w of e.writeErrors) failedInserts.add(i + w.index);
        updatesMatched += e.result?.matchedCount ?? 0;
      }
      updatesSent += chunk.filter((o) => 'updateOne' in o).length;
    }
    ops.forEach((o, i) => {
      if (failedInserts.has(i) && 'insertOne' in o) redo.push(...opRows[i]);
    });
    if (updatesMatched < updatesSent) {
      // Some compare-and-set updates lost a race: find them by their missing write token.
      const ok = new Set((await ContactModel.collection.find({ _id: { $in: pendingUpdates.map((p) => p.id) }, importToken: token }, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id)));
      for (const p of pendingUpdates) if (!ok.has(String(p.id))) redo.push(...p.rows);
    }
    if (suppressAfter.length) {
      // Inserts under the unique hash key (fast on FerretDB, unlike upserts); an existing entry stays as it is.
      const docs = suppressAfter.map((k) => suppressionEntry(contacts.suppressionKey(k), 'unsubscribed', now));
      await SuppressionModel.collection.insertMany(docs as never[], { ordered: false }).catch((err: unknown) => {
        const we = (err as { writeErrors?: { code?: number }[] }).writeErrors;
        if (!(we?.length && we.every((e) => e.code === 11000)) && !isDuplicateKeyError(err)) throw err;
      });
    }
    redo = redo.sort((a, b) => a.row - b.row);
    for (const r of redo) {
      try {
        await contacts.upsertContact(r.input, { source });
      } catch (err) {
        // The row was counted as created/updated/duplicate; move it to rejected.
        if (!(err instanceof ContactError)) throw err;
        if (r.bucket) summary[r.bucket]--;
        reject(r.row, err.code, err.message, err.pointer.replace(/^\//, ''));
      }
    }
  };

  const parser = stream.pipe(parse({ bom: true, columns: true, skip_empty_lines: true, trim: false, relax_column_count: true }));
  let rowNo = 1;
  for await (const record of parser as AsyncIterable<Record<string, string>>) {
    rowNo++;
    summary.rows++;
    if (!fields) {
      fields = new Map();
      for (const col of Object.keys(record)) {
        const f = fieldForColumn(col, opts.map ?? {});
        if (f) fields.set(col, f);
        else summary.unmappedColumns.push(col);
      }
      if (![...fields.values()].includes('email')) throw new ContactError('E_IMPORT_NO_EMAIL_COLUMN', 'no column is mapped to email (use --map "<column>=email")');
    }
    const r = recordToInput(record, fields);
    if ('code' in r) {
      reject(rowNo, r.code, r.message, r.field);
      continue;
    }
    const prepared = prepareContact(r.input, { requireEmail: true });
    if (!prepared.ok) {
      reject(rowNo, prepared.error.code, prepared.error.message, prepared.error.pointer.replace(/^\//, ''));
      continue;
    }
    batch.push({ row: rowNo, input: r.input, prepared: prepared.contact });
    if (summary.rows % 1000 === 0) opts.onProgress?.(summary.rows);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  opts.onProgress?.(summary.rows);
  return summary;
}
