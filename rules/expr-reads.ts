/**
 * Which fields of `contact` an expression reads: the first name after `contact.` in every member
 * access (`contact.consent.email` reads `consent`). The dispatcher uses it to leave runs alone when an
 * event cannot change what their `exit_when` reads (decision 43).
 */
import type { ASTNode } from '@marcbachmann/cel-js';
import { celEnvironment } from './cel-env';

/** A bare use of `contact` (passed to a function, indexed with brackets): it may read anything. */
class ReadsAll extends Error {}

function walk(n: unknown, out: Set<string>): void {
  if (Array.isArray(n)) {
    for (const x of n) walk(x, out);
    return;
  }
  if (!n || typeof n !== 'object' || !('op' in n)) return;
  const node = n as ASTNode;
  if (node.op === '.') {
    let root: ASTNode = node;
    let first: unknown = null;
    while (root.op === '.') {
      first = root.args[1];
      root = root.args[0] as ASTNode;
    }
    if (root.op === 'id' && root.args === 'contact' && typeof first === 'string') {
      out.add(first);
      return;
    }
  }
  if (node.op === 'id' && node.args === 'contact') throw new ReadsAll();
  walk(node.args, out);
}

/**
 * The top-level contact fields `source` reads, sorted; null when it may read any (the whole contact is
 * used, or the expression does not parse).
 */
export function contactFieldsRead(source: string): string[] | null {
  let ast: ASTNode;
  try {
    ast = celEnvironment().parse(source).ast;
  } catch {
    return null;
  }
  const out = new Set<string>();
  try {
    walk(ast, out);
  } catch (err) {
    if (err instanceof ReadsAll) return null;
    throw err;
  }
  return [...out].sort();
}
