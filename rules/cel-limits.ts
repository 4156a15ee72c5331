/**
 * Expression safety: bounds on what an expression may cost, and a linear-time `matches`.
 *
 * - Size: at most `CEL_LIMITS.maxSourceLength` characters and `maxAstNodes` nodes (the CEL parser
 *   enforces the node count), so no stage that walks the tree recursively (checker, pushdown,
 *   evaluator) can run out of stack: ~8,000 `+` terms are refused with a diagnostic instead.
 * - Regexes: CEL's `matches` is RE2 syntax, but the CEL library runs it with JavaScript's
 *   backtracking RegExp, where `^(a+)+$` takes seconds on 30 characters. Every parsed expression
 *   has its `matches` calls redirected to `re2Matches`, run by re2js (a pure-JavaScript port of RE2:
 *   linear time, and it works inside the Temporal workflow sandbox).
 */
import type { ASTNode } from '@marcbachmann/cel-js';
import { RE2JS } from 're2js';

export const CEL_LIMITS = {
  /** Characters in one expression. */
  maxSourceLength: 4096,
  /** Nodes in one parsed expression (operators, literals, field accesses, calls). */
  maxAstNodes: 1000,
  /** Characters in a `matches` pattern. */
  maxPatternLength: 1000,
} as const;

/** Thrown for an expression over the limits, before anything walks it. */
export class CelLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CelLimitError';
  }
}

/** Throws CelLimitError when the source is too long to parse. */
export function assertSourceWithinLimits(source: string): void {
  if (source.length > CEL_LIMITS.maxSourceLength) {
    throw new CelLimitError(`the expression is ${source.length} characters long; the limit is ${CEL_LIMITS.maxSourceLength}`);
  }
}

/** True for the CEL parser's own "Exceeded maxAstNodes/maxDepth" error. */
export function isParserLimitError(err: unknown): boolean {
  return err instanceof Error && /Exceeded max(AstNodes|Depth|ListElements|MapEntries|CallArguments)/.test(err.message);
}

const patterns = new Map<string, RE2JS>();

/** Compiles an RE2 pattern (cached); throws with a readable message when RE2 does not accept it. */
export function compileRe2(pattern: string): RE2JS {
  let re = patterns.get(pattern);
  if (!re) {
    if (pattern.length > CEL_LIMITS.maxPatternLength) throw new CelLimitError(`the regular expression is ${pattern.length} characters long; the limit is ${CEL_LIMITS.maxPatternLength}`);
    re = RE2JS.compile(pattern);
    if (patterns.size >= 500) patterns.delete(patterns.keys().next().value as string);
    patterns.set(pattern, re);
  }
  return re;
}

/** CEL `matches` semantics (RE2, unanchored search) in linear time. */
export function re2Matches(text: string, pattern: string): boolean {
  return compileRe2(pattern).matcher(text).find();
}

/** The problem with a literal `matches` pattern, or null when RE2 accepts it. */
export function re2PatternProblem(pattern: string): string | null {
  try {
    compileRe2(pattern);
    return null;
  } catch (err) {
    return (err as Error).message.replace(/^error parsing regexp: /, '');
  }
}

/** Every node of a parsed expression in pre-order (parents first, left to right), without recursion. */
export function astNodes(root: ASTNode): ASTNode[] {
  const out: ASTNode[] = [];
  const stack: unknown[] = [root];
  while (stack.length) {
    const x = stack.pop();
    if (Array.isArray(x)) {
      for (let i = x.length - 1; i >= 0; i--) stack.push(x[i]);
    } else if (x && typeof x === 'object' && 'op' in (x as object)) {
      const n = x as ASTNode;
      out.push(n);
      if (n.op !== 'value' && n.op !== 'id') stack.push(n.args as unknown);
    }
  }
  return out;
}

/** The `matches` calls of an expression (method and function form) with their pattern argument. */
export function matchesCalls(root: ASTNode): { node: ASTNode; pattern: ASTNode }[] {
  const out: { node: ASTNode; pattern: ASTNode }[] = [];
  for (const n of astNodes(root)) {
    const a = n.args as unknown[];
    if (n.op === 'rcall' && a[0] === 'matches' && Array.isArray(a[2]) && a[2].length === 1) out.push({ node: n, pattern: a[2][0] as ASTNode });
    if (n.op === 'call' && a[0] === 'matches' && Array.isArray(a[1]) && a[1].length === 2) out.push({ node: n, pattern: a[1][1] as ASTNode });
  }
  return out;
}

/** Redirects the `matches` calls of a parsed expression to the RE2 implementation (in place, before first evaluation). */
export function useLinearRegex(root: ASTNode): void {
  for (const { node } of matchesCalls(root)) (node.args as unknown[])[0] = 're2Matches';
}

/** Macros that evaluate their predicate once per list element. */
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
/** Elements assumed per list when costing a comprehension (longer than any contact list). */
const ASSUMED_LIST_SIZE = 1000;

/** Cost budgets of the API's contact search (server/api): per contact, and per request. */
export const SEARCH_BUDGET = {
  /** Largest estimated cost of one evaluation; above it the expression is refused. */
  maxCostPerContact: 1_000_000,
  /** Estimated cost of all evaluations of one request; it bounds how many contacts one page scans. */
  maxCostPerRequest: 50_000_000,
  /** Wall-clock backstop for one page: the scan stops and answers with a cursor to continue. */
  maxMillisPerRequest: 1000,
} as const;

/**
 * Static upper estimate of one evaluation: every node counts 1, multiplied by the assumed list size
 * for each comprehension it sits inside. Nested comprehensions grow as size^depth, which is the
 * shape that could otherwise keep the server's only thread busy.
 */
export function expressionCost(root: ASTNode): number {
  let cost = 0;
  const stack: { x: unknown; mult: number }[] = [{ x: root, mult: 1 }];
  while (stack.length) {
    const { x, mult } = stack.pop()!;
    if (Array.isArray(x)) {
      for (const y of x) stack.push({ x: y, mult });
      continue;
    }
    if (!x || typeof x !== 'object' || !('op' in (x as object))) continue;
    const n = x as ASTNode;
    cost += mult;
    if (n.op === 'value' || n.op === 'id') continue;
    const a = n.args as unknown[];
    if (n.op === 'rcall' && COMPREHENSIONS.has(a[0] as string) && Array.isArray(a[2])) {
      stack.push({ x: a[1], mult });
      stack.push({ x: a[2], mult: Math.min(mult * ASSUMED_LIST_SIZE, Number.MAX_SAFE_INTEGER) });
    } else {
      stack.push({ x: a, mult });
    }
  }
  return cost;
}
