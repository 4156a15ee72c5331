/**
 * RFM scores of a contact (recency, frequency, monetary, each 0-5) from its order counters, which every
 * `order.completed` event updates once (data/contact-events.ts: `engagement.orders` +1,
 * `engagement.revenue` + `data.amount`, `engagement.lastOrderAt` = the event's time).
 *
 * Fixed thresholds rather than quintiles of the customer base: one order rescores one contact by key,
 * without reading everybody else, and a score means the same thing on every day (docs/decisions.md).
 * 0 means "no order"; the thresholds are the table in README.md ("Classification").
 */
import type { RfmScore } from '../rules/contact-schema';

const DAY_MS = 86_400_000;

/** Days since the last order -> R: a bound is "at most that many days ago". */
export const RECENCY_DAYS = [[30, 5], [90, 4], [180, 3], [365, 2]] as const;
/** Orders -> F: a bound is "at least that many orders". */
export const FREQUENCY_ORDERS = [[10, 5], [5, 4], [3, 3], [2, 2], [1, 1]] as const;
/** Revenue (sum of order amounts, in the shop's currency) -> M: "at least that much". */
export const MONETARY_REVENUE = [[2000, 5], [1000, 4], [500, 3], [100, 2]] as const;

interface OrderCounters { orders?: number | null; revenue?: number | null; lastOrderAt?: Date | string | null }

/** The scores for these counters at `now` (pure; the same answer for the daily scan and an order event). */
export function rfmScores(e: OrderCounters | null | undefined, now: Date): RfmScore {
  const orders = Math.max(0, Math.floor(Number(e?.orders ?? 0)) || 0);
  const revenue = Number(e?.revenue ?? 0);
  const last = e?.lastOrderAt ? new Date(e.lastOrderAt).getTime() : NaN;
  let recency = 0;
  if (orders > 0 || Number.isFinite(last)) {
    recency = 1;
    if (Number.isFinite(last)) {
      const days = Math.max(0, now.getTime() - last) / DAY_MS;
      for (const [bound, score] of RECENCY_DAYS) if (days <= bound) { recency = score; break; }
    }
  }
  let frequency = 0;
  for (const [bound, score] of FREQUENCY_ORDERS) if (orders >= bound) { frequency = score; break; }
  let monetary = 0;
  if (Number.isFinite(revenue) && revenue > 0) {
    monetary = 1;
    for (const [bound, score] of MONETARY_REVENUE) if (revenue >= bound) { monetary = score; break; }
  }
  return { recency, frequency, monetary };
}
