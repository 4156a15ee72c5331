/**
 * Spellings of one URL path that a router may or may not map to the same route: each character
 * percent-encoded (upper and lower hex), everything encoded, double-encoded, encoded slashes, case
 * changes, doubled, trailing, dot and backslash separators, and suffixes (query, matrix, NUL).
 */
export function pathVariants(path: string): string[] {
  const out = new Set<string>([path]);
  const enc = (c: string, lower = false) => {
    const h = [...Buffer.from(c, 'utf8')].map((b) => '%' + b.toString(16).padStart(2, '0')).join('');
    return lower ? h : h.toUpperCase();
  };
  const chars = [...path];
  chars.forEach((c, i) => {
    if (c === '/') return;
    for (const lower of [false, true]) out.add(chars.slice(0, i).join('') + enc(c, lower) + chars.slice(i + 1).join(''));
    out.add(chars.slice(0, i).join('') + enc(enc(c)) + chars.slice(i + 1).join(''));
  });
  out.add(chars.map((c) => (c === '/' ? c : enc(c))).join(''));
  out.add(chars.map((c) => (c === '/' ? c : enc(enc(c)))).join(''));
  out.add(chars.map((c, i) => (c === '/' && i > 0 ? '%2F' : c)).join(''));
  out.add(chars.map((c, i) => (c === '/' && i > 0 ? '%252F' : c)).join(''));
  out.add(path.toUpperCase());
  out.add(path.replace(/^\/v1/, '/V1'));
  out.add(path.split('/').map((s, i) => (i === 2 ? s.toUpperCase() : s)).join('/'));
  out.add('/' + path);
  out.add(path.replace(/\//g, '//'));
  out.add(path + '/');
  out.add(path + '//');
  out.add(path.replace(/^\//, '/./'));
  out.add(path.replace(/\/([^/]+)$/, '/./$1'));
  out.add(path.replace(/\/([^/]+)$/, '/x/../$1'));
  out.add(path.replace(/\/([^/]+)$/, '/%2e%2e/$1'));
  out.add(path.replace(/\//g, '\\'));
  out.add(path.replace(/\/([^/]+)$/, '\\$1'));
  out.add(path + '?');
  out.add(path + '?x=1');
  out.add(path + ';x=1');
  out.add(path + '#x');
  out.add(path + '%00');
  out.add(path + '%20');
  out.add(path.replace(/^\//, '/%2F'));
  out.add(path.replace(/^\/v1/, '/v%31'));
  out.add(path.replace(/^\/v1/, '/%76%31'));
  out.add(path.replace(/^\/v1/, '/%2576%2531'));
  out.add(path.replace(/^\/v1/, '/\uff56\uff11'));
  return [...out];
}
