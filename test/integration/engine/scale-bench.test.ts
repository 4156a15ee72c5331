/**
 * The scale benchmark (bench/scale.bench.ts) at 1,000 and 2,000 rows, to keep its code paths alive: every
 * hot-path operation runs against the real database and checks its answer. Times are printed, not asserted.
 */
import mongoose from 'mongoose';
import { OPERATIONS, databasePerSize, formatScaleTable, runScaleBench } from '../../../bench/scale.bench';
import { loadConfig } from '../../../lib/config';
import { uniqueDatabaseUri } from '../../helpers/db';

describe('the scale benchmark, small', () => {
  it('seeds 1,000 and 2,000 contacts, ledger rows and events in a database each and gets the right answer from every hot-path operation at each size', async () => {
    const cfg = loadConfig({ SOJOURN_ENV: 'development' });
    const lines: string[] = [];
    const uri = uniqueDatabaseUri('scale_bench');
    const dbs = databasePerSize(uri, new URL(uri).pathname.slice(1));
    try {
      const result = await runScaleBench({ sizes: [1000, 2000], repeat: 3, secret: cfg.secret, phoneKey: cfg.phoneKey, log: (l) => lines.push(l), use: dbs.use });
      expect(Object.keys(result.ms)).toEqual([...OPERATIONS]);
      for (const op of OPERATIONS) expect(result.ms[op]).toHaveLength(2);
      expect(lines.filter((l) => l.startsWith('seeded'))).toHaveLength(2);
      // Each size has its own database, seeded to exactly that size.
      for (const size of [1000, 2000]) {
        await dbs.use(size);
        expect(await mongoose.connection.collection('contacts').countDocuments()).toBe(size);
      }
      console.log(formatScaleTable(result));
    } finally {
      await dbs.drop();
    }
  }, 120_000);
});
