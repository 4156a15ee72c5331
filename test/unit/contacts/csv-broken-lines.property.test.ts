/**
 * Broken quoting (issue 11 item 9) as a property of the CSV reader: files of valid lines (cells with
 * commas, quotes, spaces and non-ASCII text, written the RFC 4180 way) with broken lines mixed in (text
 * after a closing quote; a quote never closed), read from streams cut at random bytes (inside
 * multi-byte characters too), never throw, give one error record per broken line naming that line,
 * and every valid line exactly as written, in order: nothing valid is lost.
 *
 * The generator keeps one ambiguity of CSV itself out: a quote left open legitimately runs across lines
 * (a multi-line cell) until a quote closes it, so valid quoted cells here never start with a comma or
 * a quote (the only way an open cell could close cleanly on a later line).
 */
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { csvRecords, type CsvRecord } from '../../../lib/csv-records';

const text = (maxLength: number) => fc.string({ unit: fc.constantFrom('a', 'b', 'Z', '1', ' ', ',', '"', 'é', '中', '😀', '=', "'"), maxLength });
const word = fc.string({ unit: fc.constantFrom('a', 'b', 'x', '1', ' ', 'é', '中'), minLength: 1, maxLength: 6 }).filter((w) => w.trim() !== '' && w[0] !== ' ');

/** A valid cell and how it is written. */
const cell = text(8).map((v) => {
  const value = /^[,"]/.test(v) ? `x${v}` : v;
  return { value, written: /[",]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value };
});

type Line = { kind: 'good'; cells: string[]; written: string } | { kind: 'broken'; written: string };

const goodLine = fc.array(cell, { minLength: 1, maxLength: 5 }).map((cs): Line => {
  // A line of one empty cell is an empty line (skipped by every CSV reader): give it a value.
  const cells = cs.length === 1 && cs[0].value === '' ? [{ value: 'x', written: 'x' }] : cs;
  return { kind: 'good', cells: cells.map((c) => c.value), written: cells.map((c) => c.written).join(',') };
});
const afterClose = fc.tuple(word, fc.constantFrom('x', 'b', '1', 'é'), word, fc.nat(3)).map(([w, tail, rest, at]): Line => {
  const cells = [rest, rest, rest];
  cells.splice(Math.min(at, 3), 0, `"${w}"${tail}${rest}`);
  return { kind: 'broken', written: cells.join(',') };
});
const unclosed = fc.tuple(word, word).map(([before, w]): Line => ({ kind: 'broken', written: `${before},"${w}` }));
const file = fc.tuple(fc.array(fc.oneof({ weight: 4, arbitrary: goodLine }, { weight: 1, arbitrary: afterClose }, { weight: 1, arbitrary: unclosed }), { minLength: 1, maxLength: 25 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 6 }));

/** The bytes cut into chunks at the given points (a chunk may end inside a character). */
function chunks(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let start = 0;
  for (const c of at) {
    out.push(bytes.subarray(start, c));
    start = c;
  }
  out.push(bytes.subarray(start));
  return out.filter((b) => b.length > 0);
}

describe('the CSV reader with broken lines', () => {
  it('reads every valid line as written and gives each broken line one error naming it (property, 400 files)', async () => {
    let broken = 0;
    let good = 0;
    await fc.assert(
      fc.asyncProperty(file, async ([lines, crlf, cuts]) => {
        const bytes = Buffer.from(`${lines.map((l) => l.written).join(crlf ? '\r\n' : '\n')}\n`, 'utf8');
        const got: CsvRecord[] = [];
        for await (const r of csvRecords(Readable.from(chunks(bytes, cuts)))) got.push(r);
        const expected = lines.map((l, i) => (l.kind === 'good' ? { ok: true, fields: l.cells, line: i + 1 } : { ok: false, code: 'E_CSV_QUOTE', line: i + 1 }));
        expect(got.map((r) => (r.ok ? { ok: true, fields: r.fields, line: r.line } : { ok: false, code: r.code, line: r.line }))).toEqual(expected);
        for (const r of got) if (!r.ok) expect(r.message).toMatch(new RegExp(`^line ${r.line}: `));
        // Offsets are where the next record starts: resuming from any of them reads the rest exactly.
        const last = got[got.length - 1];
        expect(last.endOffset).toBe(bytes.length);
        broken += lines.filter((l) => l.kind === 'broken').length;
        good += lines.length - lines.filter((l) => l.kind === 'broken').length;
      }),
      { numRuns: 400, seed: 1711 },
    );
    // The generator really mixed both kinds in.
    expect(broken).toBeGreaterThan(500);
    expect(good).toBeGreaterThan(1000);
    console.log(`CSV reader property: 400 files, ${good} valid lines read as written, ${broken} broken lines each reported on its line`);
  });

  it('resumes from the end offset of any record with the same records after it', async () => {
    await fc.assert(
      fc.asyncProperty(file, fc.nat(), async ([lines], pick) => {
        const bytes = Buffer.from(`${lines.map((l) => l.written).join('\n')}\n`, 'utf8');
        const all: CsvRecord[] = [];
        for await (const r of csvRecords(Readable.from([bytes]))) all.push(r);
        const k = pick % all.length;
        const rest: CsvRecord[] = [];
        for await (const r of csvRecords(Readable.from([bytes.subarray(all[k].endOffset)]), { startOffset: all[k].endOffset, startLine: all[k].line + 1 })) rest.push(r);
        expect(rest).toEqual(all.slice(k + 1));
      }),
      { numRuns: 200, seed: 1712 },
    );
  });
});
