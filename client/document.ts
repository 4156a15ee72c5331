/** The OpenAPI document as the server builds it (no database or Temporal needed), for generation and checks. */
import { buildServer } from '../server/app';
import { loadConfig } from '../lib/config';

export async function openApiDocument(): Promise<unknown> {
  const app = await buildServer({ config: { ...loadConfig({ SOJOURN_ENV: 'development' }), apiKey: 'document-only' }, logLevel: 'silent' });
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    return await (await fetch(`http://127.0.0.1:${port}/v1/openapi.json`)).json();
  } finally {
    await app.close();
  }
}
