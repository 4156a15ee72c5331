/**
 * Trigger data and entity keys at run time: what a run keeps of the event that started it, and the key
 * of a per-entity run. Pure (the dispatcher and the workflow sandbox both use it).
 *
 * PII rule: a run keeps only the data fields its journey declares (`trigger: { data: {...} }`), checked
 * against their declared types; anything else in the event's data (names, addresses, free text a shop
 * sends along) stays in the stored event and never reaches Temporal. What is kept travels in the run's
 * input, which the payload codec encrypts (lib/payload-codec.ts).
 */
import { evaluate } from './evaluate';
import type { EventView } from './contact-schema';
import type { DataFieldType, JourneyPlan } from './plan';

/** `trigger.data` of a plan: the union of the data its event triggers declare (the checker makes the types agree). */
export function triggerDataTypes(plan: Pick<JourneyPlan, 'trigger' | 'extraTriggers'>): Record<string, DataFieldType> {
  const out: Record<string, DataFieldType> = {};
  for (const t of [plan.trigger, ...(plan.extraTriggers ?? [])]) if (t.kind === 'event' && t.data) Object.assign(out, t.data);
  return out;
}

/** Longest declared text value a run keeps (an order id, a plan name; not a document). */
export const MAX_DATA_TEXT = 256;

const fits: Record<DataFieldType, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string' && v.length <= MAX_DATA_TEXT,
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  int: (v) => typeof v === 'number' && Number.isSafeInteger(v),
  bool: (v) => typeof v === 'boolean',
} satisfies Record<DataFieldType, (v: unknown) => boolean>;

/**
 * The declared fields of an event's data, or why the event cannot start the run: a declared field is
 * missing or has another type. Undeclared fields are dropped.
 */
export function pickTriggerData(types: Record<string, DataFieldType> | undefined, data: Record<string, unknown> | undefined):
  { data: Record<string, unknown> } | { error: string } {
  const out: Record<string, unknown> = {};
  for (const [k, type] of Object.entries(types ?? {})) {
    const v = data?.[k];
    if (v === undefined || v === null) return { error: `data.${k} is missing (declared ${type})` };
    if (!fits[type](v)) return { error: `data.${k} is not ${type === 'int' ? 'a whole number' : type === 'string' ? `text of at most ${MAX_DATA_TEXT} characters` : `a ${type}`}` };
    out[k] = v;
  }
  return { data: out };
}

/**
 * The trigger as expressions see it: declared fields only, `int` fields as CEL ints (BigInt), so
 * `trigger.data.quantity + 1` works as it type-checked.
 */
export function triggerView(t: { name: string; at: string | Date; data?: Record<string, unknown> }, types: Record<string, DataFieldType> | undefined): EventView {
  const data: Record<string, unknown> = {};
  for (const [k, type] of Object.entries(types ?? {})) {
    const v = t.data?.[k];
    if (v === undefined) continue;
    data[k] = type === 'int' && typeof v === 'number' ? BigInt(Math.trunc(v)) : v;
  }
  return { name: t.name, at: t.at instanceof Date ? t.at : new Date(t.at), data };
}

/**
 * The entity key of a keyed journey's run for its trigger event (`entry: { key: event.data.orderId }`):
 * text, or a whole number written as text. null when the journey is not keyed.
 */
export function entryKeyOf(plan: Pick<JourneyPlan, 'entryKey' | 'trigger' | 'extraTriggers'>, event: { name: string; at: string | Date; data?: Record<string, unknown> }):
  { key: string } | { error: string } | null {
  if (!plan.entryKey) return null;
  let v: unknown;
  try {
    // The raw event: only the key is derived from it (and hashed into the run id when it is not plain).
    v = evaluate(plan.entryKey.expr, { contact: undefined as never, event: { name: event.name, at: new Date(event.at), data: event.data ?? {} }, now: new Date(event.at) });
  } catch (err) {
    return { error: `the entry key ${plan.entryKey.expr.source} could not be evaluated: ${(err as Error).message}` };
  }
  if (typeof v === 'number' && Number.isSafeInteger(v)) return { key: String(v) };
  if (typeof v === 'string' && v !== '' && v.length <= MAX_DATA_TEXT) return { key: v };
  return { error: `the entry key ${plan.entryKey.expr.source} gave no usable key (text up to ${MAX_DATA_TEXT} characters or a whole number)` };
}
