import { contact, contactDoc, deploy, plan, useEngine } from '../helpers';

describe('the update step', () => {
  const engine = useEngine();

  it('sets fields from literals and expressions, adds and removes tags, and changes consent and email status', async () => {
    const p = await deploy(plan('update-all', [
      {
        id: 'mark', kind: 'update',
        set: { lifecycle: 'active', 'attributes.greeting': { source: '"hi " + contact.firstName' } },
        addTags: ['onboarded'], removeTags: ['new'],
        consent: { channel: 'email', status: 'unsubscribed' }, emailStatus: 'dormant',
      },
    ]));
    const c = await contact({ tags: ['new', 'keep'], firstName: 'Ana' });
    await (await engine.start(p, c)).result();
    const doc = await contactDoc(c);
    expect(doc.tags).toEqual(['keep', 'onboarded']);
    expect(doc).toMatchObject({
      classification: { lifecycle: { value: 'active' } }, attributes: { greeting: 'hi Ana' },
      consent: { email: { status: 'unsubscribed' } }, emailStatus: 'dormant',
    });
  });
});
