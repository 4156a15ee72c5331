/**
 * The variables each template uses, read from the Handlebars syntax tree of its subject, preheader,
 * HTML and text parts and its layout, with the file position of each use, for `sojourn validate`
 * (rules/template-vars.ts decides what a journey can provide). Parsing only: nothing is rendered.
 *
 * A use is optional when a missing value is handled: the first argument of `fallback`, the condition
 * of `#if` / `#unless`. Inside `#each` / `#with` the context changes, so paths there are not checked;
 * partials are checked where they are called (their arguments), not in their own files.
 */
import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import type { TemplateVarUse } from '../rules/template-vars';
import { HELPERS } from './helpers';
import { DEFAULT_TEMPLATES_DIR, listTemplateIds, loadLayout, loadTemplate, type SourceFile } from './templates';

type Node = hbs.AST.Node;
const BUILTIN_HELPERS = new Set(['if', 'unless', 'each', 'with', 'lookup', 'log']);
const isHelper = (name: string) => BUILTIN_HELPERS.has(name) || Object.prototype.hasOwnProperty.call(HELPERS, name);

function rel(file: string): string {
  const r = path.relative(process.cwd(), file);
  return r.startsWith('..') ? file : r;
}

/**
 * Uses in one source: `lineText(line)` gives the file's text of a source line, so the column points
 * into the file (front-matter values start after `subject: "`).
 */
function usesIn(sf: SourceFile, out: TemplateVarUse[], opts: { layout?: boolean; columnOffset?: number } = {}): void {
  let program: hbs.AST.Program;
  try {
    program = Handlebars.parse(sf.source);
  } catch {
    return; // a syntax error is the renderer's to report (with its line); nothing to check here
  }
  const file = rel(sf.file);
  // Paths an enclosing {{#if}} tested: inside its body they are there (or the body does not run).
  const guards: string[] = [];
  const add = (p: hbs.AST.PathExpression, optional: boolean) => {
    if (p.data || p.depth > 0 || p.parts.length === 0 || /^(this|\.)$/.test(p.original) || p.original.startsWith('this.')) return;
    const dotted = p.parts.join('.');
    optional ||= guards.some((g) => dotted === g || dotted.startsWith(`${g}.`));
    const line = sf.firstLine + p.loc.start.line - 1;
    const col = p.loc.start.column + 1 + (p.loc.start.line === 1 ? opts.columnOffset ?? 0 : 0);
    out.push({ path: dotted, optional, file, line, col, ...(opts.layout ? { layout: true } : {}) });
  };
  const expr = (n: Node | undefined, optional: boolean) => {
    if (!n) return;
    if (n.type === 'PathExpression') add(n as hbs.AST.PathExpression, optional);
    else if (n.type === 'SubExpression') call(n as hbs.AST.SubExpression);
  };
  const call = (n: { path: Node; params: Node[]; hash?: hbs.AST.Hash }) => {
    const name = n.path.type === 'PathExpression' ? (n.path as hbs.AST.PathExpression).original : '';
    n.params.forEach((p, i) => expr(p, (name === 'fallback' && i === 0) || name === 'if' || name === 'unless'));
    for (const pair of n.hash?.pairs ?? []) expr(pair.value, false);
  };
  const visit = (n: Node | null | undefined) => {
    if (!n) return;
    switch (n.type) {
      case 'Program':
        for (const s of (n as hbs.AST.Program).body) visit(s);
        break;
      case 'MustacheStatement': {
        const m = n as hbs.AST.MustacheStatement;
        const name = m.path.type === 'PathExpression' ? (m.path as hbs.AST.PathExpression).original : '';
        if (m.params.length || m.hash?.pairs.length || isHelper(name)) call(m);
        else expr(m.path, false);
        break;
      }
      case 'BlockStatement': {
        const b = n as hbs.AST.BlockStatement;
        call(b);
        const name = b.path.type === 'PathExpression' ? (b.path as hbs.AST.PathExpression).original : '';
        if (name === 'each' || name === 'with') break; // another context inside
        const tested = name === 'if' && b.params[0]?.type === 'PathExpression' ? (b.params[0] as hbs.AST.PathExpression).parts.join('.') : null;
        if (tested) guards.push(tested);
        visit(b.program);
        if (tested) guards.pop();
        visit(b.inverse);
        break;
      }
      case 'PartialStatement':
      case 'PartialBlockStatement': {
        const p = n as hbs.AST.PartialStatement;
        for (const x of p.params) expr(x, false);
        for (const pair of p.hash?.pairs ?? []) expr(pair.value, false);
        break;
      }
      default:
        break;
    }
  };
  visit(program);
}

/** Column where a front-matter value starts on its line (`subject: "` -> 10), so positions point into the file. */
function frontMatterOffset(text: string, line: number, value: string): number {
  const l = text.split('\n')[line - 1] ?? '';
  const at = l.indexOf(value.slice(0, Math.min(20, value.length)));
  return at >= 0 ? at : 0;
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Variable uses of every template in the folder (templates that do not load are left to the catalog and renderer). */
export function readTemplateUses(dir: string = DEFAULT_TEMPLATES_DIR): Record<string, TemplateVarUse[]> {
  const out: Record<string, TemplateVarUse[]> = {};
  const layouts = new Map<string, TemplateVarUse[]>();
  for (const id of listTemplateIds(dir)) {
    let tpl;
    try {
      tpl = loadTemplate(id, dir);
    } catch {
      continue;
    }
    const uses: TemplateVarUse[] = [];
    const fileText = readOrEmpty(tpl.subject.file);
    usesIn(tpl.subject, uses, { columnOffset: frontMatterOffset(fileText, tpl.subject.firstLine, tpl.subject.source) });
    if (tpl.preheader) usesIn(tpl.preheader, uses, { columnOffset: frontMatterOffset(fileText, tpl.preheader.firstLine, tpl.preheader.source) });
    usesIn(tpl.html, uses);
    if (tpl.text) usesIn(tpl.text, uses);
    if (tpl.layout) {
      let l = layouts.get(tpl.layout);
      if (!l) {
        l = [];
        try {
          const layout = loadLayout(tpl.layout, dir);
          usesIn(layout.html, l, { layout: true });
          if (layout.text) usesIn(layout.text, l, { layout: true });
        } catch {
          /* a missing layout is the renderer's error */
        }
        layouts.set(tpl.layout, l);
      }
      uses.push(...l);
    }
    out[id] = uses;
  }
  return out;
}
