/**
 * CSV import of contacts: streaming, in windows of rows, deduplicated within the file and against the
 * database by the email dedupe key. Used by `sojourn contacts import` and the benchmark.
 *
 * Reading (lib/csv-records.ts): a line that is not valid CSV (a stray or unclosed quote) is a
 * rejected row (`E_CSV_QUOTE`) and the import goes on with the next line, in dry runs and real runs
 * alike. Columns are matched by position; column names are only looked up in Maps, so a column named
 * `constructor` or `__proto__` is an ordinary column (an attribute of that name is refused by name).
 *
 * Rows (data/contact-input.ts, lenient unless `strict`): a row with a valid email is imported; a bad
 * secondary field (phone, birthday, time zone, locale, names, tags, attributes) is left unset and
 * reported as a warning with its column, value and reason. Consent values and the address itself
 * still reject the row. `strict` rejects the row on the first field problem, as before.
 *
 * Per window of rows (default 10,000): group rows that share a key and merge them in memory (same
 * rules as the API: data/contact-merge.ts), fetch only the contacts whose key is known to exist (by
 * `_id`, through their pointers: decision 44), then write chunks of 1,000 ops, two in flight, each as its
 * consent evidence, an unordered bulkWrite and the pointers of the contacts it created: new contacts as
 * insertOne under the unique emailKey index (a re-run or a concurrent create fails with E11000 instead
 * of duplicating), existing ones as compare-and-set updates on `rev` carrying a write token. Writes that
 * lost (E11000, token missing afterwards) are redone one row at a time through upsertContact, which
 * merges, so nothing is lost or overwritten. While a window is written the next one is read and checked.
 *
 * Memory is flat in the file size: a window of rows, plus 64-bit hashes of the dedupe keys
 * (lib/key-flags.ts, ~16 bytes per key) for "exists in the database" and "seen in this file".
 *
 * Resuming (data/import-checkpoint.ts): with `resume`, a checkpoint (file hash -> byte offset, row,
 * summary) is saved after every committed window; a later run of the same file with the same options
 * continues from it. `signal` stops the import cleanly after the current window.
 *
 * Each row lands in exactly one bucket: created, updated, unchanged, duplicate (a later row with a key
 * already seen in this file, merged into that contact) or rejected (by reason code). Rows imported
 * with warnings are counted in their bucket and in `withWarnings`.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Types } from 'mongoose';
import { ContactModel, type ContactDoc, type Channel } from './contact-model';
import { findContactByKey, insertContactKeys, writeContactKeys } from './contact-keys';
import { ConsentRecordModel } from './consent-model';
import { SuppressionModel, findBlock, suppressionEntry } from './suppression-model';
import { prepareContact, type ContactInput, type PreparedContact, type InputConsentStatus, type FieldWarning } from './contact-input';
import { applyPlan, combinePlans, emptyContact, isEmptyPlan, planMerge, type MergePlan } from './contact-merge';
import { type Contacts, ContactError } from './contacts';
import { importCheckpoints } from './import-checkpoint';
import { REPORT_COLUMNS, unescapeFormula, type ReportRow } from './import-report';
import { csvRecords, type CsvRecord } from '../lib/csv-records';
import { KeyFlags } from '../lib/key-flags';
import type { DateOrder } from '../lib/date-reader';
import { onlyDuplicateKeys } from './duplicate-key';

/** Fields a CSV column can be mapped to (plus `attributes.<name>` and `ignore`). */
export const IMPORT_FIELDS = [
  'email', 'externalId', 'phone', 'phoneCountry', 'firstName', 'lastName', 'locale', 'timezone', 'birthday',
  'tags', 'channel', 'owner', 'consent.email', 'consent.sms', 'consent.phone',
] as const;

const ALIASES: ReadonlyMap<string, string> = new Map(Object.entries({
  email: 'email', e_mail: 'email', emailaddress: 'email', mail: 'email', 邮箱: 'email',
  externalid: 'externalId', external_id: 'externalId', id: 'externalId', customerid: 'externalId',
  phone: 'phone', mobile: 'phone', phonenumber: 'phone', 手机: 'phone', 电话: 'phone',
  phonecountry: 'phoneCountry', phone_country: 'phoneCountry', country: 'phoneCountry',
  firstname: 'firstName', first_name: 'firstName', givenname: 'firstName',
  lastname: 'lastName', last_name: 'lastName', surname: 'lastName', familyname: 'lastName',
  locale: 'locale', language: 'locale', timezone: 'timezone', time_zone: 'timezone', tz: 'timezone',
  birthday: 'birthday', birthdate: 'birthday', dob: 'birthday', 生日: 'birthday',
  tags: 'tags', channel: 'channel', owner: 'owner', owner_id: 'owner', ownerid: 'owner', 负责人: 'owner',
  consent_email: 'consent.email', 'consent.email': 'consent.email', email_consent: 'consent.email',
  consent_sms: 'consent.sms', 'consent.sms': 'consent.sms', consent_phone: 'consent.phone', 'consent.phone': 'consent.phone',
}));

export interface ImportOptions {
  /** CSV column -> field (IMPORT_FIELDS, "attributes.<name>" or "ignore"); overrides the header guesses. */
  map?: ReadonlyMap<string, string> | Record<string, string>;
  dryRun?: boolean;
  /** Reject a row on any field problem (the behaviour before warnings). */
  strict?: boolean;
  /** Country (ISO alpha-2) for phone numbers without "+" in rows without a country column value. */
  defaultRegion?: string | null;
  /** Order of numeric dates such as 03/04/1990. */
  dateOrder?: DateOrder | null;
  /**
   * Rows read, grouped by key and looked up together (default 10,000). Duplicates inside one window are
   * merged in memory, so each contact is written once per window; writes go in chunks of 1,000.
   */
  batchSize?: number;
  source?: string;
  /** Rows read so far and bytes of the file consumed (for progress bars). */
  onProgress?: (rowsDone: number, bytesDone: number) => void;
  /** Called for every rejected row; `row` counts like a spreadsheet (the header is row 1). */
  onRowError?: (e: RowError) => void;
  /** Called for every rejected row and every row imported with warnings, with its cells (the report). */
  onReportRow?: (r: ReportRow) => void;
  /** Called once with the header (before any onReportRow). */
  onHeader?: (header: string[], resumed: boolean) => void;
  /** Checkpoint and resume (not in dry runs): `fileId` identifies the file's bytes (e.g. its SHA-256). */
  resume?: { fileId: string };
  /**
   * Awaited before each checkpoint is saved: whatever the caller keeps about rows already reported
   * (onRowError) must be stored by then, since a resume starts after the checkpoint and never reports
   * those rows again.
   */
  beforeCheckpoint?: () => Promise<void>;
  /** Stops the import cleanly after the window being written (the checkpoint then says where to resume). */
  signal?: AbortSignal;
}

export interface RowError { row: number; line: number; code: string; message: string; field: string; column: string }

type Counts = Record<string, Record<string, number>>;

export interface ImportSummary {
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  duplicates: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  /** Rejected rows by the field that caused it, then code. */
  rejectedByField: Counts;
  /** Rows imported (created, updated, unchanged or merged) with at least one warning. */
  withWarnings: number;
  /** Warnings by field, then code (a row may have several). */
  warnings: Counts;
  /** Input parts deliberately not applied (e.g. E_CONSENT_LOCKED), counted by code. */
  ignoredByReason: Record<string, number>;
  unmappedColumns: string[];
  dryRun: boolean;
  strict: boolean;
  /** Set when this run continued an interrupted one: the row it resumed after. */
  resumedAfterRow?: number;
  /** Set when `signal` stopped the run; run the same import again to continue. */
  interrupted?: boolean;
}

function normaliseMap(map: ImportOptions['map']): Map<string, string> {
  if (!map) return new Map();
  return map instanceof Map ? new Map(map) : new Map(Object.entries(map));
}

function fieldForColumn(column: string, map: ReadonlyMap<string, string>): string | null {
  const mapped = map.get(column);
  if (mapped !== undefined) return mapped === 'ignore' ? null : mapped;
  const k = column.trim().toLowerCase().replace(/[\s-]+/g, '_');
  const alias = ALIASES.get(k) ?? ALIASES.get(k.replace(/_/g, ''));
  if (alias) return alias;
  const m = /^(?:attributes?|attr)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(column.trim());
  return m ? `attributes.${m[1]}` : null;
}

/** Checks a --map value: "column=field". */
export function checkMapping(map: ReadonlyMap<string, string> | Record<string, string>): string | null {
  for (const [col, f] of normaliseMap(map)) {
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

/** Which field each column (by position) feeds; report columns and unmapped ones feed none. */
export interface ColumnPlan {
  header: string[];
  fields: (string | null)[];
  unmapped: string[];
}

/** Maps a header to fields. A field fed by two columns, or no email column, is an error naming them. */
export function planColumns(header: string[], map: ReadonlyMap<string, string> | Record<string, string> = new Map()): ColumnPlan | { code: string; message: string } {
  const m = normaliseMap(map);
  const fields: (string | null)[] = [];
  const unmapped: string[] = [];
  const byField = new Map<string, string>();
  for (const col of header) {
    if ((REPORT_COLUMNS as readonly string[]).includes(col)) {
      fields.push(null);
      continue;
    }
    const f = fieldForColumn(col, m);
    if (f && byField.has(f)) {
      return { code: 'E_IMPORT_COLUMNS', message: `columns "${byField.get(f)}" and "${col}" both map to ${f}; map one of them to ignore (--map "${col}=ignore")` };
    }
    if (f) byField.set(f, col);
    else unmapped.push(col);
    fields.push(f);
  }
  if (!byField.has('email')) return { code: 'E_IMPORT_NO_EMAIL_COLUMN', message: 'no column is mapped to email (use --map "<column>=email")' };
  return { header, fields, unmapped };
}

/** One CSV record (cells by position) to a ContactInput, or the reason it can't be one. */
export function recordToInput(cells: readonly string[], plan: ColumnPlan): { input: ContactInput } | { code: string; message: string; field: string; column: string } {
  const input: ContactInput = {};
  let attributes: Record<string, unknown> | null = null;
  for (let i = 0; i < plan.fields.length; i++) {
    const field = plan.fields[i];
    const raw = cells[i];
    if (!field || raw === undefined) continue;
    const v = unescapeFormula(raw.trim());
    if (v === '') continue;
    if (field.startsWith('attributes.')) {
      // A null-prototype object: a name such as "__proto__" is an own key, refused by prepareContact by name.
      attributes ??= Object.create(null) as Record<string, unknown>;
      Object.defineProperty(attributes, field.slice(11), { value: v, enumerable: true, writable: true, configurable: true });
    } else if (field === 'tags') input.tags = v.split(/[;|,]/).map((t) => t.trim()).filter(Boolean);
    else if (field.startsWith('consent.')) {
      const st = consentValue(v);
      if (st === 'bad') return { code: 'E_CONSENT_STATUS', message: 'consent is subscribed, unsubscribed or pending (or yes/no)', field, column: plan.header[i] };
      if (st) (input.consent ??= {})[field.slice(8) as Channel] = st;
    } else (input as Record<string, unknown>)[field] = v;
  }
  if (attributes) input.attributes = attributes;
  return { input };
}

type Bucket = 'created' | 'updated' | 'unchanged' | 'duplicates';
/** Operations per bulkWrite call. */
const WRITE_CHUNK = 1000;
/** bulkWrite chunks sent at once (each with its consent records and pointers). */
const WRITES_IN_FLIGHT = 2;
/** KeyFlags bits: the key exists in the database; the key appeared earlier in this file. */
const KNOWN = 1;
const SEEN = 2;

interface Row { row: number; line: number; cells: string[]; input: ContactInput; prepared: PreparedContact; warnings: FieldWarning[]; bucket?: Bucket }
interface Rejected { row: number; line: number; cells: string[]; code: string; message: string; field: string; column: string }
type Entry = { kind: 'row'; row: Row } | { kind: 'rejected'; rejected: Rejected };

const bump = (counts: Counts, a: string, b: string) => {
  const inner = Object.hasOwn(counts, a) ? counts[a] : (counts[a] = {});
  inner[b] = (Object.hasOwn(inner, b) ? inner[b] : 0) + 1;
};

/** JSON pointer of a field problem -> import field name ("/tags/3" -> tags, "/attributes/x" -> attributes.x). */
function fieldOfPointer(pointer: string): string {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (parts[0] === 'attributes' && parts[1] !== undefined) return `attributes.${parts[1]}`;
  if (parts[0] === 'consent' && parts[1] !== undefined) return `consent.${parts[1]}`;
  return parts[0] ?? '';
}

/** Point reads in flight at once while a window's existing contacts are fetched. */
const LOOKUP_CONCURRENCY = 16;

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (err) {
        failed = true; // the other workers take nothing new
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * The stored contacts of these dedupe keys, by key. Each is two `_id` reads through its pointer
 * (data/contact-keys.ts), a few in flight at once, so a window costs the same at any collection size:
 * FerretDB answers `emailKey: {$in}` (and `_id: {$in}`) with a full read of the collection, evaluating
 * the list for every document. Keys whose pointer is missing or stale (a crash between a contact and its
 * pointer) are looked up by their field in one query, which is a scan on FerretDB but only ever for those,
 * and their pointers are written again.
 */
async function findExisting(keys: readonly string[]): Promise<Map<string, ContactDoc>> {
  const found = new Map<string, ContactDoc>();
  const docs = await mapLimit(keys, LOOKUP_CONCURRENCY, (k) => findContactByKey('email', k));
  const missing = keys.filter((k, i) => {
    const doc = docs[i];
    if (doc) found.set(k, doc);
    return !doc;
  });
  if (missing.length) {
    for (const doc of await ContactModel.find({ emailKey: { $in: missing } }).lean<ContactDoc[]>().exec()) {
      found.set(doc.emailKey!, doc);
      await writeContactKeys(doc); // the next reader finds it by `_id` again
    }
  }
  return found;
}

/**
 * Hashes of erased addresses (suppression entries with reason `erased`, keyed by the hash), read at the
 * start and read again whenever their number grew. Erasure entries are never removed
 * (data/suppression-admin.ts), so an unchanged count means an unchanged set: each window costs one count
 * instead of an `$in` of its 10,000 hashes, which FerretDB evaluates against every erased entry
 * (15 s per window at 10,000 erasures on this machine).
 */
function erasedAddresses() {
  let hashes = new KeyFlags();
  let count = -1;
  return {
    async refresh(): Promise<void> {
      const n = await SuppressionModel.countDocuments({ reason: 'erased' }).exec();
      if (n === count) return;
      const next = new KeyFlags();
      if (n > 0) for await (const d of SuppressionModel.collection.find({ reason: 'erased' }, { projection: { _id: 1 } })) next.add(String(d._id), KNOWN);
      hashes = next;
      count = n;
    },
    has: (hash: string) => (hashes.get(hash) & KNOWN) !== 0,
    /** No erased address at all (the usual case): the window's addresses need not be hashed. */
    empty: () => count === 0,
  };
}

function emptySummary(dryRun: boolean, strict: boolean): ImportSummary {
  return {
    rows: 0, created: 0, updated: 0, unchanged: 0, duplicates: 0, rejected: 0,
    rejectedByReason: {}, rejectedByField: {}, withWarnings: 0, warnings: {}, ignoredByReason: {},
    unmappedColumns: [], dryRun, strict,
  };
}

/**
 * Imports a CSV. `source` is a stream of the whole file, or (for resumable imports) a function that
 * opens the file at a byte offset. Rows are counted in exactly one bucket of the summary.
 */
export async function importContacts(source: Readable | ((startOffset: number) => Readable), contacts: Contacts, opts: ImportOptions = {}): Promise<ImportSummary> {
  const batchSize = opts.batchSize ?? 10_000;
  const importSource = opts.source ?? 'import';
  const strict = Boolean(opts.strict);
  const dryRun = Boolean(opts.dryRun);
  const map = normaliseMap(opts.map);
  let summary = emptySummary(dryRun, strict);
  const optionsKey = JSON.stringify({ map: [...map].sort(), strict, region: opts.defaultRegion ?? null, order: opts.dateOrder ?? null, source: importSource });
  const prepareOpts = { requireEmail: true, lenient: !strict, defaultRegion: opts.defaultRegion ?? null, dateOrder: opts.dateOrder ?? null };
  const useCheckpoint = Boolean(opts.resume) && !dryRun && typeof source === 'function';

  // Where to start: the beginning, or after the last committed row of an interrupted run.
  let start = { offset: 0, line: 1, row: 0 };
  let plan: ColumnPlan | null = null;
  /**
   * Marks the contacts this run wrote: importToken "<runId>:<window>" plus ":new" (created by that window)
   * or ":dup" (updated by a row whose key came earlier in the file). A resumed run tells from it which
   * contacts earlier windows wrote (later rows with their keys are duplicates), and, for the one window
   * that was written but not checkpointed when the run stopped, what its rows did then (that window
   * is redone with the same number: windows are cut the same way from the same offset).
   */
  let runId: string = randomUUID();
  let windowSeq = 0;
  if (useCheckpoint) {
    const cp = await importCheckpoints.load<ImportSummary>(opts.resume!.fileId);
    if (cp && cp.optionsKey === optionsKey) {
      start = { offset: cp.offset, line: cp.line, row: cp.row };
      runId = cp.runId;
      windowSeq = cp.window ?? 0;
      summary = { ...cp.summary, resumedAfterRow: cp.row, interrupted: undefined };
      const p = planColumns(cp.header, map);
      if ('code' in p) throw new ContactError(p.code, p.message);
      plan = p;
      opts.onHeader?.(cp.header, true);
    }
  }
  const stream = typeof source === 'function' ? source(start.offset) : source;

  /**
   * Dedupe keys that exist in the database (read once with a projection cursor at the start, kept up to
   * date) and keys seen in this file. On FerretDB/SQLite an `$in` lookup costs (collection size x list
   * length), so only keys known to exist are looked up; the flags hold 64-bit hashes, not the keys.
   */
  const keys = new KeyFlags();
  for await (const d of ContactModel.collection.find({ emailKey: { $exists: true } }, { projection: { _id: 0, emailKey: 1 } })) keys.add(d.emailKey as string, KNOWN);
  const erased = erasedAddresses();

  const reject = (r: Rejected) => {
    summary.rejected++;
    summary.rejectedByReason[r.code] = (summary.rejectedByReason[r.code] ?? 0) + 1;
    bump(summary.rejectedByField, r.field, r.code);
    opts.onRowError?.({ row: r.row, line: r.line, code: r.code, message: r.message, field: r.field, column: r.column });
    opts.onReportRow?.({ row: r.row, status: 'rejected', cells: r.cells, problems: [{ column: r.column, code: r.code, message: r.message }] });
  };
  const columnOf = (field: string) => {
    const i = plan!.fields.indexOf(field);
    return i >= 0 ? plan!.header[i] : field;
  };
  const rejectPrepared = (row: number, line: number, cells: string[], code: string, message: string, pointer: string) => {
    const field = fieldOfPointer(pointer);
    reject({ row, line, cells, code, message, field, column: columnOf(field) });
  };

  /** Writes one window: counts every entry in file order, merges, writes; returns when committed. */
  const flush = async (entries: Entry[]) => {
    const rows: Row[] = [];
    for (const e of entries) if (e.kind === 'row') rows.push(e.row);
    // Group by dedupe key, in file order.
    const groups = new Map<string, Row[]>();
    for (const r of rows) {
      const key = r.prepared.email!.key;
      const g = groups.get(key);
      if (g) g.push(r);
      else groups.set(key, [r]);
    }
    // Only keys known to exist are fetched; a fresh import of new contacts reads nothing.
    const existing = await findExisting([...groups.keys()].filter((k) => keys.get(k) & KNOWN));
    await erased.refresh();
    // The hashed set is a hint; each hit is confirmed by its entry's `_id` (there are few).
    const maybeErased = erased.empty() ? [] : [...groups.keys()].filter((k) => erased.has(contacts.suppressionKey(k)));
    const blocks = await mapLimit(maybeErased, LOOKUP_CONCURRENCY, (k) => findBlock(contacts.suppressionKey(k)));
    const erasedKeys = new Set(maybeErased.filter((_, i) => blocks[i]?.reason === 'erased'));

    const now = new Date();
    const ctx = { keys: contacts.keys, now, source: importSource };
    const token = `${runId}:${++windowSeq}`;
    const ops: ({ insertOne: object } | { updateOne: object })[] = [];
    /** The consent records of each op's contact (written just before it, in its chunk). */
    const opConsent: object[][] = [];
    const pendingUpdates: { id: Types.ObjectId; rows: Row[] }[] = [];
    const opRows: Row[][] = [];
    const suppressAfter: string[] = [];
    const erasedRows = new Set<Row>();

    for (const [key, groupRows] of groups) {
      const base = existing.get(key);
      // Seen earlier in this file: in this process (the flag), or before an interruption (the run's token).
      // Written by an earlier attempt of this very window (stopped after its writes, before its checkpoint).
      const redoneTag = base?.importToken === token ? 'updated' : base?.importToken === `${token}:new` ? 'created' : base?.importToken === `${token}:dup` ? 'duplicates' : null;
      const firstInFile = redoneTag ? redoneTag !== 'duplicates' : !(keys.get(key) & SEEN) && !base?.importToken?.startsWith(`${runId}:`);
      keys.add(key, SEEN);
      if (!base && erasedKeys.has(key)) {
        for (const r of groupRows) erasedRows.add(r);
        continue;
      }
      const working: ContactDoc = base ? structuredClone(base) : emptyContact(new Types.ObjectId(), now, importSource);
      let merged: MergePlan = { set: {}, consent: [], ignored: [], suppress: false };
      let firstRowChanges = false;
      for (const [i, r] of groupRows.entries()) {
        const p = planMerge(working, r.prepared, ctx);
        if (i === 0) firstRowChanges = !isEmptyPlan(p);
        applyPlan(working, p);
        merged = combinePlans(merged, p);
      }
      for (const i of merged.ignored) summary.ignoredByReason[i.code] = (summary.ignoredByReason[i.code] ?? 0) + 1;
      // A row's bucket is what that row did: the first row of a key created, updated or left unchanged
      // the contact; later rows with the same key are duplicates merged into it.
      const firstBucket: Bucket = redoneTag && redoneTag !== 'duplicates' ? redoneTag : !base ? 'created' : firstRowChanges ? 'updated' : 'unchanged';
      groupRows.forEach((r, i) => (r.bucket = i === 0 && firstInFile ? firstBucket : 'duplicates'));
      const contactId = String(working._id);
      const evidence = groupRows[0].prepared.consentContext;
      const consentDocs = merged.consent.map((c) => ({ ...c, contactId, source: importSource, at: now, wording: evidence.wording, ip: evidence.ip, userAgent: evidence.userAgent }));
      if (merged.suppress) suppressAfter.push(key);
      if (!base) {
        // Insert under the unique emailKey index: a concurrent or earlier create of the key fails this op
        // (E11000) and the rows are redone through upsertContact, which merges instead.
        ops.push({ insertOne: { document: { ...working, importToken: `${token}:new` } } });
        opConsent.push(consentDocs);
        keys.add(key, KNOWN);
        opRows.push(groupRows);
      } else if (!isEmptyPlan(merged)) {
        ops.push({ updateOne: { filter: { _id: base._id, rev: base.rev }, update: { $set: { ...merged.set, updatedAt: now, importToken: firstInFile ? token : `${token}:dup` }, $inc: { rev: 1 } } } });
        opConsent.push(consentDocs);
        opRows.push(groupRows);
        pendingUpdates.push({ id: base._id, rows: groupRows });
      }
    }

    const redo: Row[] = [];
    if (!dryRun) {
      const failed = new Set<number>();
      let updatesMatched = 0;
      let updatesSent = 0;
      /**
       * One chunk of ops: its consent records first (a contact is never stored without the evidence of its
       * consent; a redone window does not write them again), then its contacts, then the pointers of the
       * contacts it created. Two chunks are in flight, so the database has the next one while this
       * process reads the next window or handles an answer.
       */
      const writeChunk = async (from: number) => {
        const chunk = ops.slice(from, from + WRITE_CHUNK);
        const evidence = opConsent.slice(from, from + WRITE_CHUNK).flat();
        if (evidence.length) {
          await ConsentRecordModel.collection.insertMany(evidence as never[], { ordered: false }).catch((err: unknown) => {
            if (!onlyDuplicateKeys(err)) throw err;
          });
        }
        try {
          const res = await ContactModel.collection.bulkWrite(chunk as never[], { ordered: false });
          updatesMatched += res.matchedCount;
        } catch (err) {
          // Per-op failures (a key created concurrently, an externalId already taken) are redone singly below.
          const e = err as { writeErrors?: { index: number; code?: number }[]; result?: { matchedCount?: number } };
          if (!e.writeErrors) throw err;
          for (const w of e.writeErrors) failed.add(from + w.index);
          updatesMatched += e.result?.matchedCount ?? 0;
        }
        updatesSent += chunk.filter((o) => 'updateOne' in o).length;
        // Pointers for lookups by address (data/contact-keys.ts), one insertMany for the contacts created.
        await insertContactKeys(chunk.flatMap((o, j) => ('insertOne' in o && !failed.has(from + j) ? [(o.insertOne as { document: ContactDoc }).document] : [])));
      };
      const starts: number[] = [];
      for (let i = 0; i < ops.length; i += WRITE_CHUNK) starts.push(i);
      await mapLimit(starts, WRITES_IN_FLIGHT, writeChunk);
      ops.forEach((o, i) => {
        if (failed.has(i) && 'insertOne' in o) redo.push(...opRows[i]);
      });
      if (updatesMatched < updatesSent) {
        // Some compare-and-set updates lost a race: find them by their missing write token (reads by `_id`).
        const current = await mapLimit(pendingUpdates, LOOKUP_CONCURRENCY, (p) => ContactModel.collection.findOne({ _id: p.id }, { projection: { importToken: 1 } }));
        pendingUpdates.forEach((p, i) => {
          const t = current[i]?.importToken;
          if (t !== token && t !== `${token}:dup`) redo.push(...p.rows);
        });
      }
      if (suppressAfter.length) {
        // Inserts under the unique hash key (fast on FerretDB, unlike upserts); an existing entry stays as it is.
        const docs = suppressAfter.map((k) => suppressionEntry(contacts.suppressionKey(k), 'unsubscribed', now));
        await SuppressionModel.collection.insertMany(docs as never[], { ordered: false }).catch((err: unknown) => {
          if (!onlyDuplicateKeys(err)) throw err;
        });
      }
    }
    const failedRows = new Map<Row, ContactError>();
    for (const r of redo.sort((a, b) => a.row - b.row)) {
      try {
        await contacts.upsertContact(r.input, { source: importSource, ...prepareOpts });
      } catch (err) {
        if (!(err instanceof ContactError)) throw err;
        failedRows.set(r, err);
      }
    }
    // Count and report in file order, so the summary after this window covers exactly its rows.
    for (const e of entries) {
      summary.rows++;
      if (e.kind === 'rejected') {
        reject(e.rejected);
        continue;
      }
      const r = e.row;
      if (erasedRows.has(r)) {
        rejectPrepared(r.row, r.line, r.cells, 'E_ERASED', 'this address belongs to an erased contact and is not re-created', '/email');
        continue;
      }
      const failure = failedRows.get(r);
      if (failure) {
        rejectPrepared(r.row, r.line, r.cells, failure.code, failure.message, failure.pointer || '/email');
        continue;
      }
      summary[r.bucket!]++;
      if (r.warnings.length) {
        summary.withWarnings++;
        for (const w of r.warnings) bump(summary.warnings, fieldOfPointer(w.pointer), w.code);
        opts.onReportRow?.({
          row: r.row, status: 'imported_with_warnings', cells: r.cells,
          problems: r.warnings.map((w) => ({ column: columnOf(fieldOfPointer(w.pointer)), code: w.code, message: w.message })),
        });
      }
    }
  };

  // Rows read and checked run up to two windows ahead of rows committed: report whichever is further,
  // so a progress bar only moves forward.
  let reported = -1;
  const progress = (rows: number, bytes: number) => {
    if (rows <= reported) return;
    reported = rows;
    opts.onProgress?.(rows, bytes);
  };
  let rowNo = start.row;
  let window: Entry[] = [];
  let writing: Promise<void> | null = null;
  let last = { offset: start.offset, line: start.line };
  const commit = async (entries: Entry[], upTo: { offset: number; line: number; row: number }) => {
    await flush(entries);
    if (useCheckpoint) {
      await opts.beforeCheckpoint?.();
      await importCheckpoints.save<ImportSummary>({
        _id: opts.resume!.fileId, runId, window: windowSeq, offset: upTo.offset, line: upTo.line, row: upTo.row, header: plan!.header, optionsKey, summary, updatedAt: new Date(),
      });
    }
    progress(summary.rows, upTo.offset);
  };
  /** Hands a full window to the writer; the next window is read while this one is written. */
  const handOver = async () => {
    if (writing) await writing;
    const entries = window;
    window = [];
    const upTo = { ...last, row: rowNo };
    const w = commit(entries, upTo);
    w.catch(() => undefined); // handled where it is awaited; keeps a failure from being "unhandled" meanwhile
    writing = w;
  };

  let interrupted = false;
  for await (const rec of csvRecords(stream, { startOffset: start.offset, startLine: start.line }) as AsyncIterable<CsvRecord>) {
    if (!plan) {
      // The header row.
      if (!rec.ok) throw new ContactError('E_IMPORT_HEADER', `the header line is not valid CSV (${rec.message})`);
      const p = planColumns(rec.fields, map);
      if ('code' in p) throw new ContactError(p.code, p.message);
      plan = p;
      summary.unmappedColumns = p.unmapped;
      rowNo = 1;
      last = { offset: rec.endOffset, line: rec.line + 1 };
      opts.onHeader?.(rec.fields, false);
      continue;
    }
    rowNo++;
    last = { offset: rec.endOffset, line: rec.line + 1 };
    if (!rec.ok) {
      window.push({ kind: 'rejected', rejected: { row: rowNo, line: rec.line, cells: [rec.text], code: rec.code, message: rec.message, field: '', column: '' } });
    } else {
      const r = recordToInput(rec.fields, plan);
      if ('code' in r) {
        window.push({ kind: 'rejected', rejected: { row: rowNo, line: rec.line, cells: rec.fields, code: r.code, message: r.message, field: r.field, column: r.column } });
      } else {
        const prepared = prepareContact(r.input, prepareOpts);
        if (!prepared.ok) {
          const field = fieldOfPointer(prepared.error.pointer);
          window.push({ kind: 'rejected', rejected: { row: rowNo, line: rec.line, cells: rec.fields, code: prepared.error.code, message: prepared.error.message, field, column: columnOf(field) } });
        } else {
          window.push({ kind: 'row', row: { row: rowNo, line: rec.line, cells: rec.fields, input: r.input, prepared: prepared.contact, warnings: prepared.warnings } });
        }
      }
    }
    if ((rowNo - 1) % 1000 === 0) progress(rowNo - 1, rec.endOffset);
    // Reading a buffered file never returns to the event loop by itself: let the answers of the writes
    // in flight be handled now and then, so the next chunk goes out while this window is read.
    if (rowNo % 200 === 0) await new Promise<void>((r) => setImmediate(r));
    if (window.length >= batchSize) await handOver();
    if (opts.signal?.aborted) {
      interrupted = true;
      break;
    }
  }
  if (!plan) throw new ContactError('E_IMPORT_HEADER', 'the file is empty (a header row is required)');
  if (window.length) await handOver();
  if (writing) await writing;
  if (interrupted) summary.interrupted = true;
  else if (useCheckpoint) await importCheckpoints.clear(opts.resume!.fileId);
  progress(summary.rows, last.offset);
  return summary;
}
