/**
 * `Idempotency-Key` on every POST of the API: the first request with a key runs and its answer (any
 * status below 500) is stored; a request with the same key within 24 hours gets that answer again,
 * with `Idempotent-Replayed: true`, and runs nothing. The same key with a different method, path or
 * body is refused (422), and a key whose first request is still running answers 409. A 5xx answer is
 * not kept, so the client's retry runs again. Lookups and claims are by `_id` (data/idempotency-model.ts).
 *
 * Registered in the API's authenticated context with fastify's skip-override, so its hooks apply to
 * every route of that context, whichever file declares the route.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { IdempotencyModel, type IdempotencyDoc } from '../../data/idempotency-model';
import { isDuplicateKey } from '../../data/duplicate-key';
import { sendError } from './errors';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const claims = new WeakMap<FastifyRequest, string>();

export interface IdempotencyOptions { now?: () => Date }

async function idempotency(app: FastifyInstance, opts: IdempotencyOptions): Promise<void> {
  const now = opts.now ?? (() => new Date());

  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.method !== 'POST') return;
    const key = req.headers[IDEMPOTENCY_HEADER];
    if (key === undefined) return;
    if (typeof key !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(key)) {
      return sendError(reply, 400, { code: 'E_IDEMPOTENCY_KEY', message: 'Idempotency-Key is 1-255 visible ASCII characters', pointer: '/headers/idempotency-key' });
    }
    const _id = sha(`idem:${key}`);
    const fingerprint = sha(`${req.method} ${req.url}\n${typeof req.body === 'string' ? req.body : JSON.stringify(req.body ?? null)}`);
    const fresh: IdempotencyDoc = { _id, fingerprint, state: 'pending', status: null, contentType: null, body: null, createdAt: now() };
    try {
      await IdempotencyModel.collection.insertOne(fresh as never);
      claims.set(req, _id);
      return;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const stored = await IdempotencyModel.findById(_id).lean<IdempotencyDoc>().exec();
    if (!stored || now().getTime() - new Date(stored.createdAt).getTime() > IDEMPOTENCY_TTL_MS) {
      // Expired (or removed after a 5xx): take it over with a compare-and-set on what we read.
      const r = stored
        ? await IdempotencyModel.collection.replaceOne({ _id, createdAt: stored.createdAt } as never, fresh as never)
        : await IdempotencyModel.collection.insertOne(fresh as never).then(() => ({ matchedCount: 1 }), () => ({ matchedCount: 0 }));
      if (r.matchedCount === 1) {
        claims.set(req, _id);
        return;
      }
      return sendError(reply, 409, { code: 'E_IDEMPOTENCY_IN_PROGRESS', message: 'a request with this Idempotency-Key is being processed; retry later', pointer: '/headers/idempotency-key' });
    }
    if (stored.fingerprint !== fingerprint) {
      return sendError(reply, 422, { code: 'E_IDEMPOTENCY_KEY_REUSED', message: 'this Idempotency-Key was used for a different request', pointer: '/headers/idempotency-key' });
    }
    if (stored.state !== 'done') {
      return sendError(reply, 409, { code: 'E_IDEMPOTENCY_IN_PROGRESS', message: 'a request with this Idempotency-Key is being processed; retry later', pointer: '/headers/idempotency-key' });
    }
    reply.header('idempotent-replayed', 'true');
    if (stored.contentType) reply.header('content-type', stored.contentType);
    return reply.code(stored.status ?? 200).send(stored.body ?? '');
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const _id = claims.get(req);
    if (!_id) return payload;
    claims.delete(req);
    if (reply.statusCode >= 500) {
      await IdempotencyModel.deleteOne({ _id, state: 'pending' });
      return payload;
    }
    const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : payload == null ? '' : JSON.stringify(payload);
    const ct = reply.getHeader('content-type');
    await IdempotencyModel.updateOne({ _id }, { $set: { state: 'done', status: reply.statusCode, contentType: typeof ct === 'string' ? ct : null, body } });
    return payload;
  });
}

// skip-override (what fastify-plugin sets): the hooks belong to the context that registers this.
(idempotency as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export const idempotencyPlugin = idempotency;
