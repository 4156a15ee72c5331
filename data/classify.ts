/**
 * Classification: runs compiled rule sets (rules/ RuleSetPlan) on a contact and returns the $set for
 * the fields whose value changed, each stored as { value, rule, reason, at }. The evaluator is behind
 * the small `Classifier` type so tests or a future evaluator can be swapped in.
 */
import { classify as rulesClassify } from '../rules/evaluate';
import type { RuleSetPlan } from '../rules/plan';
import type { ContactView } from '../rules/contact-schema';
import type { ContactDoc } from './contact-model';
import { toContactView } from './contact-view';

export type Classifier = (ruleSet: RuleSetPlan, bindings: { contact: ContactView; now: Date }) => { value: string; reason: string; rule: number | 'otherwise' } | null;

export const defaultClassifier: Classifier = (ruleSet, bindings) => rulesClassify(ruleSet, bindings);

/** $set paths for the classification changes of one contact (empty: nothing changed). */
export function classifyWith(classifier: Classifier | undefined, doc: ContactDoc, ruleSets: RuleSetPlan[], now: Date): Record<string, unknown> {
  const run = classifier ?? defaultClassifier;
  const set: Record<string, unknown> = {};
  let view = toContactView(doc);
  for (const rs of ruleSets) {
    if (rs.over === 'message' || !/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(rs.field)) continue;
    const result = run(rs, { contact: view, now });
    if (!result) continue;
    const current = (doc.classification as Record<string, { value?: string } | undefined> | undefined)?.[rs.field];
    if (current?.value === result.value) continue;
    set[`classification.${rs.field}`] = { value: result.value, rule: `${rs.name}#${result.rule}`, reason: result.reason, at: now };
    // Later rule sets may read the field this one just set (e.g. rfm, then importance from rfm).
    view = toContactView({ ...doc, classification: { ...(doc.classification ?? {}), [rs.field]: { value: result.value, rule: '', reason: '', at: now } } });
  }
  return set;
}
