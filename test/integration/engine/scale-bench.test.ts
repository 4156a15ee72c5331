/**
 * The scale benchmark (bench/scale.bench.ts) at 1,000 and 2,000 rows, to keep its code paths alive: every
 * hot-path operation runs against the real database and checks its answer. Times are printed, not asserted.
 */
import { OPERATIONS, formatScaleTable, runScaleBench } from '../../../bench/scale.bench';
import { initDatabase } from '../../../data/db';
import { loadConfig } from '../../../lib/config';
import { useTestDatabase } from '../../helpers/db';

describe('the scale benchmark, small', () => {
  useTestDatabase('scale_bench');

  it('seeds 2,000 contacts, ledger rows and events and gets the right answer from every hot-path operation at each size', async () => {
    await initDatabase();
    const cfg = loadConfig({ SOJOURN_ENV: 'development' });
    const lines: string[] = [];
    const result = await runScaleBench({ sizes: [1000, 2000], repeat: 3, secret: cfg.secret, phoneKey: cfg.phoneKey, log: (l) => lines.push(l) });
    expect(Object.keys(result.ms)).toEqual([...OPERATIONS]);
    for (const op of OPERATIONS) expect(result.ms[op]).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('seeded'))).toHaveLength(2);
    const table = formatScaleTable(result);
    expect(table.split('\n')).toHaveLength(2 + OPERATIONS.length);
    console.log(table);
  }, 120_000);
});
