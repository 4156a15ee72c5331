/**
 * Fuzz: CSV import (data/import.ts, called as `sojourn contacts import` calls it), dry run and real.
 * Generated files (odd headers including prototype names, quotes, newlines, BOM, bad bytes): the
 * importer never crashes uncontrolled or hangs; a dry run stores nothing; a run that accepts no row
 * stores nothing.
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { useContactsDatabase } from '../integration/contacts/setup';
import { importContacts } from '../../data/import';
import { ContactModel } from '../../data/contact-model';
import { ConsentRecordModel } from '../../data/consent-model';
import { report, runCase, tally } from './harness';

// Prototype-named columns (issue 11 item 9) are ordinary columns: generated like any other.
const headers = ['email', 'firstName', 'phone', 'tags', 'consent.email', 'timezone', 'locale', 'birthday', 'externalId', '', ' email ', '邮箱', 'attributes.plan', 'x"y', 'Email', 'E-Mail', 'constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'attributes.__proto__', 'attributes.constructor', 'prototype'];
const cell = fc.oneof(fc.string({ maxLength: 40 }), fc.emailAddress(), fc.constantFrom('"', '""', '"a,b"', 'a\nb', '\r\n', '\uFEFF', 'subscribed', '+86 138 0013 8000', 'Asia/Shanghai', `Europe/${'Paris'.repeat(2000)}`, '1990-02-29', 'a@exa_mple.com'));
const csv = fc.tuple(fc.uniqueArray(fc.constantFrom(...headers), { minLength: 1, maxLength: 6 }), fc.array(fc.array(cell, { maxLength: 7 }), { maxLength: 8 }), fc.boolean())
  .map(([h, rows, crlf]) => [h.join(','), ...rows.map((r) => r.join(','))].join(crlf ? '\r\n' : '\n'));

describe('fuzz: CSV import', () => {
  const { contacts } = useContactsDatabase('fuzzcsv');
  const counts = async () => Promise.all([ContactModel.countDocuments(), ConsentRecordModel.countDocuments()]);

  it('imports 300 generated files (150 dry runs, 150 real) without a crash, a hang, or a write it did not report', async () => {
    const t = tally();
    let stoppedCleanly = 0;
    let created = 0;
    const files = fc.sample(csv, { numRuns: 150, seed: 5150 });
    for (const [i, text] of files.entries()) {
      for (const dryRun of [true, false]) {
        const before = await counts();
        await runCase(t, { dryRun, text }, async () => {
          try {
            return { summary: await importContacts(Readable.from([Buffer.from(text, 'utf8')]), contacts, { dryRun, batchSize: 50, source: `fuzz-${i}` }), error: null };
          } catch (err) {
            // A clean stop (the whole file refused with a message) is allowed; a crash is not.
            if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError) throw err;
            return { summary: null, error: err as Error };
          }
        }, async ({ summary, error }) => {
          const after = await counts();
          const changed = after.some((n, k) => n !== before[k]);
          if (error) stoppedCleanly++;
          if ((dryRun || error) && changed) return `${dryRun ? 'dry run' : 'stopped import'} stored something (${before} -> ${after})`;
          if (summary && !dryRun) {
            created += summary.created;
            if (summary.created + summary.updated === 0 && after[0] !== before[0]) return `no row accepted but contacts changed (${before} -> ${after})`;
          }
          return null;
        });
      }
    }
    console.log(report('CSV import', t, `${stoppedCleanly} runs stopped with an error message, ${created} contacts created by real runs`));
    expect(t.failures).toEqual([]);
    expect(t.cases).toBe(300);
  }, 300_000);
});
