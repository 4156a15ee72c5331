/**
 * The human-readable API reference at `/docs`: Swagger UI (@fastify/swagger-ui, served from the npm
 * package, nothing loaded from elsewhere) rendering the same OpenAPI document as `/v1/openapi.json`.
 * Public like the document. The API surface's CSP forbids scripts, so this page gets its own policy:
 * scripts, styles and fetches from this origin only.
 */
import type { FastifyInstance } from 'fastify';
import swaggerUi from '@fastify/swagger-ui';

export const DOCS_PATH = '/docs';

const DOCS_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Registers /docs in a context that has @fastify/swagger registered (server/api/index.ts). */
export async function registerDocsPage(app: FastifyInstance): Promise<void> {
  await app.register(async (docs) => {
    docs.addHook('onSend', async (_req, reply, payload) => {
      reply.header('content-security-policy', DOCS_CSP);
      return payload;
    });
    await docs.register(swaggerUi, {
      routePrefix: DOCS_PATH,
      staticCSP: false,
      uiConfig: { docExpansion: 'list', deepLinking: true, defaultModelsExpandDepth: 0 },
    });
  });
}
