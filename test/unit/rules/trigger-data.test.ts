/**
 * Trigger data and entity keys: a run keeps exactly the declared fields of its trigger event, typed as
 * declared, and a keyed journey's run id is bounded and carries no personal data.
 */
import fc from 'fast-check';
import { compileJourney } from '../../../rules';
import { entryKeyOf, pickTriggerData, triggerView } from '../../../rules/trigger-data';
import { evaluate } from '../../../rules/evaluate';
import { keyedWorkflowId } from '../../../workflows/definitions';

const journey = (body: string, steps = '  - update: { add_tags: [x] }') => compileJourney({ path: 'j.yaml', text: `journey: j\n${body}\nsteps:\n${steps}\n` }, { templates: {} });

describe('trigger data', () => {
  const types = { orderId: 'string', amount: 'number', quantity: 'int', gift: 'bool' } as const;

  it('keeps the declared fields only, and refuses an event whose declared field is missing or of another type', () => {
    expect(pickTriggerData(types, { orderId: 'A-1', amount: 9.5, quantity: 2, gift: false, email: 'ana@example.com', note: 'x' }))
      .toEqual({ data: { orderId: 'A-1', amount: 9.5, quantity: 2, gift: false } });
    expect(pickTriggerData(types, { amount: 9.5, quantity: 2, gift: false })).toEqual({ error: 'data.orderId is missing (declared string)' });
    expect(pickTriggerData(types, { orderId: 'A-1', amount: '9.5', quantity: 2, gift: false })).toEqual({ error: 'data.amount is not a number' });
    expect(pickTriggerData(types, { orderId: 'A-1', amount: 9.5, quantity: 2.5, gift: false })).toEqual({ error: 'data.quantity is not a whole number' });
    expect(pickTriggerData(types, { orderId: 'x'.repeat(257), amount: 1, quantity: 1, gift: true })).toMatchObject({ error: expect.stringContaining('at most 256') });
    expect(pickTriggerData(undefined, { email: 'ana@example.com' })).toEqual({ data: {} });
  });

  it('never lets an undeclared field through, whatever the event carries', () => {
    fc.assert(fc.property(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue()), (data) => {
      const r = pickTriggerData({ orderId: 'string' }, data);
      if ('data' in r) expect(Object.keys(r.data)).toEqual(['orderId']);
      else expect(r.error).toMatch(/^data\.orderId /);
    }), { numRuns: 300 });
  });

  it('gives int fields to expressions as CEL ints, so arithmetic type-checks and runs the same', () => {
    const trigger = triggerView({ name: 'order.completed', at: '2027-01-01T00:00:00Z', data: { quantity: 2, amount: 3, secret: 'x' } }, { quantity: 'int', amount: 'number' });
    expect(trigger.data).toEqual({ quantity: 2n, amount: 3 });
    const contact = {} as never;
    expect(evaluate('trigger.data.quantity + 1', { contact, trigger, now: new Date(0) })).toBe(3);
    expect(evaluate('trigger.data.amount * 2.0', { contact, trigger, now: new Date(0) })).toBe(6);
  });
});

describe('per-entity keys', () => {
  it('a keyed journey compiles its key and the field each listened event carries it in', () => {
    const { plan, diagnostics } = journey([
      'custom_events: [review.submitted]',
      'trigger: { event: order.completed, data: { orderId: string } }',
      'entry: { key: event.data.orderId }',
      'exit_when: contact.consent.email != "subscribed"',
    ].join('\n'), '  - wait_for: { event: review.submitted, correlate: { ref: trigger.data.orderId }, timeout: 1d }');
    expect(diagnostics).toEqual([]);
    expect(plan?.entryKey).toEqual({ expr: { source: 'event.data.orderId', at: 'j.yaml:4:15' }, byEvent: { 'review.submitted': 'ref' } });
    expect(plan?.steps.wait_for_review_submitted).toMatchObject({ correlate: { source: 'event.data.ref == (trigger.data.orderId)' } });
    expect(entryKeyOf(plan!, { name: 'order.completed', at: new Date(0), data: { orderId: 'A-7' } })).toEqual({ key: 'A-7' });
    expect(entryKeyOf(plan!, { name: 'order.completed', at: new Date(0), data: {} })).toMatchObject({ error: expect.any(String) });
  });

  it('a whole-number key is written as text; a journey without a key has none', () => {
    const { plan } = journey('trigger: { event: order.completed, data: { n: int } }\nentry: { key: event.data.n }');
    expect(entryKeyOf(plan!, { name: 'order.completed', at: new Date(0), data: { n: 42 } })).toEqual({ key: '42' });
    expect(entryKeyOf(journey('trigger: { event: order.completed }').plan!, { name: 'order.completed', at: new Date(0) })).toBeNull();
  });

  it('run ids keep plain short keys readable and hash anything else (an address never appears in an id)', () => {
    expect(keyedWorkflowId('post_purchase', 'c1', 'A-1001')).toBe('journey/post_purchase/c1/key/A-1001');
    const hashed = keyedWorkflowId('post_purchase', 'c1', 'ana@example.com');
    expect(hashed).toMatch(/^journey\/post_purchase\/c1\/key\/h-[0-9a-f]{32}$/);
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (key) => {
      const id = keyedWorkflowId('j', 'c', key);
      expect(id.length).toBeLessThanOrEqual('journey/j/c/key/'.length + 64);
      if (key.includes('@')) expect(id).not.toContain('@');
      expect(keyedWorkflowId('j', 'c', key)).toBe(id);
    }), { numRuns: 300 });
  });
});
