/**
 * The DSL's public API. Pure code: no I/O, no Node built-ins (safe in the Temporal workflow sandbox;
 * workflows should import `rules/evaluate` directly to keep the bundle small).
 *
 *   compileProject(files, { templates })  -> { plans, rules, diagnostics }   (sojourn deploy / validate)
 *   compileJourney(file, { templates, rules }) -> { plan, diagnostics }
 *   compileRules(file)                    -> { plan, diagnostics }
 *   evaluate / evaluateBool / classify    (run time, inside workflows)
 *   toMongoFilter(source, { now })        -> { filter } | { reason }  (audience scans)
 *   formatDiagnostic(d, sourceText)       -> "file:line:col: error E_CODE: message" + line + caret
 */
export * from './plan';
export type { ContactView, EventView, JourneyView, ContactField, CelFieldType } from './contact-schema';
export { CONTACT_FIELDS } from './contact-schema';
export {
  type Diagnostic, type DiagnosticCode, type Severity, type Range, type Position,
  DIAGNOSTIC_CODES, formatDiagnostic, hasErrors, sortDiagnostics,
} from './diagnostics';
export {
  type SourceFile, type CompileContext, type JourneyResult, type RulesResult, type ProjectResult,
  compileJourney, compileRules, compileProject, detectFileKind,
} from './compile';
export { type Bindings, type CompiledExpr, type Classification, compileExpression, evaluate, evaluateBool, classify } from './evaluate';
export { type Filter, type PushdownResult, toMongoFilter, toFilterTemplate, materializeFilter } from './pushdown';
export { segmentFilter } from './segment-filter';
export { parseDuration, isLocalTime, isTimeZone } from './duration';
export { KNOWN_EVENTS, EMAIL_STATUSES, SETTABLE_FIELDS } from './check';
export { FUNCTIONS as CEL_FUNCTIONS, type MessageView } from './cel-env';
export { sha256Hex, canonicalJson } from './sha256';
export { planHash } from './plan-hash';
