import { contact, deploy, plan, useEngine } from '../helpers';
import type { JourneyResult } from '../../../workflows/definitions';

describe('the exit step', () => {
  const engine = useEngine();

  it('ends the run with the outcome and reason it names, skipping the steps after it', async () => {
    const p = await deploy(plan('exit-early', [
      { id: 'stop', kind: 'exit', outcome: 'exited', reason: 'not for this market' },
      { id: 'never', kind: 'send', template: 'never', marketing: false },
    ]));
    const r: JourneyResult = await (await engine.start(p, await contact())).result();
    expect(r).toMatchObject({ outcome: 'exited', reason: 'not for this market', step: 'stop', sends: [] });
  });
});
