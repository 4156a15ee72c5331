/**
 * The import benchmark (bench/import.bench.ts) at 2,000 rows, so its code paths stay alive: the import
 * and the insertMany baseline must store the same documents, every row once. Times and memory are
 * printed, never asserted (the full-size figures are in the README, "Benchmarks").
 */
import { formatImportBench, runImportBench } from '../../../bench/import.bench';
import { testMongoUri } from '../../helpers/db';

describe('the import benchmark, small', () => {
  it('imports 2,000 generated rows from a file and stores what the insertMany baseline stores', async () => {
    const lines: string[] = [];
    const r = await runImportBench({ rows: 2000, uri: testMongoUri(), log: (s) => lines.push(s) });
    expect(r.summary).toMatchObject({ rows: 2000, created: 2000, updated: 0, duplicates: 0, rejected: 0 });
    expect(r.stored).toEqual(r.baselineStored);
    expect(r.stored).toEqual({ contacts: 2000, consent: 1600, keys: 2000 });
    // Progress reached the end and RSS was sampled at every tenth of the file.
    expect(lines.some((l) => l.includes('imported 2000/2000 rows'))).toBe(true);
    expect(r.rss.byTenth).toHaveLength(10);
    const text = formatImportBench(r);
    expect(text).toMatch(/import \/ insertMany: +\d+\.\d\d/);
    console.log(text);
  }, 300_000);
});
