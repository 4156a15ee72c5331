/**
 * The gate's decisions and the sender's results, counted for reports (data/journey-stat-facts.ts) inside
 * the activity, before it returns: a fact that cannot be stored fails the activity, which Temporal
 * retries, and the fact's natural key (the ledger key) makes the retry count once.
 */
import { recordFacts } from '../data/journey-stats';
import { gateFacts, sendFacts } from '../data/journey-stat-facts';
import type { GateActivities } from './gate';
import type { SendActivities } from './send';

/** gateSend that records skips and deferrals by reason. */
export function countedGate(gate: GateActivities, clock: () => Date = () => new Date()): GateActivities {
  return {
    async gateSend(input) {
      const decision = await gate.gateSend(input);
      await recordFacts(gateFacts(input, decision, clock()));
      return decision;
    },
  };
}

/** sendEmail that records what the relay took (and the crash window's unknowns). */
export function countedSend(send: SendActivities, clock: () => Date = () => new Date()): SendActivities {
  return {
    async sendEmail(input) {
      const result = await send.sendEmail(input);
      await recordFacts(sendFacts(input, result, clock()));
      return result;
    },
  };
}
