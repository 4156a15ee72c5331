/**
 * Which addresses a journey's outbound calls (webhook steps, owner notifications by webhook) may reach.
 * A journey author must not be able to make the worker call into its own network (SSRF): cloud metadata
 * at 169.254.169.254, the database, the Temporal frontend, admin ports on loopback. Pure code: the
 * compiler warns with it, and the activity applies it to the address it actually connects to
 * (activities/webhook-step.ts resolves the name and checks every answer, so DNS cannot smuggle a
 * private address past a check of the name).
 */

/** Special-purpose IPv4 ranges (RFC 6890 and successors) that are not the public internet. */
const V4_BLOCKED: [number, number][] = [
  [0x00000000, 8], // 0.0.0.0/8 "this network"
  [0x0a000000, 8], // 10/8 private
  [0x64400000, 10], // 100.64/10 carrier-grade NAT
  [0x7f000000, 8], // 127/8 loopback
  [0xa9fe0000, 16], // 169.254/16 link-local (cloud metadata)
  [0xac100000, 12], // 172.16/12 private
  [0xc0000000, 24], // 192.0.0/24 IETF protocol assignments
  [0xc0000200, 24], // 192.0.2/24 documentation
  [0xc0a80000, 16], // 192.168/16 private
  [0xc6120000, 15], // 198.18/15 benchmarking
  [0xc6336400, 24], // 198.51.100/24 documentation
  [0xcb007100, 24], // 203.0.113/24 documentation
  [0xe0000000, 4], // 224/4 multicast
  [0xf0000000, 4], // 240/4 reserved, broadcast
];

function parseV4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

/** Eight 16-bit groups of an IPv6 literal (with `::` and an embedded IPv4 tail), or null. */
function parseV6(text: string): number[] | null {
  let t = text.replace(/^\[|\]$/g, '').toLowerCase();
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  if (!/^[0-9a-f:.]+$/.test(t) || !t.includes(':')) return null;
  const lastColon = t.lastIndexOf(':');
  const last = t.slice(lastColon + 1);
  if (last.includes('.')) {
    // An IPv4 tail (::ffff:10.0.0.1) is two groups written in dotted form.
    const v4 = parseV4(last);
    if (v4 === null) return null;
    t = `${t.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = t.split('::');
  if (halves.length > 2) return null;
  const group = (s: string) => (s === '' ? [] : s.split(':').map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = group(halves[0]);
  const rest = halves.length === 2 ? group(halves[1]) : [];
  const known = head.length + rest.length;
  if (head.some(Number.isNaN) || rest.some(Number.isNaN)) return null;
  if (halves.length === 1 && known !== 8) return null;
  if (known > 8) return null;
  if (halves.length === 2 && known === 8) return null;
  return [...head, ...new Array<number>(8 - known).fill(0), ...rest];
}

/** True for an IP literal (v4 or v6) that is not a public internet address. null: not an IP literal. */
export function isNonPublicAddress(ip: string): boolean | null {
  const v4 = parseV4(ip);
  if (v4 !== null) return V4_BLOCKED.some(([base, bits]) => (v4 >>> (32 - bits)) === (base >>> (32 - bits)));
  const g = parseV6(ip);
  if (!g) return null;
  if (g.every((x) => x === 0)) return true; // ::
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return true; // ::1
  // ::ffff:a.b.c.d (mapped), 64:ff9b::a.b.c.d (NAT64): judge the IPv4 inside.
  if ((g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) || (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))) {
    return isNonPublicAddress(`${g[6] >>> 8}.${g[6] & 0xff}.${g[7] >>> 8}.${g[7] & 0xff}`);
  }
  if ((g[0] & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((g[0] & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((g[0] & 0xff00) === 0xff00) return true; // multicast
  if (g[0] === 0x2001 && g[1] === 0x0db8) return true; // documentation
  return false;
}

/** Names that never leave the machine or the site. */
export function isLocalHostName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost') || h.endsWith('.local') || h.endsWith('.internal') || h.endsWith('.home.arpa');
}

export type UrlProblem = { code: 'not_a_url' | 'scheme' | 'credentials'; message: string };

/** Shape problems of an outbound URL (any mode): parseable, http(s), no user:password in it. */
export function outboundUrlProblem(text: string): UrlProblem | null {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return { code: 'not_a_url', message: `"${text.length > 80 ? `${text.slice(0, 40)}...` : text}" is not a URL. Write it like https://crm.example.com/hooks/sojourn.` };
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return { code: 'scheme', message: `Only https:// (and http:// in development) URLs can be called, not ${u.protocol}.` };
  if (u.username || u.password) return { code: 'credentials', message: 'The URL carries a user name or password; journey files are not the place for secrets. The call is signed instead (docs/dsl.md, webhook).' };
  return null;
}

/** True when the URL's host is an IP literal outside the public internet, or a local name. */
export function urlTargetsPrivateHost(text: string): boolean {
  try {
    const host = new URL(text).hostname;
    return isLocalHostName(host) || isNonPublicAddress(host) === true;
  } catch {
    return false;
  }
}
