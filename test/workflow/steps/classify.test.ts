import { contact, contactDoc, deploy, plan, useEngine } from '../helpers';

describe('the classify step', () => {
  const engine = useEngine();

  it('stores the value of the first matching rule of the rule set', async () => {
    const p = await deploy(plan('classify-importance', [{ id: 'rank', kind: 'classify', ruleSet: 'importance' }], {
      ruleSets: {
        importance: {
          name: 'importance', field: 'importance', otherwise: 'normal',
          rules: [
            { value: 'vip', when: { source: '"big_spender" in contact.tags' }, reason: 'big spender' },
            { value: 'potential', when: { source: '"newsletter" in contact.tags' }, reason: 'reads us' },
          ],
        },
      },
    }));
    const vip = await contact({ tags: ['newsletter', 'big_spender'] });
    const plain = await contact();
    await (await engine.start(p, vip)).result();
    await (await engine.start(p, plain)).result();
    expect(await contactDoc(vip)).toMatchObject({ classification: { importance: { value: 'vip' } } });
    expect(await contactDoc(plain)).toMatchObject({ classification: { importance: { value: 'normal' } } });
  });
});
