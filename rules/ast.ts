/**
 * The typed AST of journey and rules files: what parse.ts produces from YAML. Every value keeps
 * its source span ([start, end) offsets in the file) so later stages can point at it.
 */
export type Span = [number, number];
export interface L<T> { value: T; span: Span }

/** A CEL expression as written in YAML, with a map from expression offsets to file offsets. */
export interface ExprAst { source: string; span: Span; offsets: (i: number) => number }

export type TriggerAst =
  | { kind: 'event'; span: Span; event: L<string>; when?: ExprAst; data?: { name: L<string>; type: L<string> }[] }
  | { kind: 'schedule'; span: Span; cron?: L<string>; timezone?: L<string>; segment?: L<string>; audience?: ExprAst; when?: ExprAst }
  | { kind: 'date'; span: Span; field?: L<string>; holiday?: L<string>; offset?: L<string>; repeat?: L<string>; at?: L<string>; when?: ExprAst }
  | { kind: 'segment'; span: Span; segment: L<string>; cron?: L<string>; timezone?: L<string>; when?: ExprAst };

export type EntryAst = (
  | { kind: 'once'; span: Span }
  | { kind: 'every'; span: Span; period: L<string> }
  | { kind: 'restart'; span: Span }
) & { key?: ExprAst };

export interface SettingsAst {
  quietHours?: { from?: L<string>; to?: L<string>; span: Span };
  frequency?: { max?: L<number>; per?: L<string>; span: Span };
  timezone?: L<string>;
}

/** `field: value` or `field: {expr: "..."}` (update `set`, webhook `body`). */
export interface FieldValueAst { field: L<string>; value: L<unknown> | ExprAst; isExpr: boolean }

interface StepAstBase { id?: L<string>; span: Span; kindSpan: Span }
export type StepAst = StepAstBase & (
  | { kind: 'send'; template: L<string> }
  | { kind: 'wait'; duration?: L<string>; untilTime?: L<string>; untilDate?: L<string>; at?: L<string>;
      /** `until: attributes.renewalDate` with `offset: -14d`; `until: best_time` with `within: 24h` (send-time optimisation). */
      until?: L<string>; offset?: L<string>; within?: L<string> }
  | { kind: 'wait_for'; event?: L<string>; correlate?: ExprAst;
      /** `correlate: { orderId: trigger.data.orderId }`: event data field -> expression it must equal. */
      correlateMap?: { field: L<string>; value: ExprAst }[];
      timeout?: L<string>; onTimeout: StepListAst | null }
  | { kind: 'if'; cond: ExprAst; then: StepListAst | null; else: StepListAst | null }
  | { kind: 'split'; branches: { name: L<string>; weight: L<number>; steps: StepListAst | null; span: Span }[]; holdout?: L<number> }
  | { kind: 'update'; set: FieldValueAst[]; addTags: L<string>[]; removeTags: L<string>[];
      consent?: { channel: L<string>; status: L<string> }; emailStatus?: L<string> }
  | { kind: 'classify'; ruleSet: L<string> }
  | { kind: 'webhook'; url?: L<string>; body: FieldValueAst[]; setFromResponse: { field: L<string>; path: L<string> }[] }
  | { kind: 'task'; title?: L<string>; why?: L<string>; due?: L<string>; email?: L<boolean>; webhook?: L<string> }
  | { kind: 'exit'; outcome?: L<string>; reason?: L<string> }
);

/** `items`: how many steps were written (some may not have parsed). */
export interface StepListAst { steps: StepAst[]; span: Span; items: number }

export interface JourneyAst {
  kind: 'journey';
  id: L<string>;
  name?: L<string>;
  params: Record<string, L<string | number | boolean>>;
  /** Events the journey's own systems send through the API (outside the vocabulary, rules/event-vocabulary.ts). */
  customEvents: L<string>[];
  /** One or more triggers (`trigger:` may be a list); the first is the plan's main trigger. */
  triggers: TriggerAst[];
  entry?: EntryAst;
  exitWhen?: ExprAst;
  goal?: { event?: L<string>; when?: ExprAst; within?: L<string>; span: Span };
  settings: SettingsAst;
  steps: StepListAst | null;
  span: Span;
}

export interface SegmentAst { name: L<string>; expr?: ExprAst; description?: string; span: Span }
export interface RuleSetAst {
  name: L<string>;
  /** What the rules classify: a contact (default) or an inbound email message. */
  over?: L<string>;
  field?: L<string>;
  rules: { value: L<string>; when?: ExprAst; reason?: L<string>; span: Span }[];
  otherwise?: L<string | null>;
  span: Span;
}
export interface RulesAst { kind: 'rules'; segments: SegmentAst[]; ruleSets: RuleSetAst[]; attributes: { name: L<string>; type: L<string> }[]; span: Span }
