/**
 * The run-time evaluator. Safe inside the Temporal workflow sandbox: pure, synchronous, deterministic
 * (time comes only from the bound `now`). Expressions are parsed once and cached by source text.
 */
import { celEnvironment, fromCel, toActivation, withClock, type CelBindings } from './cel-env';
import { assertSourceWithinLimits, CelLimitError, matchesCalls, re2PatternProblem, useLinearRegex } from './cel-limits';
import type { Expr, RuleSetPlan } from './plan';

export type Bindings = CelBindings & {
  /** Time zone used by local*() functions when the contact has none (journey settings.timezone). */
  defaultTimezone?: string;
};

export interface CompiledExpr {
  source: string;
  /** The parsed expression (for cost estimates). */
  ast: import('@marcbachmann/cel-js').ASTNode;
  /** Calls the parsed CEL program on an activation. */
  run(activation: Record<string, unknown>): unknown;
}

const cache = new Map<string, CompiledExpr>();
const CACHE_LIMIT = 5000;

/**
 * Parses a CEL expression once (cached), with `matches` on the linear-time RE2 engine. Throws on a
 * syntax error or an expression over CEL_LIMITS: plans are validated at compile time, so this only
 * throws for a source that never went through `compileJourney` (e.g. an API search expression).
 */
export function compileExpression(source: string): CompiledExpr {
  let c = cache.get(source);
  if (!c) {
    assertSourceWithinLimits(source);
    const program = celEnvironment().parse(source);
    for (const m of matchesCalls(program.ast)) {
      const problem = m.pattern.op === 'value' && typeof m.pattern.args === 'string' ? re2PatternProblem(m.pattern.args) : null;
      if (problem) throw new CelLimitError(`matches() pattern not accepted by RE2: ${problem}`);
    }
    useLinearRegex(program.ast);
    c = { source, ast: program.ast, run: (a) => program(a) };
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(source, c);
  }
  return c;
}

function toCompiled(expr: CompiledExpr | Expr | string): CompiledExpr {
  if (typeof expr === 'string') return compileExpression(expr);
  if ('run' in expr) return expr;
  return compileExpression(expr.source);
}

/** Evaluates and returns a plain JS value (ints as numbers). Throws on an evaluation error. */
export function evaluate(expr: CompiledExpr | Expr | string, bindings: Bindings): unknown {
  const c = toCompiled(expr);
  return withClock(bindings.now, bindings.defaultTimezone ?? 'UTC', () => fromCel(c.run(toActivation(bindings))));
}

/**
 * A condition: true only when the expression evaluates to true. An evaluation error (a null field
 * in an ordering comparison, an event field that isn't there) counts as false, the same rule the
 * MongoDB pushdown follows.
 */
export function evaluateBool(expr: CompiledExpr | Expr | string, bindings: Bindings): boolean {
  try {
    return evaluate(expr, bindings) === true;
  } catch {
    return false;
  }
}

export interface Classification { value: string; reason: string; rule: number | 'otherwise' }

/** Runs a rule set: first matching rule wins; `otherwise` when none matches; null leaves the field. */
export function classify(ruleSet: RuleSetPlan, bindings: Bindings): Classification | null {
  for (let i = 0; i < ruleSet.rules.length; i++) {
    const r = ruleSet.rules[i];
    if (evaluateBool(r.when, bindings)) return { value: r.value, reason: r.reason, rule: i };
  }
  return ruleSet.otherwise === null ? null : { value: ruleSet.otherwise, reason: 'no rule matched', rule: 'otherwise' };
}
