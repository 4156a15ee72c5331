/**
 * A small in-memory MongoDB query matcher for the pushdown property test (no database needed).
 * Supported subset, with MongoDB semantics: $and, $or, implicit equality, $ne, $lt, $lte, $gt, $gte,
 * $in, $nin, $exists; dotted paths; array fields match when any element matches (and $ne/$nin when
 * none does); `null` matches null or missing; ordering operators only compare values of the same
 * type bracket (numbers, strings, dates) and never match null/missing.
 */
type Doc = Record<string, unknown>;

function get(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Doc)[part];
  }
  return cur;
}

function eqScalar(a: unknown, b: unknown): boolean {
  if (b === null) return a === null || a === undefined;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return a === b;
}

function eq(v: unknown, lit: unknown): boolean {
  if (Array.isArray(v)) return v.some((x) => eqScalar(x, lit));
  return eqScalar(v, lit);
}

function bracket(x: unknown): string | null {
  if (typeof x === 'number') return 'number';
  if (typeof x === 'string') return 'string';
  if (x instanceof Date) return 'date';
  return null;
}

function cmp(v: unknown, lit: unknown, op: string): boolean {
  const vs = Array.isArray(v) ? v : [v];
  return vs.some((x) => {
    const b = bracket(x);
    if (!b || b !== bracket(lit)) return false;
    const a = x instanceof Date ? x.getTime() : (x as number | string);
    const c = lit instanceof Date ? lit.getTime() : (lit as number | string);
    switch (op) {
      case '$lt': return a < c;
      case '$lte': return a <= c;
      case '$gt': return a > c;
      default: return a >= c;
    }
  });
}

function isOperatorObject(x: unknown): x is Record<string, unknown> {
  return !!x && typeof x === 'object' && !(x instanceof Date) && !Array.isArray(x) && Object.keys(x).every((k) => k.startsWith('$'));
}

export function matches(doc: Doc, filter: Record<string, unknown>): boolean {
  return Object.entries(filter).every(([key, cond]) => {
    if (key === '$and') return (cond as Record<string, unknown>[]).every((f) => matches(doc, f));
    if (key === '$or') return (cond as Record<string, unknown>[]).some((f) => matches(doc, f));
    if (key.startsWith('$')) throw new Error(`matcher: unsupported top-level operator ${key}`);
    const v = get(doc, key);
    if (!isOperatorObject(cond)) return eq(v, cond);
    return Object.entries(cond).every(([op, lit]) => {
      switch (op) {
        case '$ne': return !eq(v, lit);
        case '$in': return (lit as unknown[]).some((x) => eq(v, x));
        case '$nin': return !(lit as unknown[]).some((x) => eq(v, x));
        case '$exists': return (v !== undefined) === lit;
        case '$lt': case '$lte': case '$gt': case '$gte': return cmp(v, lit, op);
        default: throw new Error(`matcher: unsupported operator ${op}`);
      }
    });
  });
}
