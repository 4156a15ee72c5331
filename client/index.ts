/**
 * The typed Sojourn API client: openapi-fetch over the types openapi-typescript generated from the
 * server's OpenAPI document (client/schema.d.ts; `npm run gen:client`). Paths, parameters, bodies and
 * answers are checked by the compiler:
 *
 *   const api = createSojournClient('http://127.0.0.1:3000', process.env.SOJOURN_API_KEY!);
 *   const { data, error } = await api.GET('/v1/contacts', { params: { query: { limit: 100 } } });
 */
import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './schema';

export type { paths, components } from './schema';
export type SojournClient = Client<paths>;

export function createSojournClient(baseUrl: string, apiKey: string, opts: { fetch?: typeof fetch } = {}): SojournClient {
  return createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${apiKey}` }, fetch: opts.fetch });
}
