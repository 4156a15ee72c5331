import { contact, deploy, plan, useEngine } from '../helpers';
import { chooseBranch } from '../../../workflows/steps/split';
import type { SplitStep } from '../../../rules/plan';
import type { JourneyResult } from '../../../workflows/definitions';

const split: SplitStep = {
  id: 'ab', kind: 'split', next: null,
  branches: [
    { name: 'a', weight: 45, start: 'send_a', holdout: false },
    { name: 'b', weight: 45, start: 'send_b', holdout: false },
    { name: 'holdout', weight: 10, start: null, holdout: true },
  ],
};

describe('the split step', () => {
  const engine = useEngine();

  it('puts a contact in the same branch on every run and records the branch', async () => {
    const p = await deploy(plan('split-ab', [
      split,
      { id: 'send_a', kind: 'send', template: 'a', marketing: false, next: null },
      { id: 'send_b', kind: 'send', template: 'b', marketing: false, next: null },
    ]));
    const c = await contact();
    const expected = chooseBranch(split, c).name;
    const first: JourneyResult = await (await engine.start(p, c)).result();
    const second: JourneyResult = await (await engine.start(p, c)).result();
    expect(first.splits).toEqual({ ab: expected });
    expect(second.splits).toEqual({ ab: expected });
    expect(first.outcome).toBe(expected === 'holdout' ? 'holdout' : 'completed');
  });

  it('divides contacts close to the declared weights', () => {
    const counts: Record<string, number> = { a: 0, b: 0, holdout: 0 };
    for (let i = 0; i < 10_000; i++) counts[chooseBranch(split, `contact-${i}`).name]++;
    expect(counts.a / 10_000).toBeCloseTo(0.45, 1);
    expect(counts.b / 10_000).toBeCloseTo(0.45, 1);
    expect(counts.holdout / 10_000).toBeCloseTo(0.1, 1);
  });

  it('ends a run in the holdout branch with outcome holdout', async () => {
    const p = await deploy(plan('split-holdout', [{ ...split, branches: [{ name: 'holdout', weight: 100, start: null, holdout: true }] }]));
    const r: JourneyResult = await (await engine.start(p, await contact())).result();
    expect(r).toMatchObject({ outcome: 'holdout', splits: { ab: 'holdout' } });
  });
});
