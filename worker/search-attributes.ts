/**
 * Custom search attributes every journey run keeps up to date, so ops can filter runs in the
 * Temporal UI, e.g. `SojournJourney = "birthday" AND SojournStep = "wait_for_click"`.
 * Plain data: the dev server registers them at start (`--search-attribute Name=Type`), tests too.
 */
export const SEARCH_ATTRIBUTES = [
  { name: 'SojournJourney', type: 'Keyword' },
  { name: 'SojournVersion', type: 'Int' },
  { name: 'SojournStep', type: 'Keyword' },
  { name: 'SojournContact', type: 'Keyword' },
  { name: 'SojournStatus', type: 'Keyword' },
] as const satisfies readonly { name: string; type: 'Keyword' | 'Int' }[];
