/**
 * The variable uses validate checks, read from templates: where each is (file line and column, front
 * matter included) and which are optional (handled when missing).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readTemplateUses } from '../../../mail/template-variables';
import { useProblem } from '../../../rules/template-vars';

describe('template variable uses', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-tplvars-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('points into the file, treats fallback and #if as optional, and skips #each bodies and data variables', () => {
    fs.writeFileSync(path.join(dir, 'note.hbs'), [
      '---',
      'subject: "Order {{trigger.data.orderId}} for {{fallback contact.firstName \'you\'}}"',
      'kind: transactional',
      '---',
      '{{#if vars.code}}<b>{{vars.code}}</b>{{/if}} {{formatNumber vars.count}}',
      '{{#each contact.tags}}{{this}} {{name}} {{@index}}{{/each}} {{{links.preferences}}}',
    ].join('\n'));
    const uses = readTemplateUses(dir).note.map(({ path: p, optional, line, col }) => ({ p, optional, line, col }));
    expect(uses).toEqual([
      { p: 'trigger.data.orderId', optional: false, line: 2, col: 19 },
      { p: 'contact.firstName', optional: true, line: 2, col: 57 },
      { p: 'vars.code', optional: true, line: 5, col: 7 },
      { p: 'vars.code', optional: true, line: 5, col: 23 },
      { p: 'vars.count', optional: false, line: 5, col: 61 },
      { p: 'contact.tags', optional: false, line: 6, col: 9 },
      { p: 'links.preferences', optional: false, line: 6, col: 64 },
    ]);
    const line2 = fs.readFileSync(path.join(dir, 'note.hbs'), 'utf8').split('\n')[1];
    expect(line2.slice(18)).toMatch(/^trigger\.data\.orderId/);
    expect(uses.filter((u) => useProblem({ path: u.p, optional: u.optional, file: 'x', line: 1, col: 1 })).map((u) => u.p)).toEqual(['vars.count']);
  });
});
