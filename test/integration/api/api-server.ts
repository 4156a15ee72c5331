/**
 * The API under test: the real apiPlugin (auth, validation, idempotency, every route file) on a real
 * loopback port, over a fresh database. `call` is plain fetch with the API key.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { useContactsDatabase, TEST_KEYS } from '../contacts/setup';
import { apiPlugin, type ApiOptions } from '../../../server/api';
import { loadConfig } from '../../../lib/config';

export const API_KEY = 'test-key';

export interface CallResult { status: number; headers: Headers; text: string; json: () => ReturnType<typeof JSON.parse> }

export function useApiServer(prefix: string, extra: Partial<ApiOptions> = {}) {
  const { contacts, db } = useContactsDatabase(prefix);
  const config = { ...loadConfig({ SOJOURN_ENV: 'development' }), apiKey: API_KEY, ...TEST_KEYS };
  const state = { app: null as FastifyInstance | null, base: '' };
  beforeAll(async () => {
    const app = Fastify();
    await app.register(apiPlugin, { config, contacts, ...extra });
    state.base = await app.listen({ port: 0, host: '127.0.0.1' });
    state.app = app;
  });
  afterAll(async () => state.app?.close());

  async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<CallResult> {
    const isText = typeof body === 'string';
    const res = await fetch(state.base + url, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, ...(body !== undefined ? { 'content-type': isText ? 'text/csv' : 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : isText ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  }
  return { contacts, db, config, state, call, base: () => state.base };
}
