/**
 * Reads the time-zone names people write in spreadsheets ("Shanghai", "GMT+8", "EST", "asia/shanghai",
 * "Japan") as IANA zones, from maintained data rather than a hand-written table: the zone list of Intl
 * (with the aliases of `countries-and-timezones`), cities from `city-timezones`, abbreviations and raw
 * offsets from `@vvo/tzdb`, countries from `countries-and-timezones`.
 *
 * Every answer says how sure it is, so the importer can report guesses:
 * - `exact`: already an IANA zone as the contact schema stores it;
 * - `mapped`: one meaning only (a case or alias spelling of a zone, the city a zone is named after, a
 *   city or country with one zone, UTC/GMT, a whole-hour offset as `Etc/GMT∓N`);
 * - `guessed`: several candidates that agree on the UTC offset, or one that dwarfs the others by
 *   population (`EST` → America/New_York, `London` → Europe/London over London, Ontario);
 * - otherwise an error: unknown, or ambiguous across offsets (`CST`: Chicago or Shanghai).
 */
import cityTimezones from 'city-timezones';
import rawTimeZones from '@vvo/tzdb/raw-time-zones.json';
import countriesAndTimezones from 'countries-and-timezones';
import { isTimeZone } from '../rules/duration';

export type ZoneReading =
  | { ok: true; zone: string; how: 'exact' | 'mapped' | 'guessed'; note: string | null }
  | { ok: false; code: 'E_TIMEZONE' | 'E_TIMEZONE_AMBIGUOUS'; message: string };

/** Longer inputs are refused before any lookup (no zone name comes close). */
export const MAX_ZONE_INPUT = 64;
/** A candidate wins a guess when its population is at least this many times all others together. */
const DOMINANCE = 10;

interface Indexes {
  /** lower-case IANA name or alias -> canonical spelling */
  names: Map<string, string>;
  /** normalised city name -> zone -> population (IANA city names get Infinity) */
  cities: Map<string, Map<string, number>>;
  /** abbreviation (upper case) -> zones */
  abbreviations: Map<string, Set<string>>;
  /** zone -> standard offset in minutes */
  offsets: Map<string, number>;
  /** zone -> population of the cities in it (for tie-breaks) */
  population: Map<string, number>;
  /** normalised country name or code -> zones */
  countries: Map<string, string[]>;
}

let indexes: Indexes | null = null;

/** Lower case, no accents, "_" and "-" as spaces, single spaces. */
export function normaliseName(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/[_\-]+/g, ' ').replace(/\s+/g, ' ').trim();
}

function build(): Indexes {
  const names = new Map<string, string>();
  const zones = Intl.supportedValuesOf('timeZone');
  // Area/Location names only: legacy names without an area (EST, CET, Japan) are read as what they are.
  for (const z of zones) if (z.includes('/')) names.set(z.toLowerCase(), z);
  for (const z of Object.values(countriesAndTimezones.getAllTimezones({ deprecated: true }))) {
    if (z.name.includes('/') && !names.has(z.name.toLowerCase()) && isTimeZone(z.name)) names.set(z.name.toLowerCase(), z.name);
  }
  const population = new Map<string, number>();
  const cities = new Map<string, Map<string, number>>();
  const addCity = (name: string, zone: string, pop: number) => {
    if (!isTimeZone(zone)) return;
    const k = normaliseName(name);
    if (!k) return;
    let m = cities.get(k);
    if (!m) cities.set(k, (m = new Map()));
    m.set(zone, Math.max(m.get(zone) ?? 0, pop));
  };
  for (const c of cityTimezones.cityMapping) {
    population.set(c.timezone, (population.get(c.timezone) ?? 0) + (c.pop || 0));
    addCity(c.city, c.timezone, c.pop || 0);
    if (c.city_ascii && c.city_ascii !== c.city) addCity(c.city_ascii, c.timezone, c.pop || 0);
  }
  // The city a zone is named after means that zone ("Paris" is Europe/Paris, not Paris, Texas).
  for (const z of zones) {
    const city = z.split('/').pop()!;
    if (z.includes('/') && !/^(Etc|GMT)/.test(z)) addCity(city, z, Infinity);
  }
  const abbreviations = new Map<string, Set<string>>();
  const offsets = new Map<string, number>();
  const addAbbr = (a: string, zone: string) => {
    const k = a.toUpperCase();
    if (!/^[A-Z]{2,5}$/.test(k)) return;
    if (!abbreviations.has(k)) abbreviations.set(k, new Set());
    abbreviations.get(k)!.add(zone);
  };
  const jan = new Date(Date.UTC(2025, 0, 15));
  const jul = new Date(Date.UTC(2025, 6, 15));
  for (const z of rawTimeZones as { name: string; abbreviation: string; rawOffsetInMinutes: number; mainCities: string[]; group: string[] }[]) {
    if (!isTimeZone(z.name)) continue;
    offsets.set(z.name, z.rawOffsetInMinutes);
    for (const g of z.group) if (isTimeZone(g)) offsets.set(g, z.rawOffsetInMinutes);
    addAbbr(z.abbreviation, z.name);
    for (const c of z.mainCities) addCity(c, z.name, population.get(z.name) ?? 0);
    // Daylight-time abbreviations (EDT, PDT) as Intl itself prints them.
    for (const d of [jan, jul]) {
      const part = new Intl.DateTimeFormat('en-US', { timeZone: z.name, timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
      if (part && /^[A-Z]{2,5}$/.test(part.value)) addAbbr(part.value, z.name);
    }
  }
  const countries = new Map<string, string[]>();
  for (const c of Object.values(countriesAndTimezones.getAllCountries())) {
    const zs = c.timezones.filter((z) => isTimeZone(z));
    if (!zs.length) continue;
    countries.set(normaliseName(c.name), zs);
    countries.set(c.id.toLowerCase(), zs);
  }
  return { names, cities, abbreviations, offsets, population, countries };
}

function idx(): Indexes {
  return (indexes ??= build());
}

/** Picks among candidate zones: one -> mapped; a dominant one or one offset -> guessed; else ambiguous. */
function choose(input: string, weights: Map<string, number>, what: string): ZoneReading {
  const entries = [...weights.entries()].sort((a, b) => b[1] - a[1]);
  const [top, ...rest] = entries;
  if (entries.length === 1 || top[1] === Infinity) return { ok: true, zone: top[0], how: 'mapped', note: null };
  const others = rest.reduce((s, [, w]) => s + w, 0);
  const { offsets } = idx();
  const sameOffset = entries.every(([z]) => offsets.get(z) !== undefined && offsets.get(z) === offsets.get(top[0]));
  if (top[1] >= DOMINANCE * Math.max(others, 1) || sameOffset) {
    const alt = rest.slice(0, 3).map(([z]) => z).join(', ');
    return { ok: true, zone: top[0], how: 'guessed', note: `"${input}" read as ${top[0]} (${what}; also ${alt}${rest.length > 3 ? ', ...' : ''})` };
  }
  return {
    ok: false,
    code: 'E_TIMEZONE_AMBIGUOUS',
    message: `"${input}" is ambiguous (${what}: ${entries.slice(0, 4).map(([z]) => z).join(', ')}${entries.length > 4 ? ', ...' : ''}); write the IANA zone`,
  };
}

const OFFSET = /^(?:GMT|UTC|UT)?\s*([+\-−])\s*(\d{1,2})(?:(?::|h)?(\d{2}))?$/i;

function readUncached(input: string): ZoneReading {
  const text = input.trim();
  const unknown: ZoneReading = { ok: false, code: 'E_TIMEZONE', message: `"${text.slice(0, MAX_ZONE_INPUT)}" is not a time zone (write an IANA zone such as Asia/Shanghai, a city, or an offset such as GMT+8)` };
  if (text === '' || text.length > MAX_ZONE_INPUT) return unknown;
  if (isTimeZone(text) && (text.includes('/') || text === 'UTC')) {
    // Intl accepts any letter case; store the zone's own spelling (links such as US/Eastern stay as written).
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: text }).resolvedOptions().timeZone;
    return { ok: true, zone: resolved.toLowerCase() === text.toLowerCase() ? resolved : text, how: 'exact', note: null };
  }
  const ix = idx();
  const upper = text.toUpperCase();
  if (['UTC', 'GMT', 'Z', 'UT', 'ZULU'].includes(upper)) return { ok: true, zone: 'UTC', how: 'mapped', note: null };
  const named = ix.names.get(text.toLowerCase().replace(/\s+/g, '_'));
  if (named) return { ok: true, zone: named === 'Etc/UTC' || named === 'Etc/GMT' ? 'UTC' : named, how: 'mapped', note: null };
  const off = OFFSET.exec(text);
  if (off) {
    const sign = off[1] === '+' ? 1 : -1;
    const h = Number(off[2]);
    const m = Number(off[3] ?? 0);
    if (h > 14 || m >= 60) return unknown;
    const total = sign * (h * 60 + m);
    if (total === 0) return { ok: true, zone: 'UTC', how: 'mapped', note: null };
    // POSIX-style Etc zones invert the sign: UTC+8 is Etc/GMT-8 (no daylight saving).
    if (m === 0 && total >= -12 * 60) return { ok: true, zone: `Etc/GMT${sign > 0 ? '-' : '+'}${h}`, how: 'mapped', note: null };
    const weights = new Map<string, number>();
    for (const [z, o] of ix.offsets) if (o === total) weights.set(z, ix.population.get(z) ?? 0);
    if (!weights.size) return unknown;
    return choose(text, weights, `zones at UTC${off[1]}${off[2]}:${off[3] ?? '00'}`);
  }
  if (/^[A-Za-z]{2,5}$/.test(text) && ix.abbreviations.has(upper)) {
    const weights = new Map<string, number>();
    for (const z of ix.abbreviations.get(upper)!) weights.set(z, ix.population.get(z) ?? 0);
    const r = choose(text, weights, `zones that use ${upper}`);
    // An abbreviation names an offset, never one place: even a single candidate is a guess of the place.
    return r.ok && r.how === 'mapped' ? { ...r, how: 'guessed', note: `"${text}" read as ${r.zone}` } : r;
  }
  const name = normaliseName(text);
  const city = ix.cities.get(name);
  if (city) return choose(text, city, `places named ${text}`);
  // "City, Country" / "City, ST": keep the cities of that country or province.
  const comma = /^(.+?)\s*,\s*(.+)$/.exec(text);
  if (comma) {
    const where = normaliseName(comma[2]);
    const matches = new Map<string, number>();
    for (const c of cityTimezones.lookupViaCity(comma[1].trim())) {
      if ([c.iso2, c.iso3, c.country, c.province, c.state_ansi].some((v) => v && normaliseName(v) === where)) {
        matches.set(c.timezone, Math.max(matches.get(c.timezone) ?? 0, c.pop || 0));
      }
    }
    if (matches.size) return choose(text, matches, `places named ${comma[1].trim()} in ${comma[2].trim()}`);
  }
  const country = ix.countries.get(name);
  if (country) {
    const weights = new Map(country.map((z) => [z, ix.population.get(z) ?? 0] as const));
    return choose(text, weights, `zones of ${text}`);
  }
  return unknown;
}

const cache = new Map<string, ZoneReading>();
const CACHE_LIMIT = 10_000;

/** Reads one time-zone value as written (cached: spreadsheets repeat a few values many times). */
export function readTimeZone(input: string): ZoneReading {
  let r = cache.get(input);
  if (!r) {
    r = readUncached(input);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(input, r);
  }
  return r;
}

let countryNames: Map<string, string> | null = null;

/** A country as ISO 3166-1 alpha-2 from its code or English name ("China", "cn"), or null. */
export function readCountry(input: string): string | null {
  const k = normaliseName(input);
  if (/^[a-z]{2}$/.test(k)) return countriesAndTimezones.getCountry(k.toUpperCase()) ? k.toUpperCase() : null;
  countryNames ??= new Map(Object.values(countriesAndTimezones.getAllCountries()).map((c) => [normaliseName(c.name), c.id]));
  return countryNames.get(k) ?? null;
}
