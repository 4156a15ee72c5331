/**
 * API-key authentication as an `onRequest` hook. It is attached to a fastify context (the /v1 API) or
 * to a route (POST /bounces), so it runs for every request the router mapped there, whatever the
 * spelling of the URL, and before the body is read.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { safeEqual } from '../lib/crypto';

/** The key a request presents: `Authorization: Bearer <key>` (scheme case-insensitive, RFC 7235) or `X-API-Key`. */
export function presentedKey(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer +(\S+)$/i.exec(auth);
    return m ? m[1] : undefined;
  }
  const x = req.headers['x-api-key'];
  return typeof x === 'string' ? x : undefined;
}

/** An `onRequest` hook refusing (401, E_AUTH) a request without the right key; compared in constant time. */
export function requireApiKey(apiKey: string) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const key = presentedKey(req);
    if (key === undefined || !safeEqual(key, apiKey)) {
      return reply.code(401).send({ error: { code: 'E_AUTH', message: 'missing or wrong API key', pointer: '' } });
    }
  };
}
