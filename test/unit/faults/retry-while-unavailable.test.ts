import { retryWhileUnavailable } from '../../../lib/dependency-health';

const unreachable = () => Object.assign(new Error('connection refused'), { name: 'MongoNetworkError' });

describe('retryWhileUnavailable', () => {
  it('runs the step again while the database is unreachable and returns its answer once it is back', async () => {
    const waits: number[] = [];
    let calls = 0;
    const answer = await retryWhileUnavailable(async () => {
      calls += 1;
      if (calls < 4) throw unreachable();
      return 'stored';
    }, 60_000, async (ms) => { waits.push(ms); });
    expect([answer, calls, waits]).toEqual(['stored', 4, [500, 1000, 2000]]);
  });

  it('throws other errors at once, without retrying', async () => {
    let calls = 0;
    const bad = retryWhileUnavailable(async () => {
      calls += 1;
      throw new Error('E11000 duplicate key');
    }, 60_000, async () => undefined);
    await expect(bad).rejects.toThrow('duplicate key');
    expect(calls).toBe(1);
  });

  it('gives up with the unavailability error when the next wait would pass the deadline', async () => {
    let calls = 0;
    const waits: number[] = [];
    const never = retryWhileUnavailable(async () => {
      calls += 1;
      throw unreachable();
    }, 1_200, async (ms) => { waits.push(ms); });
    await expect(never).rejects.toMatchObject({ name: 'MongoNetworkError' });
    expect([calls, waits]).toEqual([3, [500, 1000]]); // the sleeps take no real time: a 500 and a 1000 ms wait each end before the deadline, a 2000 ms one would not
  });
});
