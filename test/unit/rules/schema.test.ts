/**
 * The published JSON Schemas (schema/*.schema.json, used by the VS Code YAML extension) accept the
 * shipped files and reject shape errors the compiler also rejects. Uses ajv (installed with fastify).
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import YAML from 'yaml';
import { STEP_KIND_SPECS, STEP_KINDS } from '../../../rules/step-kinds';

const root = path.join(__dirname, '..', '..', '..');
const load = (f: string) => JSON.parse(fs.readFileSync(path.join(root, 'schema', f), 'utf8')) as object;
const ajv = new Ajv({ allErrors: true, strict: false });
const journey = ajv.compile(load('journey.schema.json'));
const rules = ajv.compile(load('rules.schema.json'));
const read = (p: string) => YAML.parse(fs.readFileSync(path.join(root, p), 'utf8')) as unknown;

describe('the JSON schemas for editors', () => {
  const shipped = fs.readdirSync(path.join(root, 'journeys')).filter((f) => f.endsWith('.yaml') && !f.includes('.scenarios.'));

  it.each(shipped)('accept journeys/%s', (f) => {
    const validate = f.endsWith('.rules.yaml') ? rules : journey;
    expect(validate(read(`journeys/${f}`)) ? [] : validate.errors).toEqual([]);
  });

  it.each(['unknown_key', 'unknown_step_kind', 'bad_local_time', 'bad_duration', 'wait_for_no_timeout', 'bad_entry', 'goal_no_event'])(
    'reject the %s golden case, like the compiler', (name) => {
      expect(journey(read(`test/golden/${name}.yaml`))).toBe(false);
    });

  it('list the step kinds of rules/step-kinds.ts, each with the keys the parser allows', () => {
    interface Alt { required: string[]; properties: Record<string, { properties?: object; oneOf?: { properties?: object }[] }> }
    const alts = (load('journey.schema.json') as { definitions: { steps: { items: { oneOf: Alt[] } } } }).definitions.steps.items.oneOf;
    const kindOf = (a: Alt) => a.required[0] as keyof typeof STEP_KIND_SPECS;
    expect(alts.map(kindOf)).toEqual(STEP_KINDS);
    for (const alt of alts) {
      const kind = kindOf(alt);
      const value = alt.properties[kind];
      const valueKeys = [...new Set([value, ...(value.oneOf ?? [])].flatMap((o) => Object.keys(o.properties ?? {})))]; // alternatives may share a key (at)
      expect({ kind, siblings: Object.keys(alt.properties).filter((k) => k !== kind && k !== 'id').sort(), valueKeys: valueKeys.sort() })
        .toEqual({ kind, siblings: [...STEP_KIND_SPECS[kind].siblingKeys].sort(), valueKeys: [...STEP_KIND_SPECS[kind].valueKeys].sort() });
    }
  });

  it('point every shipped journey at the schema for the VS Code YAML extension', () => {
    for (const f of shipped) {
      const first = fs.readFileSync(path.join(root, 'journeys', f), 'utf8').split('\n')[0];
      expect(first).toMatch(/^# yaml-language-server: \$schema=\.\.\/schema\/(journey|rules)\.schema\.json$/);
    }
  });
});
