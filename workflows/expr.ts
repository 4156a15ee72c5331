/**
 * The one place the journey workflow evaluates CEL. It delegates to the DSL's sandbox-safe evaluator
 * (rules/), so journeys behave the same under `sojourn validate`, in scenario tests and in production.
 * Contacts arrive from activities as JSON: timestamps are revived into Dates here before binding.
 */
import type { Expr } from '../rules/plan';
import type { ContactView, EventView, JourneyView } from '../rules/contact-schema';
import { evaluateExpr } from './expr-engine';

export interface Bindings {
  contact: ContactView;
  event?: EventView;
  journey?: JourneyView & { params?: Record<string, unknown> };
  trigger?: EventView;
  now: Date;
  /** Used by local-time functions when the contact has no time zone. */
  defaultTimezone?: string;
}

/** Evaluates a boolean expression; anything but `true` (including an evaluation error) is false, and the error is returned for the run status. */
export function evaluateCondition(expr: Expr, b: Bindings): { value: boolean; error?: string } {
  try {
    const v = evaluateExpr(expr, b);
    return { value: v === true };
  } catch (err) {
    return { value: false, error: `${expr.at ?? ''} ${(err as Error).message}`.trim() };
  }
}

/** Evaluates a value expression into plain JSON (CEL ints become numbers, timestamps ISO strings). */
export function evaluateValue(expr: Expr, b: Bindings): unknown {
  return toJson(evaluateExpr(expr, b));
}

function toJson(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(toJson);
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), toJson(x)]));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  return v;
}

const DATE_FIELDS = ['emailVerifiedAt', 'lastActivityAt', 'createdAt'] as const;
const ENGAGEMENT_DATES = ['lastOpenAt', 'lastClickAt', 'lastOrderAt'] as const;

/** Turns a contact view that went through a JSON payload back into one with Dates. */
export function reviveContactView(raw: ContactView): ContactView {
  const c = { ...raw, engagement: { ...raw.engagement } } as ContactView;
  const rev = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string));
  for (const f of DATE_FIELDS) (c as unknown as Record<string, unknown>)[f] = rev((raw as unknown as Record<string, unknown>)[f]);
  for (const f of ENGAGEMENT_DATES) (c.engagement as unknown as Record<string, unknown>)[f] = rev((raw.engagement as unknown as Record<string, unknown>)[f]);
  if (c.createdAt === null) c.createdAt = new Date(0);
  return c;
}
