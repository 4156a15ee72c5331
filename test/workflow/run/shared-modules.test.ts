/**
 * The worker loads the expression engine once and shares it, frozen, between runs
 * (worker/bundle-options.ts, decision 45). Every marketer function, `matches`, timestamps and trigger
 * data must give inside that shared module exactly what they give in plain Node: a frozen export that
 * a library writes to (cel-js caches a dispatcher on each function handler) fails only there.
 */
import fs from 'node:fs';
import vm from 'node:vm';
import { CEL_FUNCTIONS, evaluate, type ContactView } from '../../../rules';
import { PRELOADED_WORKFLOW_MODULES } from '../../../worker/bundle-options';
import { workflowBundle } from '../bundle';

// The SDK's own reusable-context creator: it preloads the modules and freezes them as a worker does.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ReusableVMWorkflowCreator } = require('@temporalio/worker/lib/workflow/reusable-vm') as {
  ReusableVMWorkflowCreator: new (script: vm.Script, bundle: { code: string; filename: string }, timeoutMs: number, activities: Set<string>) => { context: Record<string, unknown> };
};

const NOW = new Date('2027-02-28T01:30:00Z');
const contact: ContactView = {
  id: 'c1', externalId: null, emailDomain: 'example.com', emailStatus: 'verified', emailVerifiedAt: null,
  emailRole: false, emailDisposable: false, firstName: 'Ana', lastName: null, locale: 'zh-CN', timezone: 'Asia/Shanghai',
  birthdayMonth: 2, birthdayDay: 28, tags: ['vip'], consent: { email: 'unsubscribed', sms: 'unknown', phone: 'unknown' },
  source: 'signup_form', channel: null, lifecycle: null, importance: null, rfm: null, businessType: null, rfmScore: { recency: null, frequency: null, monetary: null },
  engagement: { opens: 2, clicks: 0, orders: 1, revenue: 120.5, lastOpenAt: new Date('2027-02-20T00:00:00Z'), lastClickAt: null, lastOrderAt: null },
  lastActivityAt: null, createdAt: new Date('2026-01-01T00:00:00Z'), attributes: { plan: 'pro' }, owner: null, surveys: {},
};

/** A call of each documented function with an argument of each declared type. */
function callOf(signature: string): string {
  const m = /^(\w+)\((.*)\):/.exec(signature);
  if (!m) throw new Error(`unreadable signature ${signature}`);
  const arg = (t: string): string => {
    if (t === 'Contact') return 'contact';
    if (t === 'string') return '"vip"';
    if (t === 'int') return '3';
    if (t === 'list<string>') return '["x", "vip"]';
    if (t === 'null') return 'null';
    if (t.endsWith('Timestamp')) return 'contact.engagement.lastOpenAt';
    if (t.endsWith('Duration')) return 'days(2)';
    throw new Error(`no sample argument for type ${t} in ${signature}`);
  };
  const params = m[2].trim() ? m[2].split(',').map((t) => arg(t.trim())) : [];
  return `${m[1]}(${params.join(', ')})`;
}

/**
 * A comparable copy: bigints as numbers, and objects that keep their value out of sight (cel-js's
 * Duration has only private fields) as their string form, which either realm prints the same.
 */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x: unknown) => {
  if (typeof x === 'bigint') return Number(x);
  if (x !== null && typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length === 0 && String(x) !== '[object Object]') return String(x);
  return x;
}));

describe('the expression engine shared between runs', () => {
  let shared: (src: string, b: object) => unknown;

  beforeAll(async () => {
    const option = await workflowBundle();
    const code = 'code' in option ? String(option.code) : fs.readFileSync(String((option as { codePath: string }).codePath), 'utf8');
    const creator = new ReusableVMWorkflowCreator(new vm.Script(code, { filename: 'workflow-bundle.js' }), { code, filename: 'workflow-bundle.js' }, 5000, new Set());
    const cache = creator.context.__webpack_module_cache__ as Record<string, { exports: { evaluate: typeof evaluate } } | undefined>;
    const mod = cache['./rules/evaluate.ts'];
    if (!mod) throw new Error('rules/evaluate.ts was not preloaded into the shared context');
    expect(Object.isFrozen(mod.exports)).toBe(true);
    // A run's dates are made inside the context (its `Date`, with workflows/sandbox-fixes.ts applied
    // when the workflow code loads): load it, and copy the bindings into that realm.
    (creator.context.__TEMPORAL__ as { importWorkflows(): unknown }).importWorkflows();
    const intoContext = vm.runInContext(`(function into(v) {
      if (!v || typeof v !== 'object') return v;
      if (typeof v.getTime === 'function') return new Date(v.getTime());
      if (Array.isArray(v)) return Array.from(v, into);
      const o = {};
      for (const k of Object.keys(v)) o[k] = into(v[k]);
      return o;
    })`, creator.context as vm.Context) as (v: unknown) => unknown;
    shared = (src, b) => mod.exports.evaluate(src, intoContext(b) as never);
  }, 120_000);

  it('preloads the modules the bundle options name', () => {
    expect(PRELOADED_WORKFLOW_MODULES.some((m) => m.endsWith('evaluate.ts'))).toBe(true);
  });

  const expressions = [
    ...CEL_FUNCTIONS.map((f) => callOf(f.signature)),
    '!isSubscribed(contact)',
    'contact.firstName.matches("^A.a$")',
    'contact.engagement.lastOpenAt < ago(days(3))',
    'now - duration("1h") > contact.createdAt',
    'trigger.data.orderId == "C-1" && event.name == "order.completed"',
  ];
  it.each(expressions)('%s gives the same value as in plain Node', (src) => {
    const bindings = {
      contact, now: NOW, defaultTimezone: 'Europe/Paris',
      event: { name: 'order.completed', at: NOW, data: { orderId: 'C-1' } },
      trigger: { name: 'order.completed', at: NOW, data: { orderId: 'C-1' } },
    };
    const expected = plain(evaluate(src, bindings));
    expect(plain(shared(src, bindings))).toEqual(expected);
    // And again: caches filled by the first evaluation must serve the second.
    expect(plain(shared(src, bindings))).toEqual(expected);
  });

  it('reads the journey default time zone through the shared clock when the contact has none', () => {
    for (const defaultTimezone of ['Europe/Paris', 'America/New_York']) {
      const bindings = { contact: { ...contact, timezone: null }, now: NOW, defaultTimezone };
      const expected = plain(evaluate('localHour(contact)', bindings));
      expect(plain(shared('localHour(contact)', bindings))).toEqual(expected);
    }
    expect(plain(evaluate('localHour(contact)', { contact: { ...contact, timezone: null }, now: NOW, defaultTimezone: 'America/New_York' }))).toBe(20);
  });
});
