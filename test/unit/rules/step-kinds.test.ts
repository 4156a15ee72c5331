/**
 * What the rest of the code knows about a step kind comes from rules/step-kinds.ts: the time scale
 * (lib/time-scale.ts), the events a run listens to (data/journey-versions.ts), the migrate labels, the
 * parser's "not a step kind" message. Checked on the shipped journeys, compiled as deploy compiles them.
 */
import path from 'node:path';
import { loadProject } from '../../../engine/project';
import { scalePlan } from '../../../lib/time-scale';
import { listensTo } from '../../../data/journey-versions';
import { compileJourney, type JourneyPlan, type Step } from '../../../rules';
import { STEP_KINDS, stepLabel } from '../../../rules/step-kinds';

const root = path.join(__dirname, '..', '..', '..');
const byId = loadProject([path.join(root, 'journeys')], path.join(root, 'templates')).result.plans;
const plans = Object.values(byId);
const plan = (id: string) => { const p = byId[id]; if (!p) throw new Error(`no journey ${id}`); return p; };
const ofKind = <K extends Step['kind']>(p: JourneyPlan, kind: K) => Object.values(p.steps).filter((s): s is Extract<Step, { kind: K }> => s.kind === kind);

describe('the step kinds record', () => {
  it('scales wait durations and wait_for timeouts, and nothing else', () => {
    const p = plan('reengagement');
    const scaled = scalePlan(p, 1 / 86_400);
    for (const [id, s] of Object.entries(p.steps)) {
      const t = scaled.steps[id];
      if (s.kind === 'wait_for') expect(t).toEqual({ ...s, timeoutMs: Math.max(1000, Math.round(s.timeoutMs / 86_400)) });
      else if (s.kind === 'wait' && s.mode === 'duration') expect(t).toEqual({ ...s, ms: Math.max(1000, Math.round(s.ms / 86_400)) });
      else expect(t).toBe(s);
    }
    expect(ofKind(p, 'wait_for').map((s) => ofKind(scaled, 'wait_for').find((x) => x.id === s.id)?.timeoutMs)).toEqual(ofKind(p, 'wait_for').map(() => 7_000));
    expect(scaled.hash).not.toBe(p.hash);
  });

  it('routes a run the events its wait_for steps and goal wait for', () => {
    expect(listensTo(plan('verification'))).toContain('email.verified');
    expect(listensTo(plan('reengagement'))).toContain('email.clicked');
    for (const p of plans) {
      const expected = new Set([...ofKind(p, 'wait_for').map((s) => s.event), ...(p.goal ? [p.goal.event] : []), ...(p.exitWhen ? ['*'] : [])]);
      expect(listensTo(p)).toEqual([...expected].sort());
    }
  });

  it('names positions for journeys migrate', () => {
    const w = ofKind(plan('verification'), 'wait_for')[0];
    expect(stepLabel(w)).toBe(`wait_for ${w.event}`);
    const s = ofKind(plan('welcome'), 'send')[0];
    expect(stepLabel(s)).toBe(`send ${s.template}`);
  });

  it('lists every kind in the parser\'s unknown-kind diagnostic', () => {
    const { diagnostics } = compileJourney({ path: 'x.yaml', text: 'id: x\ntrigger: { event: contact.created }\nsteps:\n  - sned: welcome\n' }, { templates: {} });
    const d = diagnostics.find((x) => x.code === 'E_UNKNOWN_STEP_KIND');
    expect(d?.message).toContain(`(${STEP_KINDS.join(', ')})`);
    expect(d?.message).toMatch(/did you mean "send"/i);
  });
});
