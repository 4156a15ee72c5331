/**
 * The custom search attributes as data, for registration: `temporal server start-dev` flags
 * (`devServerSearchAttributeArgs()`), TestWorkflowEnvironment options, or operatorService.addSearchAttributes.
 */
import type { Connection } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { SOJOURN_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

export { SOJOURN_SEARCH_ATTRIBUTES };

/** [{ name: 'SojournJourney', type: 'Keyword' }, ...] in the names the Temporal CLI and operator API use. */
export type SearchAttributeTypeName = 'Keyword' | 'Int' | 'Text' | 'Datetime' | 'Bool' | 'Double' | 'KeywordList';
export const SEARCH_ATTRIBUTES: readonly { name: string; type: SearchAttributeTypeName }[] = SOJOURN_SEARCH_ATTRIBUTES.map((k) => ({
  name: k.name, type: TypedSearchAttributes.toMetadataType(k.type) as SearchAttributeTypeName,
}));

/** ['--search-attribute', 'SojournJourney=Keyword', ...] for `temporal server start-dev`. */
export function devServerSearchAttributeArgs(): string[] {
  return SEARCH_ATTRIBUTES.flatMap((a) => ['--search-attribute', `${a.name}=${a.type}`]);
}

/** temporal.api.enums.v1.IndexedValueType numbers (the proto package is not a direct dependency). */
const INDEXED_VALUE_TYPE: Record<SearchAttributeTypeName, number> = {
  Text: 1, Keyword: 2, Int: 3, Double: 4, Bool: 5, Datetime: 6, KeywordList: 7,
};

export interface RegistrationResult { added: string[]; existing: string[] }

/**
 * Registers the attributes through the operator service (`sojourn setup`, the test environments).
 * Idempotent: attributes that exist with the right type are left alone; one that exists with another
 * type is an error naming it. Works on a self-hosted cluster, the dev server and the time-skipping test
 * server (which otherwise rejects upserts: "search attribute ... is not defined"). Temporal Cloud does
 * not allow it through this API: the error then says to add them in the Cloud UI or with `tcld`.
 */
export async function registerSearchAttributes(connection: Connection, namespace = 'default'): Promise<RegistrationResult> {
  let known: Record<string, number> | null = null;
  try {
    const r = await connection.operatorService.listSearchAttributes({ namespace });
    known = { ...(r.systemAttributes ?? {}), ...(r.customAttributes ?? {}) } as Record<string, number>;
  } catch (err) {
    // The time-skipping test server does not list; adding and ignoring "already exists" is enough there.
    if ((err as { code?: number }).code !== 12 /* UNIMPLEMENTED */) throw cloudHint(err);
  }
  const conflicts = known ? SEARCH_ATTRIBUTES.filter((a) => a.name in known && known[a.name] !== INDEXED_VALUE_TYPE[a.type]) : [];
  if (conflicts.length) {
    throw new Error(`search attribute(s) already registered with another type: ${conflicts.map((a) => `${a.name} (want ${a.type})`).join(', ')}`);
  }
  const missing = known ? SEARCH_ATTRIBUTES.filter((a) => !(a.name in known)) : [...SEARCH_ATTRIBUTES];
  const existing = SEARCH_ATTRIBUTES.filter((a) => !missing.includes(a)).map((a) => a.name);
  if (missing.length === 0) return { added: [], existing };
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((a) => [a.name, INDEXED_VALUE_TYPE[a.type]])),
    });
  } catch (err) {
    if (/already exists/i.test((err as Error).message)) return { added: [], existing: SEARCH_ATTRIBUTES.map((a) => a.name) };
    throw cloudHint(err);
  }
  return { added: missing.map((a) => a.name), existing };
}

function cloudHint(err: unknown): Error {
  const e = err as { code?: number; message?: string };
  if (e.code === 7 /* PERMISSION_DENIED */ || e.code === 16 /* UNAUTHENTICATED */) {
    return new Error(`${e.message ?? 'permission denied'}: the operator service refused. On Temporal Cloud add the search attributes in the Cloud UI or with tcld: ${SEARCH_ATTRIBUTES.map((a) => `${a.name}=${a.type}`).join(', ')}`);
  }
  return err as Error;
}
