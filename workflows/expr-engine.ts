/**
 * Binds the DSL's sandbox-safe evaluator (rules/evaluate.ts). Kept as a seam so the workflow depends on
 * one small signature, whatever the DSL's internals become.
 */
import { evaluate } from '../rules/evaluate';
import type { Expr } from '../rules/plan';
import type { ContactView, EventView, JourneyView } from '../rules/contact-schema';

export function evaluateExpr(expr: Expr, b: { contact: ContactView; event?: EventView; journey?: JourneyView & { params?: Record<string, unknown> }; trigger?: EventView; now: Date; defaultTimezone?: string }): unknown {
  return evaluate(expr, b);
}
