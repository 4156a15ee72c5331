/**
 * Stage 3: AST -> plan (rules/plan.ts). Derives readable step ids, flattens branches into the step
 * graph (branch tails rejoin the step after the branching step), resolves references, hashes the
 * plan. `compileProject` runs every stage over a set of files and reports all problems at once.
 */
import type { ASTNode } from '@marcbachmann/cel-js';
import type { ExprAst, JourneyAst, RulesAst, StepAst, StepListAst, TriggerAst } from './ast';
import { celEnvironment } from './cel-env';
import { checkJourney, checkRules } from './check';
import { DiagnosticSink, SourceMap, hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics';
import { formatDuration, parseDayOffset, parseDuration } from './duration';
import { Parser, detectFileKindFromDoc, parseJourney, parseRules, parseYaml } from './parse';
import {
  ATTRIBUTE_TYPES, dateTriggerRepeat, PLAN_FORMAT, type AttributeType, type DataFieldType, type EmailStatus, type EntryPolicy, type Expr, type JourneyPlan, type RuleSetPlan, type RulesPlan,
  type SegmentPlan, type Settings, type Step, type TemplateRef, type Trigger,
} from './plan';
import { planHash } from './plan-hash';
import type { HolidayName } from './holiday-names';
import { toFilterTemplate } from './pushdown';
import type { TemplateVarUse } from './template-vars';

export interface SourceFile { path: string; text: string }
export interface CompileContext {
  templates: Record<string, TemplateRef>;
  rules?: RulesPlan;
  /** Variable uses per template (mail/template-variables.ts); when given, each send checks them (E_TEMPLATE_VARIABLE). */
  templateUses?: Record<string, TemplateVarUse[]>;
}
/** `plan` is null when there are errors (warnings alone still give a plan). */
export interface JourneyResult { plan: JourneyPlan | null; diagnostics: Diagnostic[] }
export interface RulesResult { plan: RulesPlan | null; diagnostics: Diagnostic[] }
export interface ProjectResult {
  /** Journey plans by journey id (only journeys without errors). */
  plans: Record<string, JourneyPlan>;
  rules: RulesPlan;
  diagnostics: Diagnostic[];
  /** Per file, for tools: which kind it was detected as. */
  files: { path: string; kind: 'journey' | 'rules' | null }[];
}

export const DEFAULT_SCAN_CRON = '0 * * * *';

/** `journey`, `rules` or null, by content (falls back to the `.rules.yaml` suffix). */
export function detectFileKind(file: SourceFile): 'journey' | 'rules' | null {
  if (/\.rules\.ya?ml$/.test(file.path)) return 'rules';
  if (/^journey\s*:/m.test(file.text)) return 'journey';
  if (/^(segments|rule_sets)\s*:/m.test(file.text)) return 'rules';
  return null;
}

function exprOf(e: ExprAst, map: SourceMap, file: string): Expr {
  const p = map.position(e.span[0]);
  return { source: e.source, at: `${file}:${p.line}:${p.col}` };
}

function segmentPlan(name: string, source: string, at?: string): SegmentPlan {
  const r = toFilterTemplate(source);
  return 'template' in r
    ? { name, expr: { source, at }, filter: r.template }
    : { name, expr: { source, at }, filter: null, pushdownNote: r.reason };
}

// ---- rules files ------------------------------------------------------------------------------

function buildRules(ast: RulesAst, sink: DiagnosticSink, checked?: Map<string, ASTNode | null>): RulesPlan {
  const plan: RulesPlan = { segments: {}, ruleSets: {} };
  for (const s of ast.segments) {
    if (!s.expr) continue;
    const seg = segmentPlan(s.name.value, s.expr.source, exprOf(s.expr, sink.map, sink.file).at);
    if (seg.filter === null && (!checked || checked.get(s.name.value))) sink.warn('W_NO_PUSHDOWN', `Segment ${s.name.value} cannot be a database filter (${seg.pushdownNote}); scans will check it contact by contact, which is slower.`, s.expr.span);
    plan.segments[s.name.value] = seg;
  }
  for (const a of ast.attributes) {
    if ((ATTRIBUTE_TYPES as readonly string[]).includes(a.type.value)) (plan.attributes ??= {})[a.name.value] = a.type.value as AttributeType;
  }
  for (const rs of ast.ruleSets) {
    const set: RuleSetPlan = {
      name: rs.name.value,
      ...(rs.over?.value === 'message' ? { over: 'message' as const } : {}),
      field: rs.field?.value ?? rs.name.value,
      rules: rs.rules.filter((r) => r.when).map((r) => ({
        value: r.value.value, when: exprOf(r.when as ExprAst, sink.map, sink.file), reason: r.reason?.value ?? (r.when as ExprAst).source,
      })),
      otherwise: rs.otherwise ? rs.otherwise.value : null,
    };
    plan.ruleSets[rs.name.value] = set;
  }
  return plan;
}

function analyseRules(file: SourceFile): { ast: RulesAst | null; sink: DiagnosticSink; segmentAsts: Map<string, ASTNode | null> } {
  const sink = new DiagnosticSink(file.path, new SourceMap(file.text));
  const root = parseYaml(file.text, sink);
  if (!root) return { ast: null, sink, segmentAsts: new Map() };
  const ast = parseRules(root, new Parser(file.text, sink));
  const segmentAsts = ast ? checkRules(ast, sink) : new Map();
  return { ast, sink, segmentAsts };
}

/** Compiles one rules file (segments and classification rule sets). */
export function compileRules(file: SourceFile): RulesResult {
  const { ast, sink, segmentAsts } = analyseRules(file);
  const plan = ast ? buildRules(ast, sink, segmentAsts) : null;
  return { plan: hasErrors(sink.list) ? null : plan, diagnostics: sortDiagnostics(sink.list) };
}

// ---- journeys ---------------------------------------------------------------------------------

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40) || 'step';
}

/** A readable id for a step without an explicit one (ops filter on it in the Temporal UI). */
export function deriveStepId(st: StepAst): string {
  switch (st.kind) {
    case 'send': return `send_${slug(st.template.value)}`;
    case 'wait':
      if (st.duration) { const ms = parseDuration(st.duration.value); return `wait_${ms ? formatDuration(ms) : slug(st.duration.value)}`; }
      if (st.untilTime) return `wait_until_${st.untilTime.value.replace(':', '')}`;
      return `wait_until_${slug(st.until?.value.replace(/^(contact\.)?attributes\./, '') ?? st.untilDate?.value ?? 'date')}`;
    case 'wait_for': return `wait_for_${slug(st.event?.value ?? 'event')}`;
    case 'if': {
      const m = /([A-Za-z_]\w*)\s*(==|!=|<=|>=|<|>|\)|$)/.exec(st.cond.source.replace(/^!+/, ''));
      const hasTag = /hasTag\(\s*contact\s*,\s*"([^"]+)"\)|"([^"]+)"\s+in\s+contact\.tags/.exec(st.cond.source);
      const leaf = hasTag ? `tag_${hasTag[1] ?? hasTag[2]}` : m ? m[1] : 'condition';
      return `if_${st.cond.source.trim().startsWith('!') ? 'not_' : ''}${slug(leaf)}`;
    }
    case 'split': return 'split';
    case 'update': {
      if (st.emailStatus) return `set_email_status_${slug(st.emailStatus.value)}`;
      if (st.consent) return `set_consent_${slug(st.consent.channel.value)}_${slug(st.consent.status.value)}`;
      if (st.set.length) return `set_${slug(st.set[0].field.value)}`;
      if (st.addTags.length) return `tag_${slug(st.addTags[0].value)}`;
      if (st.removeTags.length) return `untag_${slug(st.removeTags[0].value)}`;
      return 'update';
    }
    case 'classify': return `classify_${slug(st.ruleSet.value)}`;
    case 'webhook': {
      let host = 'call';
      try { host = new URL(st.url?.value ?? '').hostname.split('.').filter((x) => x !== 'www').slice(0, 2).join('_') || 'call'; } catch { /* checked elsewhere */ }
      return `webhook_${slug(host)}`;
    }
    case 'task': return `task_${slug(st.title?.value ?? 'owner').split('_').slice(0, 4).join('_') || 'owner'}`;
    case 'exit': return st.reason ? `exit_${slug(st.reason.value)}` : 'exit';
  }
}

function collectSteps(list: StepListAst | null, out: StepAst[]): void {
  for (const st of list?.steps ?? []) {
    out.push(st);
    if (st.kind === 'if') { collectSteps(st.then, out); collectSteps(st.else, out); }
    if (st.kind === 'wait_for') collectSteps(st.onTimeout, out);
    if (st.kind === 'split') for (const b of st.branches) collectSteps(b.steps, out);
  }
}

type JourneyCompileContext = Required<Pick<CompileContext, 'templates' | 'rules'>> & { templateUses?: CompileContext['templateUses']; reported?: Set<string> };

function buildJourney(j: JourneyAst, ctx: JourneyCompileContext, sink: DiagnosticSink): Omit<JourneyPlan, 'hash'> {
  const map = sink.map;
  const file = sink.file;
  const at = (span: [number, number]) => { const p = map.position(span[0]); return `${file}:${p.line}:${p.col}`; };
  const ex = (e: ExprAst) => exprOf(e, map, file);

  // Step ids: explicit ids first, then derived ids uniqued in document order.
  const all: StepAst[] = [];
  collectSteps(j.steps, all);
  const taken = new Set(all.map((s) => s.id?.value).filter((x): x is string => !!x));
  const ids = new Map<StepAst, string>();
  const used = new Set<string>();
  for (const st of all) {
    if (st.id && !used.has(st.id.value)) { ids.set(st, st.id.value); used.add(st.id.value); continue; }
    const base = deriveStepId(st);
    let id = base;
    for (let n = 2; used.has(id) || (taken.has(id) && st.id?.value !== id); n++) id = `${base}_${n}`;
    ids.set(st, id);
    used.add(id);
  }

  const steps: Record<string, Step> = {};
  const keyRoutes: Record<string, string> = {};
  const templates: Record<string, TemplateRef> = {};
  const segments: Record<string, SegmentPlan> = {};
  const ruleSets: Record<string, RuleSetPlan> = {};

  // Allocate in document order so `steps` reads top to bottom.
  const order: Step[] = [];
  const compileList = (list: StepListAst | null, next: string | null): string | null => {
    const sts = list?.steps ?? [];
    let first: string | null = null;
    const made: Step[] = [];
    for (let i = 0; i < sts.length; i++) {
      const st = sts[i];
      const id = ids.get(st) as string;
      const follow = i + 1 < sts.length ? (ids.get(sts[i + 1]) as string) : next;
      const s = compileStep(st, id, st.kind === 'exit' ? null : follow);
      if (s) { made.push(s); if (first === null) first = id; }
      if (st.kind === 'exit') break;
    }
    return first;
  };
  const compileStep = (st: StepAst, id: string, next: string | null): Step | null => {
    const base = { id, next, at: at(st.kindSpan) };
    let step: Step;
    switch (st.kind) {
      case 'send': {
        const ref = ctx.templates[st.template.value] ?? { id: st.template.value, marketing: true };
        templates[ref.id] = ref;
        step = { ...base, kind: 'send', template: ref.id, marketing: ref.marketing };
        break;
      }
      case 'wait':
        if (st.duration) step = { ...base, kind: 'wait', mode: 'duration', ms: parseDuration(st.duration.value) ?? 0 };
        else if (st.untilTime) step = { ...base, kind: 'wait', mode: 'time_of_day', at: st.untilTime.value };
        else if (st.until?.value === 'best_time') {
          step = { ...base, kind: 'wait', mode: 'best_time', withinMs: parseDuration(st.within?.value ?? '24h') ?? 86_400_000, ...(st.at ? { at: st.at.value } : {}) };
        }
        else if (st.until) {
          step = { ...base, kind: 'wait', mode: 'until_field', field: st.until.value.replace(/^contact\./, ''), offsetDays: parseDayOffset(st.offset?.value ?? '0d') ?? 0, at: st.at?.value ?? '09:00' };
        }
        else step = { ...base, kind: 'wait', mode: 'date_field', field: 'birthday', at: st.at?.value ?? '09:00' };
        break;
      case 'wait_for': {
        step = { ...base, kind: 'wait_for', event: st.event?.value ?? '', timeoutMs: parseDuration(st.timeout?.value ?? '') ?? 0, onTimeout: null };
        if (st.correlate) step.correlate = ex(st.correlate);
        if (st.correlateMap?.length) {
          // `{ orderId: trigger.data.orderId }` means: the arriving event's data.orderId equals that value.
          const source = st.correlateMap.map((c) => `event.data.${c.field.value} == (${c.value.source})`).join(' && ');
          step.correlate = { source, at: ex(st.correlateMap[0].value).at };
          const key = keyField(j);
          const byKey = key ? st.correlateMap.find((c) => c.value.source.trim() === `trigger.data.${key}`) : undefined;
          if (byKey && step.event) keyRoutes[step.event] = byKey.field.value;
        }
        order.push(step);
        step.onTimeout = compileList(st.onTimeout, next);
        return step;
      }
      case 'if': {
        step = { ...base, kind: 'if', cond: ex(st.cond), then: null, else: null };
        order.push(step);
        step.then = compileList(st.then, next);
        step.else = compileList(st.else, next);
        return step;
      }
      case 'split': {
        step = { ...base, kind: 'split', branches: [] };
        order.push(step);
        for (const b of st.branches) step.branches.push({ name: b.name.value, weight: b.weight.value, start: compileList(b.steps, next), holdout: false });
        if (st.holdout && st.holdout.value > 0) step.branches.push({ name: 'holdout', weight: st.holdout.value, start: null, holdout: true });
        return step;
      }
      case 'update': {
        const u: Step = { ...base, kind: 'update' };
        if (st.set.length) {
          u.set = {};
          for (const f of st.set) u.set[f.field.value] = f.isExpr ? ex(f.value as ExprAst) : ((f.value as { value: string | number | boolean | null }).value);
        }
        if (st.addTags.length) u.addTags = st.addTags.map((t) => t.value);
        if (st.removeTags.length) u.removeTags = st.removeTags.map((t) => t.value);
        if (st.consent) u.consent = { channel: st.consent.channel.value as 'email', status: st.consent.status.value as 'subscribed' };
        if (st.emailStatus) u.emailStatus = st.emailStatus.value as EmailStatus;
        step = u;
        break;
      }
      case 'classify': {
        const rs = ctx.rules.ruleSets[st.ruleSet.value];
        if (rs) ruleSets[rs.name] = rs;
        step = { ...base, kind: 'classify', ruleSet: st.ruleSet.value };
        break;
      }
      case 'webhook': {
        const body: Record<string, Expr | string | number | boolean | null> = {};
        for (const f of st.body) body[f.field.value] = f.isExpr ? ex(f.value as ExprAst) : ((f.value as { value: string | number | boolean | null }).value);
        const w: Step = { ...base, kind: 'webhook', url: st.url?.value ?? '', body };
        if (st.setFromResponse.length) w.setFromResponse = Object.fromEntries(st.setFromResponse.map((m) => [m.field.value, m.path.value]));
        step = w;
        break;
      }
      case 'task': {
        const t: Step = { ...base, kind: 'task', title: st.title?.value ?? '', why: st.why?.value ?? '', dueMs: parseDuration(st.due?.value ?? '') ?? 0, email: st.email?.value ?? true };
        if (st.webhook) t.webhook = st.webhook.value;
        step = t;
        break;
      }
      case 'exit':
        step = { ...base, kind: 'exit', next: null, outcome: (st.outcome?.value as 'exited' | 'converted') ?? 'exited', reason: st.reason?.value ?? 'exit step' };
        break;
    }
    order.push(step);
    return step;
  };
  const start = compileList(j.steps, null);
  for (const s of order) steps[s.id] = s;

  const params = Object.fromEntries(Object.entries(j.params).map(([k, v]) => [k, v.value]));
  const [trigger, ...extraTriggers] = j.triggers.map((t) => buildTrigger(t, ctx, j.id.value, ex, segments, params));
  const entry: EntryPolicy = !j.entry || j.entry.kind === 'once' ? { kind: 'once' }
    : j.entry.kind === 'restart' ? { kind: 'restart' } : { kind: 'every', periodMs: parseDuration(j.entry.period.value) ?? 0 };
  const settings: Settings = { defaultTimezone: j.settings.timezone?.value ?? 'UTC' };
  if (j.settings.quietHours?.from && j.settings.quietHours.to) settings.quietHours = { from: j.settings.quietHours.from.value, to: j.settings.quietHours.to.value };
  if (j.settings.frequency?.max && j.settings.frequency.per) settings.frequency = { max: j.settings.frequency.max.value, perMs: parseDuration(j.settings.frequency.per.value) ?? 0 };

  const plan: Omit<JourneyPlan, 'hash'> = {
    planFormat: PLAN_FORMAT,
    journeyId: j.id.value,
    name: j.name?.value ?? j.id.value,
    sourceFile: file,
    trigger, entry, settings, start, steps, templates, segments, ruleSets,
  };
  if (extraTriggers.length) plan.extraTriggers = extraTriggers;
  if (j.entry?.key) plan.entryKey = { expr: ex(j.entry.key), byEvent: keyRoutes };
  if (Object.keys(params).length) plan.params = params;
  if (j.exitWhen) plan.exitWhen = ex(j.exitWhen);
  if (j.goal?.event) {
    plan.goal = { event: j.goal.event.value };
    if (j.goal.when) plan.goal.when = ex(j.goal.when);
    if (j.goal.within) plan.goal.withinMs = parseDuration(j.goal.within.value) ?? undefined;
  }
  return plan;
}

/** The trigger data field the entry key is (`key: event.data.orderId` -> orderId), or null for another expression. */
function keyField(j: JourneyAst): string | null {
  const m = /^event\.data\.([A-Za-z_]\w*)$/.exec(j.entry?.key?.source.trim() ?? '');
  return m ? m[1] : null;
}

/** Audience scans have no journey binding: journey.params.x is replaced by its value. */
function inlineParams(source: string, params: Record<string, string | number | boolean>): string {
  return source.replace(/\bjourney\.params\.([A-Za-z_]\w*)/g, (all, name: string) => (name in params ? JSON.stringify(params[name]) : all));
}

function buildTrigger(t: TriggerAst, ctx: JourneyCompileContext, journeyId: string, ex: (e: ExprAst) => Expr, segments: Record<string, SegmentPlan>,
  params: Record<string, string | number | boolean>): Trigger {
  const exP = (e: ExprAst): Expr => { const x = ex(e); return { ...x, source: inlineParams(x.source, params) }; };
  switch (t.kind) {
    case 'event': {
      const trigger: Trigger = { kind: 'event', event: t.event.value };
      if (t.when) trigger.when = exP(t.when);
      if (t.data) trigger.data = Object.fromEntries(t.data.map((f) => [f.name.value, f.type.value as DataFieldType]));
      return trigger;
    }
    case 'date': {
      // Keys in the order the birthday plan always had (field, at, when), non-default keys only: a
      // birthday journey keeps its plan hash.
      const trigger: Trigger = t.holiday ? { kind: 'date', holiday: t.holiday.value as HolidayName, at: t.at?.value ?? '09:00' }
        : { kind: 'date', field: (t.field?.value ?? 'birthday').replace(/^contact\./, ''), at: t.at?.value ?? '09:00' };
      const offsetDays = t.offset ? parseDayOffset(t.offset.value) ?? 0 : 0;
      if (offsetDays) trigger.offsetDays = offsetDays;
      if (t.repeat && t.repeat.value !== dateTriggerRepeat(trigger)) trigger.repeat = t.repeat.value as 'yearly' | 'once';
      if (t.when) trigger.when = exP(t.when);
      return trigger;
    }
    case 'schedule': {
      const parts: string[] = [];
      const named = t.segment ? ctx.rules.segments[t.segment.value] : undefined;
      if (named) { segments[named.name] = named; parts.push(named.expr.source); }
      if (t.audience) parts.push(t.audience.source);
      if (t.when) parts.push(t.when.source);
      let audience: SegmentPlan;
      if (named && parts.length === 1) audience = named;
      else {
        const source = inlineParams(parts.length === 1 ? parts[0] : parts.map((p) => `(${p})`).join(' && '), params);
        audience = segmentPlan(`${journeyId}:audience`, source, t.audience ? ex(t.audience).at : undefined);
      }
      return { kind: 'schedule', cron: t.cron?.value ?? DEFAULT_SCAN_CRON, timezone: t.timezone?.value ?? 'UTC', audience };
    }
    case 'segment': {
      let seg = ctx.rules.segments[t.segment.value] ?? segmentPlan(t.segment.value, 'false');
      segments[seg.name] = seg;
      // A `when` on a segment trigger narrows the segment for this journey.
      if (t.when) seg = segmentPlan(`${journeyId}:segment`, `(${seg.expr.source}) && (${exP(t.when).source})`, ex(t.when).at);
      return { kind: 'segment', segment: seg, cron: t.cron?.value ?? DEFAULT_SCAN_CRON, timezone: t.timezone?.value ?? 'UTC' };
    }
  }
}

function analyseJourney(file: SourceFile, ctx: JourneyCompileContext, segmentAsts?: Map<string, ASTNode | null>): { ast: JourneyAst | null; sink: DiagnosticSink } {
  const sink = new DiagnosticSink(file.path, new SourceMap(file.text));
  const root = parseYaml(file.text, sink);
  if (!root) return { ast: null, sink };
  const ast = parseJourney(root, new Parser(file.text, sink));
  if (ast) checkJourney(ast, { ...ctx, segmentAsts: segmentAsts ?? segmentAstsOf(ctx.rules) }, sink);
  return { ast, sink };
}

function segmentAstsOf(rules: RulesPlan): Map<string, ASTNode | null> {
  return new Map(Object.values(rules.segments).map((s) => {
    try {
      return [s.name, celParse(s.expr.source)];
    } catch {
      return [s.name, null];
    }
  }));
}
const celParse = (s: string): ASTNode => celEnvironment().parse(s).ast;

function finish(plan: Omit<JourneyPlan, 'hash'>): JourneyPlan {
  return { ...plan, hash: planHash(plan) } as JourneyPlan;
}

/** Compiles one journey file against known templates and rules. */
export function compileJourney(file: SourceFile, context: CompileContext): JourneyResult {
  const ctx = { templates: context.templates, rules: context.rules ?? { segments: {}, ruleSets: {} }, templateUses: context.templateUses, reported: new Set<string>() };
  const { ast, sink } = analyseJourney(file, ctx);
  if (!ast || hasErrors(sink.list)) return { plan: null, diagnostics: sortDiagnostics(sink.list) };
  return { plan: finish(buildJourney(ast, ctx, sink)), diagnostics: sortDiagnostics(sink.list) };
}

/**
 * Compiles a set of files: rules files first (merged; `context.rules` is merged in too), then every
 * journey against them. Reports every problem in every file.
 */
export function compileProject(files: SourceFile[], context: CompileContext): ProjectResult {
  const diagnostics: Diagnostic[] = [];
  const rules: RulesPlan = { segments: { ...(context.rules?.segments ?? {}) }, ruleSets: { ...(context.rules?.ruleSets ?? {}) } };
  const segmentAsts = segmentAstsOf(rules);
  const kinds = files.map((f) => {
    const byName = detectFileKind(f);
    if (byName) return byName;
    const sink = new DiagnosticSink(f.path, new SourceMap(f.text));
    const root = parseYaml(f.text, sink);
    return root ? detectFileKindFromDoc(root) : null;
  });
  const out: ProjectResult = { plans: {}, rules, diagnostics, files: files.map((f, i) => ({ path: f.path, kind: kinds[i] })) };
  files.forEach((f, i) => {
    if (kinds[i] !== 'rules') return;
    const { ast, sink, segmentAsts: asts } = analyseRules(f);
    if (ast) {
      const plan = buildRules(ast, sink, asts);
      for (const s of ast.segments) {
        if (rules.segments[s.name.value] && plan.segments[s.name.value] !== rules.segments[s.name.value] && !context.rules?.segments[s.name.value]) {
          sink.error('E_DUPLICATE_NAME', `The segment "${s.name.value}" is also defined in another rules file.`, s.name.span);
        }
      }
      Object.assign(rules.segments, plan.segments);
      Object.assign(rules.ruleSets, plan.ruleSets);
      if (plan.attributes) rules.attributes = { ...rules.attributes, ...plan.attributes };
      for (const [k, v] of asts) segmentAsts.set(k, v);
    }
    diagnostics.push(...sink.list);
  });
  // `reported`: a template problem that does not depend on the journey is reported once, whoever sends it.
  const ctx = { templates: context.templates, rules, templateUses: context.templateUses, reported: new Set<string>() };
  const journeyFiles = new Map<string, string>();
  files.forEach((f, i) => {
    if (kinds[i] === 'rules') return;
    if (kinds[i] === null) {
      const sink = new DiagnosticSink(f.path, new SourceMap(f.text));
      if (parseYaml(f.text, sink)) sink.error('E_FILE_KIND', 'This is neither a journey (it has no `journey:` key) nor a rules file (no `segments:` or `rule_sets:`).', [0, 1]);
      diagnostics.push(...sink.list);
      return;
    }
    const { ast, sink } = analyseJourney(f, ctx, segmentAsts);
    if (ast && ast.id.value) {
      const prev = journeyFiles.get(ast.id.value);
      if (prev) sink.error('E_DUPLICATE_NAME', `The journey id "${ast.id.value}" is already used by ${prev}.`, ast.id.span);
      else journeyFiles.set(ast.id.value, f.path);
    }
    if (ast && !hasErrors(sink.list)) out.plans[ast.id.value] = finish(buildJourney(ast, ctx, sink));
    diagnostics.push(...sink.list);
  });
  sortDiagnostics(diagnostics);
  return out;
}
