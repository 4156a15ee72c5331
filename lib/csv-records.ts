/**
 * A streaming CSV reader (RFC 4180: comma, double quotes, "" inside quotes, quoted cells may span
 * lines; CRLF or LF; a UTF-8 BOM is dropped) that survives a broken line: a stray or unclosed quote is
 * an error record for that line, and reading goes on with the next line. csv-parse, which the
 * importer used before, stops at the first such error (and with `skip_records_with_error` it drops
 * every record up to the end of the file after an unclosed quote), so one bad cell lost the file.
 *
 * A quoted cell may span at most MAX_RECORD_LINES lines / MAX_RECORD_BYTES bytes; an opening quote
 * that is not closed within them, or that closes on a later line into text that is not CSV, makes its
 * first line an error record, and the following lines are read again as records of their own. Memory
 * stays bounded by that window.
 *
 * Each record carries its byte offset just past its end, so an import can checkpoint "everything
 * before this offset is done" and resume by reading the file from there.
 */
import type { Readable } from 'node:stream';

export const MAX_RECORD_LINES = 1000;
export const MAX_RECORD_BYTES = 1 << 20;

export type CsvRecord =
  | { ok: true; fields: string[]; line: number; endOffset: number }
  | { ok: false; code: 'E_CSV_QUOTE'; message: string; line: number; endOffset: number; text: string };

interface PhysicalLine { text: string; line: number; endOffset: number }

type ParseResult = { fields: string[] } | { open: true } | { error: string };

/** Parses one logical record; `open` when a quoted cell is still open at the end of the text. */
export function parseCsvRecord(s: string): ParseResult {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (s.charCodeAt(i) === 34 /* " */) {
      let j = i + 1;
      let cell = '';
      for (;;) {
        const k = s.indexOf('"', j);
        if (k < 0) return { open: true };
        cell += s.slice(j, k);
        if (s.charCodeAt(k + 1) === 34) {
          cell += '"';
          j = k + 2;
          continue;
        }
        i = k + 1;
        break;
      }
      fields.push(cell);
      if (i === s.length) return { fields };
      if (s.charCodeAt(i) !== 44 /* , */) return { error: `unexpected text after a closing quote in column ${fields.length} (a quote inside a quoted cell is written "")` };
      i++;
      if (i === s.length) {
        fields.push('');
        return { fields };
      }
    } else {
      // Unquoted cell: quotes inside it are kept as written (lenient, as spreadsheets export them).
      const k = s.indexOf(',', i);
      if (k < 0) {
        fields.push(s.slice(i));
        return { fields };
      }
      fields.push(s.slice(i, k));
      i = k + 1;
      if (i === s.length) {
        fields.push('');
        return { fields };
      }
    }
  }
}

/** Physical lines with their 1-based number and the byte offset just past their newline. */
async function* physicalLines(stream: Readable, startOffset: number, startLine: number): AsyncGenerator<PhysicalLine> {
  let carry: Buffer | null = null;
  let offset = startOffset;
  let line = startLine;
  let first = startOffset === 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    let buf: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (carry) {
      buf = Buffer.concat([carry, buf]);
      carry = null;
    }
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      let text = buf.toString('utf8', start, nl > start && buf[nl - 1] === 13 ? nl - 1 : nl);
      if (first) {
        text = text.replace(/^\uFEFF/, '');
        first = false;
      }
      offset += nl + 1 - start;
      yield { text, line: line++, endOffset: offset };
      start = nl + 1;
    }
    if (start < buf.length) carry = buf.subarray(start);
  }
  if (carry && carry.length) {
    let text = carry.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (first) text = text.replace(/^\uFEFF/, '');
    yield { text, line, endOffset: offset + carry.length };
  }
}

/**
 * Records of a CSV stream, empty lines skipped. `startOffset`/`startLine` say where the stream
 * begins in the file (a resumed import opens the file at its checkpoint).
 */
export async function* csvRecords(stream: Readable, opts: { startOffset?: number; startLine?: number } = {}): AsyncGenerator<CsvRecord> {
  const lines = physicalLines(stream, opts.startOffset ?? 0, opts.startLine ?? 1);
  /** Lines read ahead while a quoted cell was open; re-read one by one when the quote never closes. */
  const pending: PhysicalLine[] = [];
  let done = false;
  const next = async (): Promise<PhysicalLine | null> => {
    if (done) return null;
    const r = await lines.next();
    if (r.done) {
      done = true;
      return null;
    }
    return r.value;
  };
  for (;;) {
    const first = pending.length ? pending.shift()! : await next();
    if (!first) return;
    if (first.text === '') continue;
    let text = first.text;
    let last = first;
    let used = 1;
    let bytes = text.length;
    for (;;) {
      const r = parseCsvRecord(text);
      if ('fields' in r) {
        pending.splice(0, used - 1);
        yield { ok: true, fields: r.fields, line: first.line, endOffset: last.endOffset };
        break;
      }
      if ('error' in r) {
        if (used > 1) {
          // A quote opened on the first line closed on a later one into text that is not CSV: the first
          // line is the broken one; the lines taken into it are read again as records of their own.
          yield { ok: false, code: 'E_CSV_QUOTE', message: `line ${first.line}: a quote opened here does not close into a valid cell (${r.error})`, line: first.line, endOffset: first.endOffset, text: first.text };
          break;
        }
        yield { ok: false, code: 'E_CSV_QUOTE', message: `line ${first.line}: ${r.error}`, line: first.line, endOffset: last.endOffset, text };
        break;
      }
      // A quoted cell is still open: take the next line into it, within the limits.
      let more: PhysicalLine | null = null;
      if (used < MAX_RECORD_LINES && bytes < MAX_RECORD_BYTES) {
        more = used - 1 < pending.length ? pending[used - 1] : await next();
        if (more && used - 1 >= pending.length) pending.push(more);
      }
      if (!more) {
        // Never closed: only the first line is the broken record; the lines after it are read again.
        yield { ok: false, code: 'E_CSV_QUOTE', message: `line ${first.line}: a quote opened here is never closed`, line: first.line, endOffset: first.endOffset, text: first.text };
        break;
      }
      text += `\n${more.text}`;
      bytes += more.text.length + 1;
      last = more;
      used++;
    }
  }
}
