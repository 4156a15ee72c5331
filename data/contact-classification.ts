/**
 * Classification of contacts by rule sets (lifecycle, importance, RFM, ...): one contact, or every live
 * contact in pages by `_id`, writing only what changed. Part of the contacts repository (data/contacts.ts
 * composes it).
 */
import type { Types } from 'mongoose';
import type { RuleSetPlan } from '../rules/plan';
import { ContactModel, type ContactDoc } from './contact-model';
import { classifyWith, type Classifier } from './classify';

/** What classification needs from the rest of the repository. */
export interface ContactClassificationDeps {
  now: () => Date;
  getContact: (id: string) => Promise<ContactDoc | null>;
  /** Rule-set evaluator (defaults to rules/ classify). */
  classifier?: Classifier;
}

export function createContactClassification(deps: ContactClassificationDeps) {
  const { now, getContact } = deps;

  async function classifyContact(id: string, ruleSets: RuleSetPlan[] | Record<string, RuleSetPlan>, opts: { now?: Date } = {}) {
    const doc = await getContact(id);
    if (!doc || doc.erasedAt) return null;
    const at = opts.now ?? now();
    const set = classifyWith(deps.classifier, doc, Object.values(ruleSets), at);
    if (Object.keys(set).length) await ContactModel.collection.updateOne({ _id: doc._id }, { $set: { ...set, updatedAt: at }, $inc: { rev: 1 } });
    return { changed: Object.keys(set).length > 0, set };
  }

  /** Classifies every live contact in pages of `batchSize` by _id (bounded memory); writes only changes. */
  async function classifyAll(ruleSets: RuleSetPlan[] | Record<string, RuleSetPlan>, opts: { batchSize?: number; now?: Date } = {}) {
    const batchSize = opts.batchSize ?? 500;
    const list = Object.values(ruleSets);
    const at = opts.now ?? now();
    let last: Types.ObjectId | null = null;
    let scanned = 0;
    let changed = 0;
    for (;;) {
      const filter: Record<string, unknown> = { erasedAt: null };
      if (last) filter._id = { $gt: last };
      const page = await ContactModel.find(filter).sort({ _id: 1 }).limit(batchSize).lean<ContactDoc[]>().exec();
      if (!page.length) break;
      const ops = [];
      for (const doc of page) {
        const set = classifyWith(deps.classifier, doc, list, at);
        if (Object.keys(set).length) ops.push({ updateOne: { filter: { _id: doc._id }, update: { $set: { ...set, updatedAt: at }, $inc: { rev: 1 } } } });
      }
      if (ops.length) await ContactModel.collection.bulkWrite(ops as never, { ordered: false });
      scanned += page.length;
      changed += ops.length;
      last = page[page.length - 1]._id;
      if (page.length < batchSize) break;
    }
    return { scanned, changed };
  }

  return { classifyContact, classifyAll };
}
