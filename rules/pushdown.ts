/**
 * Pushdown: a segment expression -> a MongoDB filter over the contacts collection (mongoPath layout
 * from contact-schema.ts), with the same answer as `evaluateBool` contact by contact.
 *
 * CEL has three outcomes (true, false, error) and a condition is met only on true. So every
 * sub-expression compiles to two filters: `t` (documents where it is true) and `f` (where it is
 * false); documents in neither are errors. `!e` swaps them, `a && b` is {t: a.t AND b.t, f: a.f OR b.f},
 * `a || b` the dual, which is exactly CEL's error absorption. The segment filter is `t`.
 *
 * Time: a filter may depend on `now`. The plan stores a JSON *template* (SegmentPlan.filter) whose
 * time-relative parts are `{$sojournNow: offsetMs}` and `{$sojournDaysSince: ...}` nodes;
 * `materializeFilter(template, now)` turns it into a real filter at scan time. Absolute timestamps are
 * `{$sojournDate: ms}`. `toMongoFilter(source, {now})` does both in one call.
 */
import type { ASTNode } from '@marcbachmann/cel-js';
import { celEnvironment } from './cel-env';
import { CONTACT_FIELDS, type ContactField } from './contact-schema';

export type Filter = Record<string, unknown>;
export type PushdownResult = { filter: Filter } | { reason: string };
export type TemplateResult = { template: Filter } | { reason: string };

const DAY_MS = 86_400_000;
const TRUE: Filter = {};
const FALSE: Filter = { _id: { $in: [] } };

class NoPushdown extends Error {}
const fail = (why: string): never => { throw new NoPushdown(why); };

const fieldsByPath = new Map(CONTACT_FIELDS.map((f) => [f.path, f]));

interface TF { t: Filter; f: Filter }

/** A time value known at scan time. */
type TimeValue = { $sojournNow: number } | { $sojournDate: number };

function memberPath(n: ASTNode): string | null {
  const parts: string[] = [];
  let cur: ASTNode = n;
  while (cur.op === '.') { parts.unshift(cur.args[1]); cur = cur.args[0]; }
  if (cur.op !== 'id' || cur.args !== 'contact' || parts.length === 0) return null;
  return parts.join('.');
}

function contactField(n: ASTNode): ContactField | null {
  const p = memberPath(n);
  if (p === null) return null;
  const f = fieldsByPath.get(p);
  if (!f) return fail(`contact.${p} is not a stored field`);
  if (f.mongoPath === null || f.path === 'id') return fail(`contact.${p} is not stored as-is in the database`);
  if (f.type === 'map<string,dyn>') return fail(`contact.${f.path} (a map) is checked contact by contact`);
  return f;
}

function durationMs(n: ASTNode): number {
  if (n.op === 'call' && n.args[1].length === 1 && n.args[1][0].op === 'value') {
    const [name, [arg]] = n.args;
    const v = arg.args;
    if (name === 'days' && typeof v === 'bigint') return Number(v) * DAY_MS;
    if (name === 'hours' && typeof v === 'bigint') return Number(v) * 3_600_000;
    if (name === 'duration' && typeof v === 'string') {
      const d = celEnvironment().evaluate(`duration(${JSON.stringify(v)})`) as { valueOf(): number };
      return d.valueOf();
    }
  }
  return fail('only constant durations (days(n), hours(n), duration("..")) can be pushed down');
}

function timeValue(n: ASTNode): TimeValue | null {
  if (n.op === 'id' && n.args === 'now') return { $sojournNow: 0 };
  if (n.op === 'call' && n.args[0] === 'ago' && n.args[1].length === 1) return { $sojournNow: -durationMs(n.args[1][0]) };
  if (n.op === 'call' && n.args[0] === 'timestamp' && n.args[1].length === 1 && n.args[1][0].op === 'value' && typeof n.args[1][0].args === 'string') {
    const ms = Date.parse(n.args[1][0].args);
    return Number.isFinite(ms) ? { $sojournDate: ms } : fail('invalid timestamp literal');
  }
  if ((n.op === '-' || n.op === '+') && n.args[0].op === 'id' && n.args[0].args === 'now') {
    const d = durationMs(n.args[1]);
    return { $sojournNow: n.op === '-' ? -d : d };
  }
  return null;
}

type Literal = string | number | boolean | null | TimeValue;
function literal(n: ASTNode, f: ContactField): Literal | undefined {
  if (n.op === 'value') {
    const v = n.args;
    if (v === null) return null;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
    return fail('unsupported literal');
  }
  if (n.op === '-_' && n.args.op === 'value' && (typeof n.args.args === 'bigint' || typeof n.args.args === 'number')) return -Number(n.args.args);
  if (f.type === 'timestamp') { const t = timeValue(n); if (t) return t; }
  return undefined;
}

const FLIP: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '==': '==', '!=': '!=' };
const MONGO_OP: Record<string, string> = { '<': '$lt', '<=': '$lte', '>': '$gt', '>=': '$gte' };
const NEGATE: Record<string, string> = { '<': '>=', '<=': '>', '>': '<=', '>=': '<' };

function compare(f: ContactField, op: string, v: Literal): TF {
  const p = f.mongoPath as string;
  if (f.type === 'list<string>') return fail('compare list fields with `in` or hasTag()');
  if (op === '==' || op === '!=') {
    // null == x is false (never an error), so `f` may include missing/null documents.
    const eq: TF = { t: { [p]: v }, f: { [p]: { $ne: v } } };
    if (v === null) { eq.t = { [p]: null }; eq.f = { [p]: { $ne: null } }; }
    return op === '==' ? eq : { t: eq.f, f: eq.t };
  }
  if (v === null) return fail('ordering against null');
  // A null field in an ordering comparison is a CEL error: neither t nor f may match it. Mongo's
  // $lt/$gte never match null or a value of another type, which is exactly that.
  return { t: { [p]: { [MONGO_OP[op]]: v } }, f: { [p]: { [MONGO_OP[NEGATE[op]]]: v } } };
}

function sinceCall(n: ASTNode): { field: ContactField; unitMs: number } | null {
  if (n.op !== 'call' || (n.args[0] !== 'daysSince' && n.args[0] !== 'hoursSince') || n.args[1].length !== 1) return null;
  const field = contactField(n.args[1][0]);
  if (!field || field.type !== 'timestamp') return fail(`${n.args[0]}() of something other than a contact timestamp`);
  return { field, unitMs: n.args[0] === 'daysSince' ? DAY_MS : 3_600_000 };
}

function sinceCompare(s: { field: ContactField; unitMs: number }, op: string, n: number): TF {
  const node = (o: string) => ({ $sojournSince: { path: s.field.mongoPath, unitMs: s.unitMs, op: o, n } });
  const neg = op === '==' ? '!=' : op === '!=' ? '==' : NEGATE[op];
  return { t: node(op), f: node(neg) };
}

function isContactId(n: ASTNode): boolean { return n.op === 'id' && n.args === 'contact'; }

function tf(n: ASTNode): TF {
  switch (n.op) {
    case 'value':
      if (n.args === true) return { t: TRUE, f: FALSE };
      if (n.args === false) return { t: FALSE, f: TRUE };
      return fail('a non-boolean constant');
    case '&&': {
      const a = tf(n.args[0]); const b = tf(n.args[1]);
      return { t: and(a.t, b.t), f: or(a.f, b.f) };
    }
    case '||': {
      const a = tf(n.args[0]); const b = tf(n.args[1]);
      return { t: or(a.t, b.t), f: and(a.f, b.f) };
    }
    case '!_': { const a = tf(n.args); return { t: a.f, f: a.t }; }
    case '.': {
      const f = contactField(n);
      if (f && f.type === 'bool') return { t: { [f.mongoPath as string]: true }, f: { [f.mongoPath as string]: { $ne: true } } };
      return fail('a field used as a condition must be a true/false field');
    }
    case 'in': {
      const [l, r] = n.args;
      const rf = r.op === '.' ? contactField(r) : null;
      if (rf && rf.type === 'list<string>' && l.op === 'value' && typeof l.args === 'string') {
        return { t: { [rf.mongoPath as string]: l.args }, f: { [rf.mongoPath as string]: { $ne: l.args } } };
      }
      const lf = l.op === '.' ? contactField(l) : null;
      if (lf && r.op === 'list' && r.args.every((x) => x.op === 'value' && x.args !== null && typeof x.args !== 'object')) {
        const vals = r.args.map((x) => (typeof x.args === 'bigint' ? Number(x.args) : x.args));
        return { t: { [lf.mongoPath as string]: { $in: vals } }, f: { [lf.mongoPath as string]: { $nin: vals } } };
      }
      return fail('`in` is pushed down for "tag" in contact.tags and contact.field in [constants]');
    }
    case 'call': {
      const [name, args] = n.args;
      const tags = fieldsByPath.get('tags')?.mongoPath as string;
      if (name === 'hasTag' && args.length === 2 && isContactId(args[0]) && args[1].op === 'value' && typeof args[1].args === 'string') {
        return { t: { [tags]: args[1].args }, f: { [tags]: { $ne: args[1].args } } };
      }
      if (name === 'hasAnyTag' && args.length === 2 && isContactId(args[0]) && args[1].op === 'list' && args[1].args.every((x) => x.op === 'value' && typeof x.args === 'string')) {
        const vals = args[1].args.map((x) => x.args as string);
        return { t: { [tags]: { $in: vals } }, f: { [tags]: { $nin: vals } } };
      }
      if (name === 'isSubscribed' && args.length === 1 && isContactId(args[0])) {
        return compare(fieldsByPath.get('consent.email') as ContactField, '==', 'subscribed');
      }
      return fail(`${name}() is evaluated contact by contact`);
    }
    case '==': case '!=': case '<': case '<=': case '>': case '>=': {
      let [l, r] = n.args;
      let op: string = n.op;
      const ls = sinceCall(l);
      const rs = ls ? null : sinceCall(r);
      if (ls || rs) {
        const other = ls ? r : l;
        if (rs) op = FLIP[op];
        if (other.op !== 'value' || typeof other.args !== 'bigint') return fail('compare daysSince() with a whole number');
        return sinceCompare((ls ?? rs) as { field: ContactField; unitMs: number }, op, Number(other.args));
      }
      let f = l.op === '.' ? contactField(l) : null;
      if (!f) {
        f = r.op === '.' ? contactField(r) : null;
        if (!f) return fail('a comparison needs a contact field on one side');
        [l, r] = [r, l];
        op = FLIP[op];
      }
      if ((op === '==' || op === '!=') && r.op === 'value' &&
        ((f.type === 'double' && typeof r.args === 'bigint') || (f.type === 'int' && typeof r.args === 'number'))) {
        return fail('== between int and double is a CEL error; write 100.0 for a double field');
      }
      const v = literal(r, f);
      if (v === undefined) return fail('a comparison needs a constant (or now/ago()) on the other side');
      return compare(f, op, v);
    }
    default:
      return fail(`the ${n.op} operator is evaluated contact by contact`);
  }
}

function and(a: Filter, b: Filter): Filter {
  if (a === TRUE) return b;
  if (b === TRUE) return a;
  if (a === FALSE || b === FALSE) return FALSE;
  return { $and: [...(a.$and ? (a.$and as Filter[]) : [a]), ...(b.$and ? (b.$and as Filter[]) : [b])] };
}
function or(a: Filter, b: Filter): Filter {
  if (a === FALSE) return b;
  if (b === FALSE) return a;
  if (a === TRUE || b === TRUE) return TRUE;
  return { $or: [...(a.$or ? (a.$or as Filter[]) : [a]), ...(b.$or ? (b.$or as Filter[]) : [b])] };
}

/** The storable filter template for a segment expression, or why it can't be pushed down. */
export function toFilterTemplate(source: string): TemplateResult {
  let ast: ASTNode;
  try {
    ast = celEnvironment().parse(source).ast;
  } catch (e) {
    return { reason: `syntax error: ${(e as Error).message.split('\n')[0]}` };
  }
  try {
    return { template: tf(ast).t };
  } catch (e) {
    if (e instanceof NoPushdown) return { reason: e.message };
    throw e;
  }
}

/** Replaces the time placeholders of a template with real dates for `now`. */
export function materializeFilter(template: Filter, now: Date): Filter {
  return walk(template, now) as Filter;
}

function walk(v: unknown, now: Date): unknown {
  if (Array.isArray(v)) return v.map((x) => walk(x, now));
  if (!v || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  if (typeof o.$sojournNow === 'number') return new Date(now.getTime() + o.$sojournNow);
  if (typeof o.$sojournDate === 'number') return new Date(o.$sojournDate);
  if (o.$sojournSince) return sinceFilter(o.$sojournSince as { path: string; unitMs: number; op: string; n: number }, now);
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x, now)]));
}

/**
 * floor((now - x) / unit) OP n as a date range on x, plus the documents where x is null when
 * "never" (x treated as 1970-01-01, see cel-env.ts) satisfies the comparison.
 */
function sinceFilter(s: { path: string; unitMs: number; op: string; n: number }, now: Date): Filter {
  const at = (k: number) => new Date(now.getTime() - k * s.unitMs);
  const p = s.path;
  let range: Filter;
  switch (s.op) {
    case '>': range = { [p]: { $lte: at(s.n + 1) } }; break; // floor(d) > n  <=> d >= n+1
    case '>=': range = { [p]: { $lte: at(s.n) } }; break;
    case '<': range = { [p]: { $gt: at(s.n) } }; break;
    case '<=': range = { [p]: { $gt: at(s.n + 1) } }; break;
    case '==': range = { [p]: { $lte: at(s.n), $gt: at(s.n + 1) } }; break;
    default: range = { $or: [{ [p]: { $gt: at(s.n) } }, { [p]: { $lte: at(s.n + 1) } }] }; break; // '!='
  }
  const never = Math.floor(now.getTime() / s.unitMs);
  const ops: Record<string, (a: number, b: number) => boolean> = {
    '>': (a, b) => a > b, '>=': (a, b) => a >= b, '<': (a, b) => a < b, '<=': (a, b) => a <= b,
    '==': (a, b) => a === b, '!=': (a, b) => a !== b,
  };
  return ops[s.op](never, s.n) ? { $or: [range, { [p]: null }] } : range;
}

/** Segment expression -> MongoDB filter for `now`, or the reason it must be evaluated per contact. */
export function toMongoFilter(source: string, opts: { now: Date }): PushdownResult {
  const r = toFilterTemplate(source);
  return 'template' in r ? { filter: materializeFilter(r.template, opts.now) } : r;
}
