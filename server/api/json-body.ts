/**
 * The API's JSON body parser. Fastify's own parser decodes bytes leniently (an invalid UTF-8 sequence
 * becomes U+FFFD and is stored as such) and has no nesting limit. This one refuses, with the JSON
 * pointer of the place, a body that is not valid UTF-8 or nests deeper than `MAX_JSON_DEPTH`; the depth
 * is checked on the text before `JSON.parse`, so nothing downstream (validation, the database driver)
 * ever walks a deep structure.
 */
import type { FastifyInstance } from 'fastify';
import { RequestError } from './errors';

/** Deepest nesting of objects and arrays accepted in a request body (the API's schemas need 4). */
export const MAX_JSON_DEPTH = 32;

/** Byte offset of the first invalid UTF-8 sequence (RFC 3629: no overlongs, surrogates or > U+10FFFF), or -1. */
export function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const b = buf[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    // [sequence length, allowed range of the second byte] by lead byte (RFC 3629 table 3-7).
    const shape: [number, number, number] | null =
      b >= 0xc2 && b <= 0xdf ? [2, 0x80, 0xbf]
        : b === 0xe0 ? [3, 0xa0, 0xbf]
          : b === 0xed ? [3, 0x80, 0x9f]
            : b >= 0xe1 && b <= 0xef ? [3, 0x80, 0xbf]
              : b === 0xf0 ? [4, 0x90, 0xbf]
                : b >= 0xf1 && b <= 0xf3 ? [4, 0x80, 0xbf]
                  : b === 0xf4 ? [4, 0x80, 0x8f]
                    : null;
    if (!shape) return i;
    const [len, min, max] = shape;
    if (i + len > n) return i;
    if (buf[i + 1] < min || buf[i + 1] > max) return i;
    for (let k = 2; k < len; k++) if ((buf[i + k] & 0xc0) !== 0x80) return i;
    i += len;
  }
  return -1;
}

type Frame = { kind: 'object'; key: string | null; wantKey: boolean } | { kind: 'array'; index: number };

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

function pointerOf(stack: Frame[]): string {
  return stack.map((f) => '/' + (f.kind === 'array' ? String(f.index) : escapePointer(f.key ?? ''))).join('');
}

/**
 * Walks JSON text (possibly cut short) and tracks where it is. Returns the pointer of the value being
 * read at `end` and whether it stopped inside a property name, or the pointer where nesting first went
 * deeper than `maxDepth`. Malformed text is left to JSON.parse.
 */
export function scanJson(text: string, maxDepth = Infinity, end = text.length): { pointer: string; inKey: boolean; tooDeep: boolean } {
  const stack: Frame[] = [];
  let i = 0;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const top = stack[stack.length - 1];
      const isKey = top?.kind === 'object' && top.wantKey;
      let j = i + 1;
      let raw = '';
      while (j < end && text.charCodeAt(j) !== 0x22) {
        if (text.charCodeAt(j) === 0x5c /* \ */) j++;
        j++;
      }
      if (j >= end) {
        if (isKey) {
          raw = text.slice(i + 1, end);
          return { pointer: `${pointerOf(stack.slice(0, -1))}/${escapePointer(safeUnescape(raw))}`, inKey: true, tooDeep: false };
        }
        return { pointer: pointerOf(stack), inKey: false, tooDeep: false };
      }
      if (isKey && top.kind === 'object') {
        top.key = safeUnescape(text.slice(i + 1, j));
        top.wantKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth) return { pointer: pointerOf(stack), inKey: false, tooDeep: true };
      stack.push(c === 0x7b ? { kind: 'object', key: null, wantKey: true } : { kind: 'array', index: 0 });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.kind === 'array') top.index++;
      else if (top) top.wantKey = true;
    }
    i++;
  }
  return { pointer: pointerOf(stack), inKey: false, tooDeep: false };
}

function safeUnescape(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses a request body: strict UTF-8, bounded depth, then JSON.parse. Throws a RequestError (400) naming the place. */
export function parseJsonBody(body: Buffer, maxDepth = MAX_JSON_DEPTH): unknown {
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    const at = firstInvalidUtf8(body);
    const prefix = new TextDecoder('utf-8').decode(body.subarray(0, Math.max(0, at)));
    const where = scanJson(prefix);
    throw new RequestError('E_BAD_UTF8', `invalid UTF-8 at byte ${at}${where.inKey ? ' (in a property name)' : ''}`, where.pointer);
  }
  const depth = scanJson(text, maxDepth);
  if (depth.tooDeep) throw new RequestError('E_TOO_DEEP', `JSON nested deeper than ${maxDepth} levels`, depth.pointer);
  if (text.trim() === '') throw new RequestError('E_BAD_REQUEST', 'empty JSON body', '');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new RequestError('E_BAD_REQUEST', 'body is not valid JSON', '');
  }
}

/** Replaces the JSON parser of `app` (and its children) with `parseJsonBody`. */
export function useStrictJson(app: FastifyInstance, maxDepth = MAX_JSON_DEPTH): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer, maxDepth));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
