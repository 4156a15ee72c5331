/** Durations and local times as marketers write them: "30m", "36h", "2d", "1w", "1d12h"; "09:00". */

const UNIT_MS: Record<string, number> = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

/** Milliseconds for a duration like "2d" or "1d12h", or null when it isn't one. */
export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (!/^(\d+(w|d|h|m|s))+$/.test(s)) return null;
  let ms = 0;
  for (const m of s.matchAll(/(\d+)(w|d|h|m|s)/g)) ms += Number(m[1]) * UNIT_MS[m[2]];
  return ms > 0 ? ms : null;
}

/** Formats milliseconds back to the shortest "2d"/"36h" form (used for derived step ids). */
export function formatDuration(ms: number): string {
  let rest = ms;
  let out = '';
  for (const u of ['d', 'h', 'm', 's']) {
    const n = Math.floor(rest / UNIT_MS[u]);
    if (n > 0) { out += `${n}${u}`; rest -= n * UNIT_MS[u]; }
  }
  return out || '0s';
}

/** "HH:MM" 24h. */
export function isLocalTime(text: string): boolean {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  return !!m && Number(m[1]) < 24 && Number(m[2]) < 60;
}

/**
 * Longest text handed to Intl as a time zone or locale. The longest IANA zone name has 32 characters,
 * BCP 47 locales in practice fewer than 35; Intl takes seconds to reject a 500 KB string.
 */
export const MAX_INTL_SCALAR = 64;

const tzCache = new Map<string, boolean>();
/** IANA time zone check through Intl (deterministic, no I/O). */
export function isTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.length === 0 || tz.length > MAX_INTL_SCALAR || !/^[A-Za-z_+\-0-9/]+$/.test(tz)) return false;
  let ok = tzCache.get(tz);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      ok = tz.length > 0 && /^[A-Za-z_+\-0-9/]+$/.test(tz);
    } catch {
      ok = false;
    }
    if (tzCache.size >= 1000) tzCache.clear();
    tzCache.set(tz, ok);
  }
  return ok;
}

/** A signed whole number of days (`-14d`, `1d`, `-2w`) for date offsets, or null. */
export function parseDayOffset(text: string): number | null {
  const m = /^([+-]?)(.+)$/.exec(text.trim());
  const ms = m ? parseDuration(m[2]) : null;
  if (ms === null || ms % 86_400_000 !== 0) return null;
  return (m![1] === '-' ? -1 : 1) * (ms / 86_400_000);
}
