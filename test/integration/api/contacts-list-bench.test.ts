/**
 * The listing benchmark (bench/contacts-list.bench.ts) at 1,000 contacts, to keep its code path alive:
 * seeding, the real API on a loopback port, concurrent inserts and the exactly-once check. Times are
 * printed, not asserted.
 */
import { runListBench } from '../../../bench/contacts-list.bench';
import { testMongoUri } from '../../helpers/db';

it('lists 1,000 seeded contacts through the API while inserting, each exactly once, and prints the page times', async () => {
  const lines: string[] = [];
  const run = await runListBench({ contacts: 1_000, limit: 200, mongoUri: testMongoUri(), log: (l) => lines.push(l) });
  expect({ missing: run.missing, duplicated: run.duplicated, unexpected: run.unexpected }).toEqual({ missing: [], duplicated: [], unexpected: [] });
  expect(run.pages).toBeGreaterThanOrEqual(5);
  expect(run.inserted).toBe(5 * 50);
  expect(lines).toEqual([expect.stringMatching(/^seeded 1,000 contacts/), expect.stringMatching(/^listed \d+ pages of 200/), expect.stringMatching(/^ms per page: /), 'seeded contacts missing: 0, listed twice: 0, unexpected: 0']);
  console.log(lines.join('\n'));
}, 120_000);
