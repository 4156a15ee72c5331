/**
 * The report benchmark (bench/report.bench.ts) at small sizes, so it keeps working: its reports are
 * checked inside. The 10k / 1M figures are printed by the bench itself (README, "Benchmarks").
 */
import { useTestDatabase } from '../../helpers/db';
import { runReportBench } from '../../../bench/report.bench';

describe('the report benchmark', () => {
  useTestDatabase('reportbench');
  it('times a 30-day report at two ledger sizes', async () => {
    const r = await runReportBench({ sizes: [1_000, 3_000], repeat: 3 });
    expect(r.ms).toHaveLength(2);
    for (const ms of r.ms) expect(ms).toBeGreaterThan(0);
  }, 180_000);
});
