/**
 * Fuzz: prototype-named columns and broken quoting through the importer (issue 11 item 9), dry run and
 * real. Files with `email` among columns named like Object.prototype members (some mapped to
 * attributes of those names, some left unmapped) and valid rows mixed with broken lines: the import
 * never throws; each broken line is one rejected row (E_CSV_QUOTE) whose error names its row and line;
 * every valid row is imported (none lost), attributes with allowed names hold exactly the cell, refused
 * names are a warning naming the column; a dry run stores nothing; Object.prototype stays clean.
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { useContactsDatabase } from '../integration/contacts/setup';
import { importContacts, type RowError } from '../../data/import';
import { ContactModel } from '../../data/contact-model';
import { report, runCase, tally } from './harness';

const PROTO = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'prototype', 'isPrototypeOf', '__defineGetter__'];
/** Attribute names the importer refuses by name (they would reach an object's prototype chain). */
const REFUSED = new Set(['__proto__', 'constructor', 'prototype']);

const value = fc.string({ unit: fc.constantFrom('a', 'b', '1', ' ', ',', '"', 'é', '中'), maxLength: 8 }).map((v) => (/^[,"]/.test(v) ? `x${v}` : v));
const write = (v: string) => (/[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
// (A line ending in a lone quote is left out: after another open quote it closes a legitimate multi-line cell.)
const broken = fc.constantFrom('"open,never closed', 'x@example.com,"a"b', '"a"b,"c"', 'y@example.com,"open', '"""x"y,z');

interface Case { columns: string[]; map: Map<string, string>; lines: ({ kind: 'good'; cells: string[] } | { kind: 'broken'; text: string })[]; dryRun: boolean }

const caseArb: fc.Arbitrary<Case> = fc
  .tuple(
    fc.shuffledSubarray(PROTO, { minLength: 1 }),
    fc.nat(),
    fc.array(fc.boolean(), { minLength: PROTO.length, maxLength: PROTO.length }),
    fc.array(fc.oneof({ weight: 4, arbitrary: fc.array(value, { minLength: PROTO.length + 1, maxLength: PROTO.length + 1 }).map((cells) => ({ kind: 'good' as const, cells })) }, { weight: 1, arbitrary: broken.map((text) => ({ kind: 'broken' as const, text })) }), { minLength: 1, maxLength: 30 }),
    fc.boolean(),
  )
  .map(([proto, at, mapped, lines, dryRun]) => {
    const columns = [...proto];
    columns.splice(at % (columns.length + 1), 0, 'email');
    const map = new Map<string, string>(); // column names such as __proto__: no plain object
    proto.forEach((c, i) => {
      if (mapped[i]) map.set(c, `attributes.${c}`);
    });
    return { columns, map, lines, dryRun };
  });

describe('fuzz: prototype-named columns and broken quoting through the importer', () => {
  const { contacts } = useContactsDatabase('fuzzcsvedges');

  it('imports every valid row and rejects exactly the broken lines, naming each (60 files)', async () => {
    const t = tally();
    let rows = 0;
    let brokenLines = 0;
    const files = fc.sample(caseArb, { numRuns: 60, seed: 9011 });
    for (const [n, c] of files.entries()) {
      const emailAt = c.columns.indexOf('email');
      const text: string[] = [c.columns.join(',')];
      const good: { line: number; email: string; cells: Map<string, string> }[] = [];
      const bad: number[] = [];
      c.lines.forEach((l, i) => {
        if (l.kind === 'broken') {
          text.push(l.text);
          bad.push(i + 2);
          return;
        }
        const email = `f${n}.r${i}@example.com`;
        const cells = new Map<string, string>(); // a column may be named __proto__: no plain object
        const written = c.columns.map((col, k) => {
          if (k === emailAt) return email;
          cells.set(col, l.cells[k]);
          return write(l.cells[k]);
        });
        text.push(written.join(','));
        good.push({ line: i + 2, email, cells });
      });
      rows += c.lines.length;
      brokenLines += bad.length;
      const csv = `${text.join('\n')}\n`;
      const before = await ContactModel.countDocuments();
      await runCase(t, { csv, map: [...c.map], dryRun: c.dryRun }, async () => {
        const errors: RowError[] = [];
        const summary = await importContacts(Readable.from([Buffer.from(csv)]), contacts, { map: c.map, dryRun: c.dryRun, batchSize: 7, source: `fuzz-edges-${n}`, onRowError: (e) => errors.push(e) });
        return { summary, errors };
      }, async ({ summary, errors }) => {
        if (summary.rejected !== bad.length || summary.rejectedByReason.E_CSV_QUOTE !== (bad.length || undefined)) return `rejected ${JSON.stringify(summary.rejectedByReason)}, expected ${bad.length} E_CSV_QUOTE`;
        if (summary.created !== good.length) return `created ${summary.created} of ${good.length} valid rows`;
        const lines = errors.map((e) => e.line);
        if (JSON.stringify(lines) !== JSON.stringify(bad)) return `errors on lines ${lines}, expected ${bad}`;
        const unnamed = errors.find((e) => !e.message.startsWith(`line ${e.line}: `) || e.row !== e.line);
        if (unnamed) return `error does not name its line: ${JSON.stringify(unnamed)}`;
        const refusedWithValue = good.filter((g) => [...g.cells].some(([col, v]) => c.map.has(col) && REFUSED.has(col) && v.trim() !== '')).length;
        if (summary.withWarnings !== refusedWithValue) return `${summary.withWarnings} rows with warnings, expected ${refusedWithValue} (refused attribute names)`;
        const after = await ContactModel.countDocuments();
        if (c.dryRun) return after === before ? null : `dry run stored ${after - before} contacts`;
        if (after !== before + good.length) return `${after - before} contacts stored for ${good.length} valid rows`;
        for (const g of good) {
          const doc = await ContactModel.findOne({ emailKey: g.email }).lean();
          if (!doc) return `valid row at line ${g.line} lost`;
          for (const [col, v] of g.cells) {
            if (!c.map.has(col) || REFUSED.has(col) || v.trim() === '') continue;
            const stored = (doc.attributes as Record<string, unknown> | undefined)?.[col];
            if (!Object.hasOwn(doc.attributes ?? {}, col) || stored !== v.trim()) return `attribute ${col} of line ${g.line} is ${JSON.stringify(stored)}, expected ${JSON.stringify(v.trim())}`;
          }
        }
        return null;
      });
    }
    expect(Object.prototype).toEqual({});
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    console.log(report('CSV prototype columns and broken quotes', t, `${rows} rows, ${brokenLines} broken lines`));
    expect(t.failures).toEqual([]);
    expect(brokenLines).toBeGreaterThan(50);
  }, 300_000);
});
