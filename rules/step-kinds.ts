/**
 * The step kinds, declared once. The plan's `Step` union (rules/plan.ts) gives each kind its shape; this
 * record gives every other place that knows a kind by name what it needs: the parser's keys and its
 * "not a step kind" diagnostic, the events a waiting run listens to (dispatch routes), how a step scales
 * under SOJOURN_TIME_SCALE, how `journeys migrate` names it. `satisfies` makes the record exhaustive: a
 * new member of `Step` does not compile until it has an entry here, and an entry for a kind that is not
 * in `Step` does not compile either. The AST's kinds are checked against the same list below.
 */
import type { StepAst } from './ast';
import type { Step, StepKind } from './plan';

type StepOf<K extends StepKind> = Extract<Step, { kind: K }>;

/** What the code outside the step's own parser, checker, compiler and workflow handler knows about a kind. */
export interface StepKindSpec<K extends StepKind> {
  /** YAML keys allowed inside the kind's value when it is written as a map ([]: never a map). */
  valueKeys: readonly string[];
  /** YAML keys allowed beside the kind's key in the step (besides `id`): its branches. */
  siblingKeys: readonly string[];
  /** Event names a run waiting at this step must receive (journeys.listensTo, the dispatcher's routes). */
  listensTo: (step: StepOf<K>) => readonly string[];
  /** The step with its relative durations multiplied (`scale` rounds and floors them); the rest untouched. */
  scale: (step: StepOf<K>, scale: (ms: number) => number) => StepOf<K>;
  /** How `sojourn journeys migrate` names a run's position at this step. */
  label: (step: StepOf<K>) => string;
}

const none = (): readonly string[] => [];
const same = <S>(s: S): S => s;

export const STEP_KIND_SPECS = {
  send: { valueKeys: ['template'], siblingKeys: [], listensTo: none, scale: same, label: (s) => `send ${s.template}` },
  wait: {
    valueKeys: ['until_time', 'until_date', 'until', 'offset', 'within', 'at'], siblingKeys: [], listensTo: none,
    scale: (s, scale) => (s.mode === 'duration' ? { ...s, ms: scale(s.ms) } : s), label: () => 'wait',
  },
  wait_for: {
    valueKeys: ['event', 'correlate', 'timeout'], siblingKeys: ['on_timeout'], listensTo: (s) => [s.event],
    scale: (s, scale) => ({ ...s, timeoutMs: scale(s.timeoutMs) }), label: (s) => `wait_for ${s.event}`,
  },
  if: { valueKeys: [], siblingKeys: ['then', 'else'], listensTo: none, scale: same, label: () => 'if' },
  split: { valueKeys: ['branches', 'holdout'], siblingKeys: [], listensTo: none, scale: same, label: () => 'split' },
  update: {
    valueKeys: ['set', 'add_tags', 'remove_tags', 'consent', 'email_status'], siblingKeys: [], listensTo: none, scale: same, label: () => 'update',
  },
  classify: { valueKeys: [], siblingKeys: [], listensTo: none, scale: same, label: () => 'classify' },
  webhook: { valueKeys: ['url', 'body', 'set_from_response'], siblingKeys: [], listensTo: none, scale: same, label: () => 'webhook' },
  task: { valueKeys: ['title', 'why', 'due', 'email', 'webhook'], siblingKeys: [], listensTo: none, scale: same, label: () => 'task' },
  exit: { valueKeys: ['outcome', 'reason'], siblingKeys: [], listensTo: none, scale: same, label: () => 'exit' },
} satisfies { [K in StepKind]: StepKindSpec<K> };

/** Every step kind, in the order the docs list them. */
export const STEP_KINDS = Object.keys(STEP_KIND_SPECS) as StepKind[];

export function isStepKind(name: string): name is StepKind {
  return Object.prototype.hasOwnProperty.call(STEP_KIND_SPECS, name);
}

/** The spec of a step's own kind (one cast here instead of one per caller). */
function specOf<K extends StepKind>(step: StepOf<K>): StepKindSpec<K> {
  return STEP_KIND_SPECS[step.kind as K] as unknown as StepKindSpec<K>;
}

/** Event names a run waiting at `step` listens to. */
export function stepListensTo(step: Step): readonly string[] {
  return specOf(step).listensTo(step);
}

/** `step` with its relative durations scaled. */
export function scaleStep<S extends Step>(step: S, scale: (ms: number) => number): S {
  return specOf(step).scale(step, scale) as S;
}

/** How a position at `step` is named in `journeys migrate` output. */
export function stepLabel(step: Step): string {
  return specOf(step).label(step);
}

// The parser's AST has the same kinds as the plan: both directions, so neither can gain one alone.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const astKindsMatch: Same<StepAst['kind'], StepKind> = true;
void astKindsMatch;
