/**
 * Ways to alter a link token that a lenient decoder might still accept: changed, inserted, deleted
 * or case-flipped characters, padding, whitespace, the standard base64 letters `+/`, a last character
 * differing only in unused bits, percent-encoding, truncation, extra or moved dots.
 */
import fc from 'fast-check';

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const EXTRA = '+/=. \t\n\r%.~!*\u00e9\u0000';

export type Mutation = (token: string) => string;

const at = (t: string, i: number) => Math.min(Math.max(0, i), Math.max(0, t.length - 1));

export const mutationArb: fc.Arbitrary<{ name: string; apply: Mutation }> = fc.oneof(
  fc.tuple(fc.nat(), fc.constantFrom(...(B64URL + EXTRA))).map(([i, c]) => ({ name: 'replace', apply: (t: string) => t.slice(0, at(t, i)) + c + t.slice(at(t, i) + 1) })),
  fc.tuple(fc.nat(), fc.constantFrom(...(B64URL + EXTRA))).map(([i, c]) => ({ name: 'insert', apply: (t: string) => t.slice(0, at(t, i)) + c + t.slice(at(t, i)) })),
  fc.nat().map((i) => ({ name: 'delete', apply: (t: string) => t.slice(0, at(t, i)) + t.slice(at(t, i) + 1) })),
  fc.nat().map((i) => ({ name: 'flip-case', apply: (t: string) => { const k = at(t, i); const c = t[k]; return t.slice(0, k) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + t.slice(k + 1); } })),
  fc.constantFrom('=', '==', '===', '.', '%3D', ' ', '\n', '\t', '\r\n', '%20', '%0A').chain((pad) => fc.constantFrom<'end' | 'start' | 'dot'>('end', 'start', 'dot').map((where) => ({
    name: `pad-${where}`,
    apply: (t: string) => (where === 'end' ? t + pad : where === 'start' ? pad + t : t.replace('.', `${pad}.`)),
  }))),
  fc.constant({ name: 'standard-alphabet', apply: (t: string) => t.replace(/-/g, '+').replace(/_/g, '/') }),
  fc.integer({ min: 1, max: 3 }).map((x) => ({
    name: 'unused-bits',
    // The signature is 32 bytes in 43 characters: the last one carries 2 unused bits.
    apply: (t: string) => { const c = t[t.length - 1]; const j = B64URL.indexOf(c); return j < 0 ? t + 'A' : t.slice(0, -1) + B64URL[j ^ x]; },
  })),
  fc.integer({ min: 1, max: 3 }).map((x) => ({
    name: 'unused-bits-body',
    apply: (t: string) => { const d = t.indexOf('.'); const c = t[d - 1]; const j = B64URL.indexOf(c); return j < 0 ? t : t.slice(0, d - 1) + B64URL[j ^ x] + t.slice(d); },
  })),
  fc.nat().map((i) => ({ name: 'percent-encode', apply: (t: string) => { const k = at(t, i); return t.slice(0, k) + '%' + t.charCodeAt(k).toString(16).toUpperCase().padStart(2, '0') + t.slice(k + 1); } })),
  fc.nat().map((n) => ({ name: 'truncate', apply: (t: string) => t.slice(0, n % t.length) })),
  fc.constant({ name: 'swap-parts', apply: (t: string) => t.split('.').reverse().join('.') }),
  fc.constant({ name: 'double-dot', apply: (t: string) => t.replace('.', '..') }),
  fc.constant({ name: 'trailing-dot', apply: (t: string) => `${t}.` }),
);
