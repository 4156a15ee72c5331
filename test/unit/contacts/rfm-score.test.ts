import { rfmScores } from '../../../data/rfm-score';

const NOW = new Date('2027-03-01T00:00:00Z');
const daysAgo = (n: number) => new Date(NOW.getTime() - n * 86_400_000);

describe('RFM scores from order counters', () => {
  it('scores nobody who never ordered 0, 0, 0', () => {
    expect(rfmScores({ orders: 0, revenue: 0, lastOrderAt: null }, NOW)).toEqual({ recency: 0, frequency: 0, monetary: 0 });
    expect(rfmScores(undefined, NOW)).toEqual({ recency: 0, frequency: 0, monetary: 0 });
  });

  it('scores recency by days since the last order, each bound inclusive', () => {
    const r = (d: number) => rfmScores({ orders: 1, revenue: 10, lastOrderAt: daysAgo(d) }, NOW).recency;
    expect([0, 30, 31, 90, 91, 180, 181, 365, 366, 2000].map(r)).toEqual([5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
    // An order in the future (clock skew) counts as today.
    expect(r(-2)).toBe(5);
  });

  it('scores frequency by the number of orders and monetary by their total', () => {
    const f = (n: number) => rfmScores({ orders: n, revenue: 0, lastOrderAt: NOW }, NOW).frequency;
    expect([1, 2, 3, 4, 5, 9, 10, 50].map(f)).toEqual([1, 2, 3, 3, 4, 4, 5, 5]);
    const m = (v: number) => rfmScores({ orders: 1, revenue: v, lastOrderAt: NOW }, NOW).monetary;
    expect([0, 0.01, 99.99, 100, 499, 500, 999, 1000, 1999, 2000].map(m)).toEqual([0, 1, 1, 2, 2, 3, 3, 4, 4, 5]);
  });

  it('gives odd counters a score, never a crash: negative or non-finite amounts are no money, counts without a date are long ago', () => {
    expect(rfmScores({ orders: 2, revenue: Number.NaN, lastOrderAt: null }, NOW)).toEqual({ recency: 1, frequency: 2, monetary: 0 });
    expect(rfmScores({ orders: -3, revenue: -50, lastOrderAt: 'not a date' }, NOW)).toEqual({ recency: 0, frequency: 0, monetary: 0 });
  });
});
