/**
 * Stage 1: YAML text -> typed AST with source spans, plus shape diagnostics (unknown keys with
 * "did you mean", wrong types, missing keys, unknown step kinds). Never throws.
 */
import { isMap, isScalar, isSeq, parseDocument, visit, type Node, type Pair, type Scalar, type YAMLMap } from 'yaml';
import type { EntryAst, ExprAst, FieldValueAst, JourneyAst, L, RuleSetAst, RulesAst, SegmentAst, SettingsAst, Span, StepAst, StepListAst, TriggerAst } from './ast';
import { DiagnosticSink, suggestion } from './diagnostics';
import { STEP_KIND_SPECS, STEP_KINDS, isStepKind } from './step-kinds';

type N = Node | null | undefined;

export class Parser {
  constructor(readonly text: string, readonly sink: DiagnosticSink) {}

  span(n: N): Span {
    const r = (n as { range?: [number, number, number] } | null)?.range;
    return r ? [r[0], r[1]] : [0, 0];
  }

  /** Map entries, reporting unknown keys. */
  map(n: N, what: string, allowed: readonly string[]): Map<string, { key: Scalar; value: N; pair: Pair }> | null {
    const out = new Map<string, { key: Scalar; value: N; pair: Pair }>();
    if (!isMap(n)) {
      this.sink.error('E_WRONG_TYPE', `${what} should be a map of keys and values.`, this.span(n));
      return null;
    }
    for (const pair of (n as YAMLMap).items) {
      const key = pair.key as Scalar;
      const name = isScalar(key) ? String(key.value) : '';
      if (!allowed.includes(name)) {
        this.sink.error('E_UNKNOWN_KEY', `"${name}" is not a known key in ${what}.${suggestion(name, allowed)}`, this.span(key));
        continue;
      }
      out.set(name, { key, value: pair.value as N, pair });
    }
    return out;
  }

  require(m: Map<string, unknown>, key: string, what: string, span: Span): boolean {
    if (m.has(key)) return true;
    this.sink.error('E_MISSING_KEY', `${what} needs "${key}".`, [span[0], Math.min(span[1], span[0] + 1)]);
    return false;
  }

  str(n: N, what: string): L<string> | undefined {
    if (isScalar(n) && (typeof n.value === 'string' || typeof n.value === 'number') && n.value !== '') {
      return { value: String(n.value), span: this.span(n) };
    }
    this.sink.error('E_WRONG_TYPE', `${what} should be text.`, this.span(n));
    return undefined;
  }

  num(n: N, what: string): L<number> | undefined {
    if (isScalar(n) && typeof n.value === 'number') return { value: n.value, span: this.span(n) };
    this.sink.error('E_WRONG_TYPE', `${what} should be a number.`, this.span(n));
    return undefined;
  }

  strList(n: N, what: string): L<string>[] {
    if (isScalar(n) && typeof n.value === 'string') return [{ value: n.value, span: this.span(n) }];
    if (!isSeq(n)) { this.sink.error('E_WRONG_TYPE', `${what} should be a list.`, this.span(n)); return []; }
    return n.items.map((x) => this.str(x as N, what)).filter((x): x is L<string> => !!x);
  }

  expr(n: N, what: string): ExprAst | undefined {
    if (isScalar(n) && typeof n.value === 'boolean') {
      return { source: String(n.value), span: this.span(n), offsets: () => this.span(n)[0] };
    }
    if (!isScalar(n) || typeof n.value !== 'string') {
      this.sink.error('E_WRONG_TYPE', `${what} should be an expression (text).`, this.span(n));
      return undefined;
    }
    const source = n.value;
    const [start, end] = this.span(n);
    const quote = n.type === 'QUOTE_DOUBLE' || n.type === 'QUOTE_SINGLE' ? 1 : 0;
    let offsets: (i: number) => number;
    if (this.text.slice(start + quote, start + quote + source.length) === source) {
      offsets = (i) => start + quote + i;
    } else {
      // Block scalars (folded or literal), line continuations and escapes: align the expression
      // with the file text character by character, letting whitespace runs match each other.
      const map: number[] = [];
      let f = start;
      if (n.type === 'BLOCK_FOLDED' || n.type === 'BLOCK_LITERAL') { const nl = this.text.indexOf('\n', start); f = nl >= 0 ? nl + 1 : start; }
      else f = start + quote;
      for (let i = 0; i < source.length; i++) {
        const c = source[i];
        if (/\s/.test(c)) {
          map.push(f);
          while (f < end && /\s/.test(this.text[f])) f++;
          continue;
        }
        while (f < end && this.text[f] !== c) f++;
        map.push(Math.min(f, end));
        if (f < end) f++;
      }
      offsets = (i) => (i < map.length ? map[i] : (map.length ? map[map.length - 1] + (i - map.length + 1) : start));
    }
    return { source, span: [start, end], offsets };
  }

  steps(n: N, what: string): StepListAst | null {
    if (n === null || n === undefined || (isScalar(n) && n.value === null)) return null;
    if (!isSeq(n)) { this.sink.error('E_WRONG_TYPE', `${what} should be a list of steps.`, this.span(n)); return null; }
    const steps: StepAst[] = [];
    for (const item of n.items) {
      const s = this.step(item as N);
      if (s) steps.push(s);
    }
    return { steps, span: this.span(n), items: n.items.length };
  }

  step(n: N): StepAst | undefined {
    const span = this.span(n);
    if (!isMap(n)) { this.sink.error('E_WRONG_TYPE', 'A step should be a map such as `send: welcome`.', span); return undefined; }
    const keys = n.items.map((p) => (isScalar(p.key) ? String(p.key.value) : ''));
    const kinds = keys.filter(isStepKind);
    if (kinds.length === 0) {
      const first = n.items[0]?.key as N;
      const name = keys.find((k) => k !== 'id') ?? '';
      this.sink.error('E_UNKNOWN_STEP_KIND', `"${name}" is not a step kind (${STEP_KINDS.join(', ')}).${suggestion(name, STEP_KINDS)}`, this.span(first));
      return undefined;
    }
    if (kinds.length > 1) {
      const second = n.items.find((p) => isScalar(p.key) && p.key.value === kinds[1])?.key as N;
      this.sink.error('E_AMBIGUOUS_STEP', `A step can only do one thing, but this one has both "${kinds[0]}" and "${kinds[1]}". Split it into two steps.`, this.span(second));
      return undefined;
    }
    const kind = kinds[0];
    const { valueKeys, siblingKeys } = STEP_KIND_SPECS[kind];
    const m = this.map(n, `a ${kind} step`, [kind, 'id', ...siblingKeys]);
    if (!m) return undefined;
    const k = m.get(kind) as { key: Scalar; value: N };
    const kindSpan = this.span(k.key);
    const idNode = m.get('id');
    const base = { span, kindSpan, id: idNode ? this.str(idNode.value, 'A step id') : undefined };
    const v = k.value;
    switch (kind) {
      case 'send': {
        if (isMap(v)) {
          const sm = this.map(v, 'send', valueKeys);
          const t = sm?.get('template');
          if (!t) { this.sink.error('E_MISSING_KEY', 'send needs a template id.', kindSpan); return undefined; }
          const template = this.str(t.value, 'The template id');
          return template ? { ...base, kind, template } : undefined;
        }
        const template = this.str(v, 'The template id after send:');
        return template ? { ...base, kind, template } : undefined;
      }
      case 'wait': {
        if (isScalar(v) && typeof v.value === 'string') return { ...base, kind, duration: { value: v.value, span: this.span(v) } };
        if (isScalar(v) && typeof v.value === 'number') {
          this.sink.error('E_BAD_DURATION', `"${v.value}" has no unit. Write it like 30m, 36h, 2d or 1w.`, this.span(v));
          return undefined;
        }
        const wm = this.map(v, 'wait', valueKeys);
        if (!wm) return undefined;
        if (wm.has('until_time')) return { ...base, kind, untilTime: this.str(wm.get('until_time')?.value, 'until_time') };
        if (wm.has('until')) {
          return {
            ...base, kind, until: this.str(wm.get('until')?.value, 'until'),
            offset: wm.has('offset') ? this.durationText(wm.get('offset')?.value, 'offset') : undefined,
            within: wm.has('within') ? this.durationText(wm.get('within')?.value, 'within') : undefined,
            at: wm.has('at') ? this.str(wm.get('at')?.value, 'at') : undefined,
          };
        }
        if (wm.has('until_date')) {
          return { ...base, kind, untilDate: this.str(wm.get('until_date')?.value, 'until_date'), at: wm.has('at') ? this.str(wm.get('at')?.value, 'at') : undefined };
        }
        this.sink.error('E_MISSING_KEY', 'wait needs a duration (2d), until_time: "09:00", until_date: birthday or until: best_time.', kindSpan);
        return undefined;
      }
      case 'wait_for': {
        const wm = this.map(v, 'wait_for', valueKeys);
        if (!wm) return undefined;
        if (!wm.has('event')) this.sink.error('E_MISSING_KEY', 'wait_for needs the event to wait for.', kindSpan);
        return {
          ...base, kind,
          event: wm.has('event') ? this.str(wm.get('event')?.value, 'The event') : undefined,
          ...this.correlate(wm.get('correlate')?.value),
          timeout: wm.has('timeout') ? this.durationText(wm.get('timeout')?.value, 'timeout') : undefined,
          onTimeout: m.has('on_timeout') ? this.steps(m.get('on_timeout')?.value, 'on_timeout') ?? { steps: [], span: this.span(m.get('on_timeout')?.key), items: 0 } : null,
        };
      }
      case 'if': {
        const cond = this.expr(v, 'The if condition');
        if (!cond) return undefined;
        if (!m.has('then')) this.sink.error('E_MISSING_KEY', 'if needs "then:" with the steps to run when the condition is true.', kindSpan);
        return {
          ...base, kind, cond,
          then: m.has('then') ? this.steps(m.get('then')?.value, 'then') ?? { steps: [], span: this.span(m.get('then')?.key), items: 0 } : null,
          else: m.has('else') ? this.steps(m.get('else')?.value, 'else') ?? { steps: [], span: this.span(m.get('else')?.key), items: 0 } : null,
        };
      }
      case 'split': {
        const sm = this.map(v, 'split', valueKeys);
        if (!sm) return undefined;
        const branches: Extract<StepAst, { kind: 'split' }>['branches'] = [];
        const bn = sm.get('branches')?.value;
        if (!sm.has('branches')) this.sink.error('E_MISSING_KEY', 'split needs "branches".', kindSpan);
        else if (!isSeq(bn)) this.sink.error('E_WRONG_TYPE', 'branches should be a list of {name, weight, steps}.', this.span(bn));
        else {
          for (const b of bn.items) {
            const bm = this.map(b as N, 'a split branch', ['name', 'weight', 'steps']);
            if (!bm) continue;
            const bspan = this.span(b as N);
            if (!this.require(bm, 'name', 'A split branch', bspan) || !this.require(bm, 'weight', 'A split branch', bspan)) continue;
            const name = this.str(bm.get('name')?.value, 'The branch name');
            const weight = this.num(bm.get('weight')?.value, 'The branch weight');
            if (!name || !weight) continue;
            branches.push({ name, weight, steps: bm.has('steps') ? this.steps(bm.get('steps')?.value, 'steps') : null, span: bspan });
          }
        }
        return { ...base, kind, branches, holdout: sm.has('holdout') ? this.num(sm.get('holdout')?.value, 'holdout') : undefined };
      }
      case 'update': {
        const um = this.map(v, 'update', valueKeys);
        if (!um) return undefined;
        const set = um.has('set') ? this.valueMap(um.get('set')?.value, 'set') : [];
        let consent: { channel: L<string>; status: L<string> } | undefined;
        if (um.has('consent')) {
          const cm = this.map(um.get('consent')?.value, 'consent', ['email', 'sms', 'phone']);
          const first = cm ? [...cm.entries()][0] : undefined;
          if (first) {
            const status = this.str(first[1].value, 'The consent status');
            if (status) consent = { channel: { value: first[0], span: this.span(first[1].key) }, status };
          }
        }
        return {
          ...base, kind, set, consent,
          addTags: um.has('add_tags') ? this.strList(um.get('add_tags')?.value, 'add_tags') : [],
          removeTags: um.has('remove_tags') ? this.strList(um.get('remove_tags')?.value, 'remove_tags') : [],
          emailStatus: um.has('email_status') ? this.str(um.get('email_status')?.value, 'email_status') : undefined,
        };
      }
      case 'classify': {
        const ruleSet = this.str(v, 'The rule set name after classify:');
        return ruleSet ? { ...base, kind, ruleSet } : undefined;
      }
      case 'webhook': {
        const wm = this.map(v, 'webhook', valueKeys);
        if (!wm) return undefined;
        if (!wm.has('url')) this.sink.error('E_MISSING_KEY', 'webhook needs the url to POST to.', kindSpan);
        const body = wm.has('body') ? this.valueMap(wm.get('body')?.value, 'body') : [];
        const setFromResponse: { field: L<string>; path: L<string> }[] = [];
        if (wm.has('set_from_response')) {
          const rm = wm.get('set_from_response')?.value;
          if (!isMap(rm)) this.sink.error('E_WRONG_TYPE', 'set_from_response should be a map of contact field: response field (e.g. attributes.crm_id: id).', this.span(rm));
          else for (const p of rm.items) {
            const field = { value: isScalar(p.key) ? String(p.key.value) : '', span: this.span(p.key as N) };
            const path = this.str(p.value as N, `The response field for ${field.value}`);
            if (path) setFromResponse.push({ field, path });
          }
        }
        return { ...base, kind, url: wm.has('url') ? this.str(wm.get('url')?.value, 'url') : undefined, body, setFromResponse };
      }
      case 'task': {
        const tm = this.map(v, 'task', valueKeys);
        if (!tm) return undefined;
        if (!tm.has('title')) this.sink.error('E_MISSING_KEY', 'task needs a title (what the owner should do, e.g. "Call the customer").', kindSpan);
        if (!tm.has('due')) this.sink.error('E_MISSING_KEY', 'task needs a due time from now, like due: 2d.', kindSpan);
        const emailNode = tm.get('email')?.value;
        let email: L<boolean> | undefined;
        if (emailNode !== undefined) {
          if (isScalar(emailNode) && typeof emailNode.value === 'boolean') email = { value: emailNode.value, span: this.span(emailNode) };
          else this.sink.error('E_WRONG_TYPE', 'email should be true or false (tell the owner by email).', this.span(emailNode));
        }
        return {
          ...base, kind,
          title: tm.has('title') ? this.str(tm.get('title')?.value, 'The task title') : undefined,
          why: tm.has('why') ? this.str(tm.get('why')?.value, 'why') : undefined,
          due: tm.has('due') ? this.durationText(tm.get('due')?.value, 'due') : undefined,
          email,
          webhook: tm.has('webhook') ? this.str(tm.get('webhook')?.value, 'webhook') : undefined,
        };
      }
      case 'exit': {
        if (v === null || v === undefined || (isScalar(v) && (v.value === null || v.value === true))) return { ...base, kind: 'exit' };
        const em = this.map(v, 'exit', valueKeys);
        if (!em) return undefined;
        return {
          ...base, kind: 'exit',
          outcome: em.has('outcome') ? this.str(em.get('outcome')?.value, 'outcome') : undefined,
          reason: em.has('reason') ? this.str(em.get('reason')?.value, 'reason') : undefined,
        };
      }
    }
    return kind satisfies never;
  }

  /** `correlate:` is an expression, or a map of event data field -> expression (`{ orderId: trigger.data.orderId }`). */
  correlate(n: N): { correlate?: ExprAst; correlateMap?: { field: L<string>; value: ExprAst }[] } {
    if (n === undefined) return {};
    if (!isMap(n)) return { correlate: this.expr(n, 'correlate') };
    const correlateMap: { field: L<string>; value: ExprAst }[] = [];
    for (const pair of n.items) {
      const field = { value: isScalar(pair.key) ? String(pair.key.value) : '', span: this.span(pair.key as N) };
      const value = this.expr(pair.value as N, `correlate ${field.value}`);
      if (value) correlateMap.push({ field, value });
    }
    return { correlateMap };
  }

  /** A map of name: literal value or `{expr: "..."}` (update `set`, webhook `body`). */
  valueMap(n: N, what: string): FieldValueAst[] {
    const out: FieldValueAst[] = [];
    if (!isMap(n)) { this.sink.error('E_WRONG_TYPE', `${what} should be a map of field: value.`, this.span(n)); return out; }
    for (const p of n.items) {
      const field = { value: isScalar(p.key) ? String(p.key.value) : '', span: this.span(p.key as N) };
      const pv = p.value as N;
      if (isMap(pv)) {
        const em = this.map(pv, 'a computed value', ['expr']);
        const e = em?.get('expr') ? this.expr(em.get('expr')?.value, 'expr') : undefined;
        if (e) out.push({ field, value: e, isExpr: true });
      } else if (isScalar(pv)) out.push({ field, value: { value: pv.value, span: this.span(pv) }, isExpr: false });
      else this.sink.error('E_WRONG_TYPE', `The value of ${field.value} should be a value or {expr: "..."}.`, this.span(pv));
    }
    return out;
  }

  durationText(n: N, what: string): L<string> | undefined {
    if (isScalar(n) && typeof n.value === 'number') {
      this.sink.error('E_BAD_DURATION', `${what} "${n.value}" has no unit. Write it like 30m, 36h, 2d or 1w.`, this.span(n));
      return undefined;
    }
    return this.str(n, what);
  }
}

const JOURNEY_KEYS = ['journey', 'name', 'description', 'params', 'custom_events', 'trigger', 'entry', 'exit_when', 'goal', 'settings', 'steps'];
const RULES_KEYS = ['segments', 'rule_sets', 'attributes', 'description'];

/** Which kind of file a YAML text is, by content. */
export function detectFileKindFromDoc(root: N): 'journey' | 'rules' | null {
  if (!isMap(root)) return null;
  const keys = root.items.map((p) => (isScalar(p.key) ? String(p.key.value) : ''));
  if (keys.includes('journey')) return 'journey';
  if (keys.includes('segments') || keys.includes('rule_sets') || keys.includes('attributes')) return 'rules';
  return null;
}

/** Limits on a journey or rules file, checked before the YAML parser (which recurses) sees it. */
export const YAML_LIMITS = { maxChars: 1_000_000, maxDepth: 64 } as const;

/** Offset where flow ([ {) or block (indentation) nesting first goes deeper than `maxDepth`, or -1. */
function tooDeepAt(text: string, maxDepth: number): number {
  let flow = 0;
  let quote: string | null = null;
  let lineStart = true;
  let indent = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (lineStart) {
      if (c === ' ' || c === '-') { indent++; continue; }
      lineStart = false;
      // Two columns per block level is the narrowest YAML nesting.
      if (c !== '\n' && c !== '#' && indent / 2 > maxDepth) return i;
    }
    if (c === '\n') { lineStart = true; indent = 0; if (flow === 0) quote = null; continue; }
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"') i++;
      continue;
    }
    if (c === '"' || (c === "'" && flow > 0)) quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]))) { while (i + 1 < text.length && text[i + 1] !== '\n') i++; }
    else if (c === '[' || c === '{') { if (++flow > maxDepth) return i; }
    else if (c === ']' || c === '}') flow = Math.max(0, flow - 1);
  }
  return -1;
}

export function parseYaml(text: string, sink: DiagnosticSink): Node | null {
  if (text.length > YAML_LIMITS.maxChars) {
    sink.error('E_YAML_TOO_LARGE', `The file has ${text.length} characters; the limit is ${YAML_LIMITS.maxChars}.`, [0, 1]);
    return null;
  }
  const deep = tooDeepAt(text, YAML_LIMITS.maxDepth);
  if (deep >= 0) {
    sink.error('E_YAML_TOO_LARGE', `The file nests deeper than ${YAML_LIMITS.maxDepth} levels here.`, [deep, deep + 1]);
    return null;
  }
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  } catch (err) {
    // The YAML parser recurses per nesting level (`a: : : :`, `? ? ?`, `- - -` on one line...): a
    // structure too deep for the stack is reported, not thrown.
    if (!(err instanceof RangeError)) throw err;
    sink.error('E_YAML_TOO_LARGE', `The file nests too deeply to parse (more than ${YAML_LIMITS.maxDepth} levels).`, [0, 1]);
    return null;
  }
  for (const e of doc.errors) {
    sink.error('E_YAML_SYNTAX', `The file is not valid YAML: ${e.message.split('\n')[0]}`, [e.pos[0], e.pos[1]]);
  }
  if (doc.errors.length) return null;
  // Anchors and aliases (&a / *a) are not needed in journeys and allow "billion laughs" expansions.
  let alias: [number, number] | null = null;
  visit(doc, { Alias(_k, n) { alias ??= (n.range ? [n.range[0], n.range[1]] : [0, 1]); return visit.BREAK; } });
  if (alias) {
    sink.error('E_YAML_ALIAS', 'Anchors and aliases (&name / *name) are not supported in journey and rules files: write the value out.', alias);
    return null;
  }
  return doc.contents as Node | null;
}

export function parseJourney(root: N, p: Parser): JourneyAst | null {
  const m = p.map(root, 'a journey file', JOURNEY_KEYS);
  if (!m) return null;
  const span = p.span(root);
  const ast: JourneyAst = {
    kind: 'journey',
    id: p.str(m.get('journey')?.value, 'The journey id') ?? { value: '', span },
    name: m.has('name') ? p.str(m.get('name')?.value, 'name') : undefined,
    params: {},
    customEvents: [],
    triggers: [],
    settings: {},
    steps: null,
    span,
  };
  if (m.has('params')) {
    const pm = m.get('params')?.value;
    if (!isMap(pm)) p.sink.error('E_WRONG_TYPE', 'params should be a map of name: value.', p.span(pm));
    else for (const pair of pm.items) {
      const v = pair.value as N;
      if (isScalar(v) && ['string', 'number', 'boolean'].includes(typeof v.value)) ast.params[String((pair.key as Scalar).value)] = { value: v.value as string, span: p.span(v) };
      else p.sink.error('E_WRONG_TYPE', 'A param value should be text, a number or true/false.', p.span(v));
    }
  }
  if (m.has('custom_events')) ast.customEvents = p.strList(m.get('custom_events')?.value, 'custom_events');
  if (p.require(m, 'trigger', 'A journey', span)) {
    const tn = m.get('trigger')?.value;
    const items = isSeq(tn) ? (tn.items as N[]) : [tn];
    if (items.length === 0) p.sink.error('E_BAD_TRIGGER', 'The trigger list is empty.', p.span(tn));
    for (const item of items) { const t = parseTrigger(item, p); if (t) ast.triggers.push(t); }
  }
  if (m.has('entry')) ast.entry = parseEntry(m.get('entry')?.value, p);
  if (m.has('exit_when')) ast.exitWhen = p.expr(m.get('exit_when')?.value, 'exit_when');
  if (m.has('goal')) {
    const g = m.get('goal')?.value;
    const gm = p.map(g, 'goal', ['event', 'when', 'within']);
    if (gm) {
      ast.goal = { span: p.span(g) };
      if (!gm.has('event')) p.sink.error('E_GOAL_NO_EVENT', 'A goal needs the event that reaches it, e.g. `event: order.completed`.', p.span(m.get('goal')?.key));
      else ast.goal.event = p.str(gm.get('event')?.value, 'The goal event');
      if (gm.has('when')) ast.goal.when = p.expr(gm.get('when')?.value, 'goal when');
      if (gm.has('within')) ast.goal.within = p.durationText(gm.get('within')?.value, 'within');
    }
  }
  if (m.has('settings')) ast.settings = parseSettings(m.get('settings')?.value, p);
  if (p.require(m, 'steps', 'A journey', span)) {
    const sn = m.get('steps')?.value;
    ast.steps = p.steps(sn, 'steps') ?? { steps: [], span: p.span(m.get('steps')?.key), items: isSeq(sn) || sn == null || (isScalar(sn) && sn.value === null) ? 0 : -1 };
  }
  return ast;
}

function parseTrigger(n: N, p: Parser): TriggerAst | undefined {
  const m = p.map(n, 'trigger', ['event', 'schedule', 'date', 'segment', 'when', 'data']);
  if (!m) return undefined;
  const span = p.span(n);
  const kinds = ['event', 'schedule', 'date', 'segment'].filter((k) => m.has(k));
  if (m.has('data') && !m.has('event')) {
    p.sink.error('E_BAD_TRIGGER', 'Only an event trigger carries data: `data:` needs `event:`.', p.span(m.get('data')?.key));
  }
  if (kinds.length !== 1) {
    p.sink.error('E_BAD_TRIGGER', kinds.length === 0
      ? 'The trigger needs one of: event, schedule, date, segment.'
      : `The trigger can only be one of event, schedule, date, segment, but has ${kinds.join(' and ')}.`, span);
    return undefined;
  }
  const when = m.has('when') ? p.expr(m.get('when')?.value, 'when') : undefined;
  const v = m.get(kinds[0])?.value;
  switch (kinds[0]) {
    case 'event': {
      const event = p.str(v, 'The trigger event');
      if (!event) return undefined;
      if (!m.has('data')) return { kind: 'event', span, event, when };
      const dn = m.get('data')?.value;
      const data: { name: L<string>; type: L<string> }[] = [];
      if (!isMap(dn)) p.sink.error('E_WRONG_TYPE', 'data should be a map of field: type, like { orderId: string, amount: number }.', p.span(dn));
      else for (const pair of dn.items) {
        const name = { value: isScalar(pair.key) ? String(pair.key.value) : '', span: p.span(pair.key as N) };
        const type = p.str(pair.value as N, `The type of ${name.value}`);
        if (type) data.push({ name, type });
      }
      return { kind: 'event', span, event, when, data };
    }
    case 'schedule': {
      const sm = p.map(v, 'schedule', ['cron', 'timezone', 'segment', 'audience']);
      if (!sm) return undefined;
      p.require(sm, 'cron', 'A schedule', p.span(m.get('schedule')?.key));
      if (!sm.has('segment') && !sm.has('audience')) {
        p.sink.error('E_MISSING_KEY', 'A schedule needs the contacts to scan: `segment: <name>` or `audience: <expression>`.', p.span(m.get('schedule')?.key));
      }
      return {
        kind: 'schedule', span, when,
        cron: sm.has('cron') ? p.str(sm.get('cron')?.value, 'cron') : undefined,
        timezone: sm.has('timezone') ? p.str(sm.get('timezone')?.value, 'timezone') : undefined,
        segment: sm.has('segment') ? p.str(sm.get('segment')?.value, 'segment') : undefined,
        audience: sm.has('audience') ? p.expr(sm.get('audience')?.value, 'audience') : undefined,
      };
    }
    case 'date': {
      const dm = p.map(v, 'date', ['field', 'holiday', 'offset', 'repeat', 'at']);
      if (!dm) return undefined;
      const key = p.span(m.get('date')?.key);
      if (dm.has('field') === dm.has('holiday')) {
        p.sink.error(dm.has('field') ? 'E_BAD_TRIGGER' : 'E_MISSING_KEY', dm.has('field')
          ? 'A date trigger is on a contact date (field) or on a holiday, not both.'
          : 'A date trigger needs `field: <contact date>` (birthday, attributes.renewalDate) or `holiday: <name>` (christmas, chinese_new_year).', key);
      }
      return {
        kind: 'date', span, when,
        field: dm.has('field') ? p.str(dm.get('field')?.value, 'field') : undefined,
        holiday: dm.has('holiday') ? p.str(dm.get('holiday')?.value, 'holiday') : undefined,
        offset: dm.has('offset') ? p.durationText(dm.get('offset')?.value, 'offset') : undefined,
        repeat: dm.has('repeat') ? p.str(dm.get('repeat')?.value, 'repeat') : undefined,
        at: dm.has('at') ? p.str(dm.get('at')?.value, 'at') : undefined,
      };
    }
    default: {
      if (isMap(v)) {
        const sm = p.map(v, 'segment trigger', ['name', 'cron', 'timezone']);
        if (!sm || !p.require(sm, 'name', 'A segment trigger', p.span(v))) return undefined;
        const segment = p.str(sm.get('name')?.value, 'The segment name');
        if (!segment) return undefined;
        return {
          kind: 'segment', span, when, segment,
          cron: sm.has('cron') ? p.str(sm.get('cron')?.value, 'cron') : undefined,
          timezone: sm.has('timezone') ? p.str(sm.get('timezone')?.value, 'timezone') : undefined,
        };
      }
      const segment = p.str(v, 'The segment name');
      return segment ? { kind: 'segment', span, segment, when } : undefined;
    }
  }
}

function parseEntry(n: N, p: Parser): EntryAst | undefined {
  const span = p.span(n);
  const bad = () => p.sink.error('E_BAD_ENTRY', 'entry should be { once: true }, { every: 365d } or { restart: true }, optionally with key: <expression> (one run per key).', span);
  if (isScalar(n) && typeof n.value === 'string') {
    if (n.value === 'once') return { kind: 'once', span };
    if (n.value === 'restart') return { kind: 'restart', span };
    const every = /^every\s+(\S+)$/.exec(n.value);
    if (every) return { kind: 'every', span, period: { value: every[1], span } };
    bad();
    return undefined;
  }
  if (!isMap(n)) { bad(); return undefined; }
  const m = p.map(n, 'entry', ['once', 'every', 'restart', 'key']);
  if (!m) return undefined;
  // `key`: one run per value of the expression (per order, per booking...), with once (the default) or restart.
  const entityKey = m.has('key') ? p.expr(m.get('key')?.value, 'The entry key') : undefined;
  m.delete('key');
  const withKey = <T extends object>(e: T): T & { key?: ExprAst } => (entityKey ? { ...e, key: entityKey } : e);
  if (m.size === 0) { if (entityKey) return withKey({ kind: 'once' as const, span }); bad(); return undefined; }
  if (m.size !== 1) { bad(); return undefined; }
  const [key, { value }] = [...m.entries()][0];
  if (key === 'every') { const period = p.durationText(value, 'every'); return period ? withKey({ kind: 'every' as const, span, period }) : undefined; }
  if (!isScalar(value) || value.value !== true) { bad(); return undefined; }
  return withKey(key === 'once' ? { kind: 'once' as const, span } : { kind: 'restart' as const, span });
}

function parseSettings(n: N, p: Parser): SettingsAst {
  const m = p.map(n, 'settings', ['quiet_hours', 'frequency', 'timezone']);
  const s: SettingsAst = {};
  if (!m) return s;
  if (m.has('quiet_hours')) {
    const v = m.get('quiet_hours')?.value;
    const qm = p.map(v, 'quiet_hours', ['from', 'to']);
    if (qm) {
      const span = p.span(v);
      p.require(qm, 'from', 'quiet_hours', span);
      p.require(qm, 'to', 'quiet_hours', span);
      s.quietHours = { span, from: qm.has('from') ? p.str(qm.get('from')?.value, 'from') : undefined, to: qm.has('to') ? p.str(qm.get('to')?.value, 'to') : undefined };
    }
  }
  if (m.has('frequency')) {
    const v = m.get('frequency')?.value;
    const fm = p.map(v, 'frequency', ['max', 'per']);
    if (fm) {
      const span = p.span(v);
      p.require(fm, 'max', 'frequency', span);
      p.require(fm, 'per', 'frequency', span);
      s.frequency = { span, max: fm.has('max') ? p.num(fm.get('max')?.value, 'max') : undefined, per: fm.has('per') ? p.durationText(fm.get('per')?.value, 'per') : undefined };
    }
  }
  if (m.has('timezone')) s.timezone = p.str(m.get('timezone')?.value, 'timezone');
  return s;
}

export function parseRules(root: N, p: Parser): RulesAst | null {
  const m = p.map(root, 'a rules file', RULES_KEYS);
  if (!m) return null;
  const ast: RulesAst = { kind: 'rules', segments: [], ruleSets: [], attributes: [], span: p.span(root) };
  if (m.has('attributes')) {
    const an = m.get('attributes')?.value;
    if (!isMap(an)) p.sink.error('E_WRONG_TYPE', 'attributes should be a map of name: type, like { renewalDate: date, plan: string }.', p.span(an));
    else for (const pair of an.items) {
      const name = { value: isScalar(pair.key) ? String(pair.key.value) : '', span: p.span(pair.key as N) };
      const type = p.str(pair.value as N, `The type of attribute ${name.value}`);
      if (type) ast.attributes.push({ name, type });
    }
  }
  const segs = m.get('segments')?.value;
  if (m.has('segments')) {
    const sm = isMap(segs) ? (segs as YAMLMap) : null;
    if (!sm) p.sink.error('E_WRONG_TYPE', 'segments should be a map of name: { when: ... }.', p.span(segs));
    else for (const pair of sm.items) {
      const name = { value: String((pair.key as Scalar).value), span: p.span(pair.key as N) };
      const v = pair.value as N;
      const seg: SegmentAst = { name, span: p.span(v) };
      if (isScalar(v)) seg.expr = p.expr(v, 'The segment expression');
      else {
        const fm = p.map(v, `segment ${name.value}`, ['when', 'description']);
        if (fm && p.require(fm, 'when', `Segment ${name.value}`, name.span)) seg.expr = p.expr(fm.get('when')?.value, 'when');
      }
      ast.segments.push(seg);
    }
  }
  const sets = m.get('rule_sets')?.value;
  if (m.has('rule_sets')) {
    if (!isMap(sets)) p.sink.error('E_WRONG_TYPE', 'rule_sets should be a map of name: { field, rules, otherwise }.', p.span(sets));
    else for (const pair of sets.items) {
      const name = { value: String((pair.key as Scalar).value), span: p.span(pair.key as N) };
      const v = pair.value as N;
      const rm = p.map(v, `rule set ${name.value}`, ['over', 'field', 'rules', 'otherwise', 'description']);
      if (!rm) continue;
      const rs: RuleSetAst = { name, rules: [], span: p.span(v) };
      if (rm.has('over')) rs.over = p.str(rm.get('over')?.value, 'over');
      if (p.require(rm, 'field', `Rule set ${name.value}`, name.span)) rs.field = p.str(rm.get('field')?.value, 'field');
      if (rm.has('otherwise')) {
        const o = rm.get('otherwise')?.value;
        rs.otherwise = isScalar(o) && o.value === null ? { value: null, span: p.span(o) } : p.str(o, 'otherwise');
      }
      const rules = rm.get('rules')?.value;
      if (!p.require(rm, 'rules', `Rule set ${name.value}`, name.span)) { ast.ruleSets.push(rs); continue; }
      if (!isSeq(rules)) p.sink.error('E_WRONG_TYPE', 'rules should be a list of { value, when, reason }.', p.span(rules));
      else for (const r of rules.items) {
        const span = p.span(r as N);
        const em = p.map(r as N, 'a rule', ['value', 'when', 'reason']);
        if (!em || !p.require(em, 'value', 'A rule', span) || !p.require(em, 'when', 'A rule', span)) continue;
        const value = p.str(em.get('value')?.value, 'value');
        if (!value) continue;
        rs.rules.push({ value, span, when: p.expr(em.get('when')?.value, 'when'), reason: em.has('reason') ? p.str(em.get('reason')?.value, 'reason') : undefined });
      }
      ast.ruleSets.push(rs);
    }
  }
  return ast;
}
