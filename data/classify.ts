/**
 * Classification: runs compiled rule sets (rules/ RuleSetPlan) on a contact and returns the $set for
 * the fields whose value changed, each stored as { value, rule, reason, at }, plus what every rule set
 * picked (the dry run's distribution is built from it). The RFM scores (data/rfm-score.ts) are
 * recomputed first, so the rfm rule set reads today's scores. The evaluator is behind the small
 * `Classifier` type so tests or a future evaluator can be swapped in.
 */
import { classify as rulesClassify } from '../rules/evaluate';
import type { RuleSetPlan } from '../rules/plan';
import type { ContactView } from '../rules/contact-schema';
import type { ContactDoc } from './contact-model';
import { toContactView } from './contact-view';
import { rfmScores } from './rfm-score';

export type Classifier = (ruleSet: RuleSetPlan, bindings: { contact: ContactView; now: Date }) => { value: string; reason: string; rule: number | 'otherwise' } | null;

export const defaultClassifier: Classifier = (ruleSet, bindings) => rulesClassify(ruleSet, bindings);

/** What one rule set picked for one contact (`changed`: differs from the stored value). */
export interface ClassifiedValue { ruleSet: string; field: string; value: string; rule: string; reason: string; changed: boolean }

export interface ClassifyOutcome {
  /** $set paths for what changed (empty: nothing to write). */
  set: Record<string, unknown>;
  results: ClassifiedValue[];
}

/** Rule sets that classify contacts (not inbound messages) into a field name we can store. */
export function contactRuleSets(ruleSets: RuleSetPlan[]): RuleSetPlan[] {
  return ruleSets.filter((rs) => rs.over !== 'message' && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(rs.field));
}

/** Classifies one contact: the RFM scores, then each rule set in order (a later one may read an earlier one's field). */
export function classifyOne(classifier: Classifier | undefined, doc: ContactDoc, ruleSets: RuleSetPlan[], now: Date): ClassifyOutcome {
  const run = classifier ?? defaultClassifier;
  const set: Record<string, unknown> = {};
  const results: ClassifiedValue[] = [];
  const scores = rfmScores(doc.engagement, now);
  const stored = doc.rfmScore;
  if (!stored || stored.recency !== scores.recency || stored.frequency !== scores.frequency || stored.monetary !== scores.monetary) {
    set.rfmScore = { ...scores, at: now };
  }
  let current: ContactDoc = { ...doc, rfmScore: { ...scores, at: now } };
  for (const rs of contactRuleSets(ruleSets)) {
    const result = run(rs, { contact: toContactView(current), now });
    if (!result) continue;
    const rule = `${rs.name}#${result.rule}`;
    const before = (doc.classification as Record<string, { value?: string } | undefined> | undefined)?.[rs.field];
    const changed = before?.value !== result.value;
    results.push({ ruleSet: rs.name, field: rs.field, value: result.value, rule, reason: result.reason, changed });
    if (!changed) continue;
    set[`classification.${rs.field}`] = { value: result.value, rule, reason: result.reason, at: now };
    current = { ...current, classification: { ...(current.classification ?? {}), [rs.field]: { value: result.value, rule, reason: result.reason, at: now } } };
  }
  return { set, results };
}

/** $set paths for the classification changes of one contact (empty: nothing changed). */
export function classifyWith(classifier: Classifier | undefined, doc: ContactDoc, ruleSets: RuleSetPlan[], now: Date): Record<string, unknown> {
  return classifyOne(classifier, doc, ruleSets, now).set;
}
