/**
 * Classification of contacts by rule sets (lifecycle, importance, RFM, business type, ...): one contact
 * by key (after an event), or every live contact one bounded page at a time by `_id` (the daily schedule
 * and `sojourn classify`), writing only what changed. A dry run computes the same distribution and
 * writes nothing. Part of the contacts repository (data/contacts.ts composes it).
 */
import { Types } from 'mongoose';
import type { RuleSetPlan } from '../rules/plan';
import { ContactModel, type ContactDoc } from './contact-model';
import { classifyOne, classifyWith, type Classifier } from './classify';

/** What classification needs from the rest of the repository. */
export interface ContactClassificationDeps {
  now: () => Date;
  getContact: (id: string) => Promise<ContactDoc | null>;
  /** Rule-set evaluator (defaults to rules/ classify). */
  classifier?: Classifier;
}

/** Contacts per value and rule: `{ importance: { vip: { 'importance#0': 3 } } }` (field, value, rule). */
export type ClassDistribution = Record<string, Record<string, Record<string, number>>>;

export interface ClassifyPageInput {
  ruleSets: RuleSetPlan[];
  /** `_id` (hex) of the last contact of the previous page; null for the first page. */
  afterId: string | null;
  pageSize: number;
  /** The classification time (one value for every page of a pass, so a pass is consistent). */
  at: Date;
  /** Compute the distribution only; store nothing. */
  dryRun?: boolean;
}

export interface ClassifyPageResult {
  scanned: number;
  /** Contacts whose stored classification (or RFM scores) changed, or would change in a dry run. */
  changed: number;
  distribution: ClassDistribution;
  /** Resume after this `_id`; null when this was the last page. */
  nextAfterId: string | null;
}

/** Adds one distribution into another (page totals into a pass total). */
export function addDistribution(into: ClassDistribution, from: ClassDistribution): ClassDistribution {
  for (const [field, values] of Object.entries(from)) {
    const f = (into[field] ??= {});
    for (const [value, rules] of Object.entries(values)) {
      const v = (f[value] ??= {});
      for (const [rule, n] of Object.entries(rules)) v[rule] = (v[rule] ?? 0) + n;
    }
  }
  return into;
}

export function createContactClassification(deps: ContactClassificationDeps) {
  const { now, getContact } = deps;

  /**
   * Classifies one contact by key (one read, at most one write); null when it is gone or erased.
   * `opts.contact`: the document as the caller just wrote it (the ingest's event update), instead of the read.
   */
  async function classifyContact(id: string, ruleSets: RuleSetPlan[] | Record<string, RuleSetPlan>, opts: { now?: Date; contact?: ContactDoc } = {}) {
    const doc = opts.contact && String(opts.contact._id) === id ? opts.contact : await getContact(id);
    if (!doc || doc.erasedAt) return null;
    const at = opts.now ?? now();
    const set = classifyWith(deps.classifier, doc, Object.values(ruleSets), at);
    if (Object.keys(set).length) await ContactModel.collection.updateOne({ _id: doc._id }, { $set: { ...set, updatedAt: at }, $inc: { rev: 1 } });
    return { changed: Object.keys(set).length > 0, set };
  }

  /** One bounded page of live contacts after `afterId` by `_id` (the index every database serves), classified. */
  async function classifyPage(input: ClassifyPageInput): Promise<ClassifyPageResult> {
    const filter: Record<string, unknown> = { erasedAt: null };
    if (input.afterId) filter._id = { $gt: new Types.ObjectId(input.afterId) };
    const page = await ContactModel.find(filter).sort({ _id: 1 }).limit(input.pageSize).lean<ContactDoc[]>().exec();
    const distribution: ClassDistribution = {};
    const ops = [];
    for (const doc of page) {
      const { set, results } = classifyOne(deps.classifier, doc, input.ruleSets, input.at);
      for (const r of results) {
        const byRule = ((distribution[r.field] ??= {})[r.value] ??= {});
        byRule[r.rule] = (byRule[r.rule] ?? 0) + 1;
      }
      if (Object.keys(set).length) ops.push({ updateOne: { filter: { _id: doc._id }, update: { $set: { ...set, updatedAt: input.at }, $inc: { rev: 1 } } } });
    }
    if (ops.length && !input.dryRun) await ContactModel.collection.bulkWrite(ops as never, { ordered: false });
    return {
      scanned: page.length, changed: ops.length, distribution,
      nextAfterId: page.length < input.pageSize ? null : String(page[page.length - 1]._id),
    };
  }

  /** Classifies every live contact in pages of `batchSize` by _id (bounded memory); writes only changes (none in a dry run). */
  async function classifyAll(
    ruleSets: RuleSetPlan[] | Record<string, RuleSetPlan>,
    opts: { batchSize?: number; now?: Date; dryRun?: boolean; onPage?: (totals: { scanned: number; changed: number }) => void } = {},
  ) {
    const list = Object.values(ruleSets);
    const at = opts.now ?? now();
    let afterId: string | null = null;
    let scanned = 0;
    let changed = 0;
    const distribution: ClassDistribution = {};
    for (;;) {
      const r: ClassifyPageResult = await classifyPage({ ruleSets: list, afterId, pageSize: opts.batchSize ?? 500, at, dryRun: opts.dryRun });
      scanned += r.scanned;
      changed += r.changed;
      addDistribution(distribution, r.distribution);
      opts.onPage?.({ scanned, changed });
      if (r.nextAfterId === null) break;
      afterId = r.nextAfterId;
    }
    return { scanned, changed, distribution };
  }

  /** About how many contacts a full pass reads (the collection's metadata count, no scan): progress and ETA only. */
  async function estimateContacts(): Promise<number> {
    return ContactModel.estimatedDocumentCount().exec();
  }

  return { classifyContact, classifyPage, classifyAll, estimateContacts };
}
