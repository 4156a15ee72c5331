/**
 * Pushdown agrees with evaluation: for generated contacts and segment expressions, the MongoDB
 * filter (checked with the in-test matcher, see mongo-matcher.ts) selects a contact exactly when
 * evaluateBool says the expression is true, including null fields and CEL error absorption.
 */
import fc from 'fast-check';
import { CONTACT_FIELDS, evaluateBool, toMongoFilter, type ContactView } from '../../../rules';
import { matches } from './mongo-matcher';

const DAY = 86_400_000;
const NOW = new Date('2026-05-15T12:34:56.789Z');

const strOf = (xs: string[]) => fc.constantFrom(...xs);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 3 });
const timeArb = fc.oneof(
  fc.integer({ min: -400, max: 5 }).map((d) => new Date(NOW.getTime() + d * DAY)),
  fc.integer({ min: -400 * DAY, max: DAY }).map((ms) => new Date(NOW.getTime() + ms)),
  fc.constantFrom(30, 90, 180).map((d) => new Date(NOW.getTime() - d * DAY)),
);

const contactArb: fc.Arbitrary<ContactView> = fc.record({
  id: fc.constant('c1'),
  externalId: maybe(strOf(['x1', 'x2'])),
  emailDomain: maybe(strOf(['example.com', 'mail.cn'])),
  emailStatus: strOf(['unverified', 'pending', 'verified', 'bounced', 'dormant']),
  emailVerifiedAt: maybe(timeArb),
  emailRole: fc.boolean(),
  emailDisposable: fc.boolean(),
  firstName: maybe(strOf(['Ana', 'Bo', ''])),
  lastName: maybe(strOf(['Li', 'Smith'])),
  locale: maybe(strOf(['en', 'zh-CN'])),
  timezone: maybe(strOf(['UTC', 'Asia/Shanghai'])),
  birthdayMonth: maybe(fc.integer({ min: 1, max: 12 })),
  birthdayDay: maybe(fc.integer({ min: 1, max: 31 })),
  tags: fc.uniqueArray(strOf(['vip', 'onboarded', 'cold', 'sunset']), { maxLength: 3 }),
  consent: fc.record({ email: strOf(['subscribed', 'unsubscribed', 'pending', 'unknown']), sms: strOf(['subscribed', 'unknown']), phone: strOf(['unknown']) }),
  source: maybe(strOf(['signup_form', 'import', 'api'])),
  channel: maybe(strOf(['organic', 'ads'])),
  lifecycle: maybe(strOf(['new', 'active', 'at_risk', 'churned'])),
  importance: maybe(strOf(['vip', 'potential', 'normal'])),
  rfm: maybe(strOf(['champions', 'loyal'])),
  businessType: maybe(strOf(['pre_sales', 'after_sales'])),
  rfmScore: fc.record({ recency: maybe(fc.integer({ min: 0, max: 5 })), frequency: maybe(fc.integer({ min: 0, max: 5 })), monetary: maybe(fc.integer({ min: 0, max: 5 })) }),
  engagement: fc.record({
    opens: fc.integer({ min: 0, max: 12 }), clicks: fc.integer({ min: 0, max: 5 }), orders: fc.integer({ min: 0, max: 12 }),
    revenue: fc.constantFrom(0, 99.5, 100, 500, 1000, 2500.25),
    lastOpenAt: maybe(timeArb), lastClickAt: maybe(timeArb), lastOrderAt: maybe(timeArb),
  }),
  lastActivityAt: maybe(timeArb),
  createdAt: timeArb,
  attributes: fc.constant({}),
  owner: maybe(strOf(['wei', 'sales-2'])),
  surveys: fc.constant({}),
});

/** The stored document for a view (mongoPath layout); nulls are sometimes stored, sometimes missing. */
function toDoc(c: ContactView, dropNulls: boolean): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  for (const f of CONTACT_FIELDS) {
    if (!f.mongoPath || f.path === 'id') continue;
    let v: unknown = c as unknown;
    for (const p of f.path.split('.')) v = (v as Record<string, unknown>)[p];
    if (v === null && dropNulls) continue;
    const parts = f.mongoPath.split('.');
    let o = doc;
    for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
    o[parts[parts.length - 1]] = v;
  }
  return doc;
}

const strField = strOf(['emailStatus', 'consent.email', 'firstName', 'source', 'lifecycle', 'importance', 'emailDomain']);
const strVal = strOf(['verified', 'subscribed', 'pending', 'Ana', '', 'import', 'active', 'vip', 'example.com']);
const intField = strOf(['engagement.opens', 'engagement.clicks', 'engagement.orders', 'birthdayMonth', 'birthdayDay', 'rfmScore.recency', 'rfmScore.monetary']);
const tsField = strOf(['emailVerifiedAt', 'engagement.lastOpenAt', 'engagement.lastClickAt', 'engagement.lastOrderAt', 'lastActivityAt', 'createdAt']);
const nullableField = strOf(['firstName', 'lifecycle', 'birthdayMonth', 'lastActivityAt', 'engagement.lastOpenAt', 'emailVerifiedAt', 'rfmScore.frequency']);
const cmpOp = strOf(['==', '!=', '<', '<=', '>', '>=']);
const timeExpr = fc.oneof(
  fc.constant('now'),
  fc.integer({ min: 0, max: 200 }).map((n) => `ago(days(${n}))`),
  fc.integer({ min: 1, max: 500 }).map((n) => `now - duration("${n}h")`),
  fc.integer({ min: 1, max: 30 }).map((n) => `now - days(${n})`),
  fc.constantFrom('timestamp("2026-01-01T00:00:00Z")', 'timestamp("2025-06-30T12:00:00Z")'),
);

const atom: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(strField, fc.constantFrom('==', '!='), strVal, fc.boolean()).map(([f, op, v, swap]) => (swap ? `"${v}" ${op} contact.${f}` : `contact.${f} ${op} "${v}"`)),
  fc.tuple(strField, fc.uniqueArray(strVal, { minLength: 1, maxLength: 3 })).map(([f, vs]) => `contact.${f} in [${vs.map((v) => `"${v}"`).join(', ')}]`),
  fc.tuple(intField, cmpOp, fc.integer({ min: 0, max: 12 }), fc.boolean()).map(([f, op, n, swap]) => (swap ? `${n} ${op} contact.${f}` : `contact.${f} ${op} ${n}`)),
  fc.tuple(strOf(['<', '<=', '>', '>=']), fc.constantFrom('100', '100.0', '99.5', '0', '1000.0')).map(([op, v]) => `contact.engagement.revenue ${op} ${v}`),
  fc.tuple(strOf(['==', '!=']), fc.constantFrom('100.0', '99.5', '0.0')).map(([op, v]) => `contact.engagement.revenue ${op} ${v}`),
  fc.tuple(strOf(['emailRole', 'emailDisposable']), fc.constantFrom('', ' == true', ' == false', ' != true')).map(([f, s]) => `contact.${f}${s}`),
  fc.tuple(tsField, strOf(['<', '<=', '>', '>=']), timeExpr).map(([f, op, t]) => `contact.${f} ${op} ${t}`),
  fc.tuple(strOf(['daysSince', 'hoursSince']), tsField, cmpOp, fc.constantFrom(0, 1, 7, 30, 89, 90, 91, 180, 400, 30000), fc.boolean())
    .map(([fn, f, op, n, swap]) => (swap ? `${n} ${op} ${fn}(contact.${f})` : `${fn}(contact.${f}) ${op} ${n}`)),
  fc.tuple(nullableField, fc.constantFrom('==', '!=')).map(([f, op]) => `contact.${f} ${op} null`),
  strOf(['vip', 'onboarded', 'cold', 'nope']).map((t) => `"${t}" in contact.tags`),
  strOf(['vip', 'cold']).map((t) => `hasTag(contact, "${t}")`),
  fc.constant('hasAnyTag(contact, ["vip", "sunset"])'),
  fc.constant('isSubscribed(contact)'),
  fc.constantFrom('true', 'false'),
);

const exprArb: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    atom,
    fc.tuple(tie('e'), tie('e')).map(([a, b]) => `(${a}) && (${b})`),
    fc.tuple(tie('e'), tie('e')).map(([a, b]) => `(${a}) || (${b})`),
    tie('e').map((a) => `!(${a})`),
  ),
})).e;

describe('segment pushdown', () => {
  it('selects exactly the contacts the evaluator accepts (1,000+ generated cases)', () => {
    fc.assert(
      fc.property(contactArb, exprArb, fc.boolean(), (contact, source, dropNulls) => {
        const pushed = toMongoFilter(source, { now: NOW });
        if (!('filter' in pushed)) throw new Error(`${source} was not pushed down: ${pushed.reason}`);
        const byEvaluator = evaluateBool(source, { contact, now: NOW });
        const byFilter = matches(toDoc(contact, dropNulls), pushed.filter);
        if (byEvaluator !== byFilter) {
          throw new Error(`disagree on ${source}: evaluator ${byEvaluator}, filter ${byFilter}\nfilter: ${JSON.stringify(pushed.filter)}`);
        }
      }),
      { numRuns: 1500, seed: Number(process.env.FC_SEED ?? 20260515) },
    );
  });

  it('says why an expression cannot be pushed down instead of guessing', () => {
    const r = toMongoFilter('contact.firstName.startsWith("A")', { now: NOW });
    expect(r).toEqual({ reason: expect.stringContaining('contact by contact') });
    expect(toMongoFilter('size(contact.tags) > 1', { now: NOW })).toHaveProperty('reason');
  });

  it('counts never-active contacts as inactive, in the filter as in the evaluator', () => {
    const r = toMongoFilter('daysSince(contact.lastActivityAt) > 90', { now: NOW });
    expect(r).toEqual({ filter: { $or: [{ lastActivityAt: { $lte: new Date(NOW.getTime() - 91 * DAY) } }, { lastActivityAt: null }] } });
  });
});
