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

/**
 * Registers the attributes through the operator API. Works on the dev server and on the Java
 * time-skipping test server (which otherwise rejects upserts: "search attribute ... is not defined").
 * Idempotent: attributes that already exist are left alone.
 */
export async function registerSearchAttributes(connection: Connection, namespace = 'default'): Promise<void> {
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTES.map((a) => [a.name, INDEXED_VALUE_TYPE[a.type]])),
    });
  } catch (err) {
    if (!/already exists/i.test((err as Error).message)) throw err;
  }
}
