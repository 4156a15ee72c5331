import { liftAgainstHoldout, normalCdf, normalQuantile } from '../../../lib/lift';

describe('lift against the holdout', () => {
  it('uses the 97.5 % normal quantile 1.9600 (within 1e-5) and a CDF that inverts it', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 4);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(0)).toBeCloseTo(0.5, 9);
  });

  it('gives the textbook difference, Wald interval and pooled z-test p-value of 30/100 against 15/100', () => {
    const l = liftAgainstHoldout({ converted: 30, entered: 100 }, { converted: 15, entered: 100 })!;
    expect(l.absolute).toBeCloseTo(0.15, 10);
    expect(l.relative).toBeCloseTo(1, 10);
    // se = sqrt(.3*.7/100 + .15*.85/100) = 0.058095
    expect(l.interval[0]).toBeCloseTo(0.15 - 1.959964 * 0.0580948, 4);
    expect(l.interval[1]).toBeCloseTo(0.15 + 1.959964 * 0.0580948, 4);
    // pooled p = .225, se = sqrt(.225*.775*(2/100)) = 0.059055, z = 2.5400, p = 0.01109
    expect(l.pValue!).toBeCloseTo(0.0111, 3);
  });

  it('says nothing when a side has no entries, and no relative lift when the holdout converted nobody', () => {
    expect(liftAgainstHoldout({ converted: 0, entered: 0 }, { converted: 1, entered: 10 })).toBeNull();
    const l = liftAgainstHoldout({ converted: 2, entered: 10 }, { converted: 0, entered: 10 })!;
    expect(l.relative).toBeNull();
    expect(l.absolute).toBeCloseTo(0.2, 10);
  });

  it('has no p-value without variance (nobody converted anywhere)', () => {
    expect(liftAgainstHoldout({ converted: 0, entered: 10 }, { converted: 0, entered: 10 })!.pValue).toBeNull();
  });
});
