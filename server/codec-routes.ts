/**
 * The codec endpoint for the Temporal UI and CLI (`--ui-codec-endpoint`, `temporal workflow show
 * --codec-endpoint`): POST /codec/decode and /codec/encode with `{ payloads: [{ metadata, data }] }`
 * (base64 values), the protocol of Temporal's codec servers. Payloads stay encrypted in Temporal; only
 * someone who reaches this endpoint, which holds the keys, sees them decoded. Browsers call it from the
 * UI's origin, so it answers CORS for the configured origins only. On in development (the local UI on
 * loopback); in production opt-in (SOJOURN_CODEC_ENDPOINT) and behind `Authorization: Bearer <API key>`.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Payload } from '@temporalio/common';
import { EncryptionCodec, type PayloadKeyRing } from '../lib/payload-codec';
import { safeEqual } from '../lib/crypto';
import { errorHandler, sendError } from './api/errors';

export interface CodecRouteOptions {
  keys: PayloadKeyRing;
  /** Origins allowed to call from a browser (the Temporal UI). */
  corsOrigins: string[];
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  token: string | null;
}

interface JsonPayload { metadata?: Record<string, string>; data?: string }

const base64 = { type: 'string', maxLength: 4_000_000, pattern: '^[A-Za-z0-9+/]*={0,2}$' } as const;
const body = {
  type: 'object', required: ['payloads'], additionalProperties: false,
  properties: {
    payloads: {
      type: 'array', maxItems: 1000,
      items: {
        type: 'object', additionalProperties: false,
        properties: { metadata: { type: 'object', maxProperties: 64, additionalProperties: base64 }, data: base64 },
      },
    },
  },
} as const;

const toPayload = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

export const codecPlugin: FastifyPluginAsync<CodecRouteOptions> = async (app: FastifyInstance, opts) => {
  const codec = new EncryptionCodec(opts.keys);
  app.setErrorHandler(errorHandler);
  const cors = (req: FastifyRequest, reply: FastifyReply) => {
    const origin = req.headers.origin;
    if (origin && opts.corsOrigins.includes(origin)) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-allow-credentials', 'true');
      reply.header('access-control-allow-methods', 'POST, OPTIONS');
      reply.header('access-control-allow-headers', 'content-type, x-namespace, authorization');
      reply.header('vary', 'origin');
    }
  };
  app.options('/codec/:op', async (req, reply) => {
    cors(req, reply);
    return reply.code(204).send();
  });
  for (const op of ['decode', 'encode'] as const) {
    app.post(`/codec/${op}`, { schema: { body } }, async (req, reply) => {
      cors(req, reply);
      if (opts.token !== null && !safeEqual(req.headers.authorization ?? '', `Bearer ${opts.token}`)) {
        return sendError(reply, 401, { code: 'E_UNAUTHORIZED', message: 'the codec endpoint needs Authorization: Bearer <SOJOURN_API_KEY>', pointer: '' });
      }
      const payloads = (req.body as { payloads: JsonPayload[] }).payloads.map(toPayload);
      try {
        const out = op === 'decode' ? await codec.decode(payloads) : await codec.encode(payloads);
        return { payloads: out.map(toJson) };
      } catch (err) {
        return sendError(reply, 422, { code: 'E_CODEC', message: (err as Error).message.replace(/^Unsupported state or unable to authenticate data$/, 'a payload does not decrypt with its key (tampered or wrong key)'), pointer: '/payloads' });
      }
    });
  }
};
